/* The self-test probe of a new session (probe.h). */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "ldm/util.h"
#include "probe.h"

static const uint16_t probe_ports[] = { 9, 7, 19, 13, 37, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12 };

/* A port on loopback the policy blocks for UDP (v4 and v6): the self-test's target. */
int
ldm_probe_pick_port(const struct daemon *d, const struct ldm_policy *p, uint16_t *ret)
{
	const struct ldm_lan lan = ldm_lan_current(d);

	for (size_t i = 0; i < ELEMENTSOF(probe_ports); i++) {
		struct ldm_flow f4 = { .family = AF_INET,
			               .proto = LDM_PROTO_UDP,
			               .dir = LDM_DIR_OUT,
			               .addr = { 127, 0, 0, 1 },
			               .port = probe_ports[i] };
		struct ldm_flow f6 = f4;
		struct ldm_verdict v4, v6;

		f6.family = AF_INET6;
		memset(f6.addr, 0, 16);
		f6.addr[15] = 1;
		if (ldm_policy_judge(p, &f4, &lan, &v4) == 0 && !v4.allow &&
		    ldm_policy_judge(p, &f6, &lan, &v6) == 0 && !v6.allow) {
			*ret = probe_ports[i];
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* The probe process: joins the session's cgroup, sends one UDP datagram to loopback per
 * family, exits with a bit set per family it could not send. Runs as root; never execs. */
static void
probe_child(const struct daemon *d, const struct session *s)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET,
		                  .sin_port = htons(s->probe_port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
		                   .sin6_port = htons(s->probe_port),
		                   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int rc = 0, fd;

	if (ldm_cgroup_move(&d->cg, s->name, getpid()) < 0)
		_exit(8);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, "ldm-probe", 9, 0, (struct sockaddr *)&a4, sizeof(a4)) < 0)
		rc |= errno == EPERM ? 0 : 1; /* EPERM: the verdict dropped it */
	if (s->probe6_wanted) {
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || sendto(fd, "ldm-probe", 9, 0, (struct sockaddr *)&a6, sizeof(a6)) < 0)
			rc |= errno == EPERM ? 0 : 2;
	}
	_exit(rc);
}

int
ldm_probe_start(struct daemon *d, struct session *s)
{
	pid_t pid;

	s->probe6_wanted = d->v6;
	s->probe_deadline = ldm_now_ms() + LDM_PROBE_TIMEOUT_MS;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		probe_child(d, s); /* never execs and exits at once: the fds it shares stay */
	s->probe_pid = pid;
	return 0;
}

void
ldm_probe_stop(struct session *s)
{
	if (s->probe_pid <= 0)
		return;
	/* It exits at once by itself; never leave a zombie behind. */
	(void)kill(s->probe_pid, SIGKILL);
	while (waitpid(s->probe_pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->probe_pid = 0;
}

bool
ldm_probe_collect(struct session *s, int *status)
{
	int st;

	if (s->probe_pid <= 0 || waitpid(s->probe_pid, &st, WNOHANG) != s->probe_pid)
		return false;
	s->probe_pid = 0;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	return true;
}

const char *
ldm_probe_failure(int status)
{
	if (status == 8)
		return "the probe could not join the session cgroup";
	if (status & 1)
		return "the IPv4 probe could not be sent (is the loopback interface up?)";
	return "the IPv6 probe could not be sent to ::1 (is IPv6 on loopback disabled?)";
}
