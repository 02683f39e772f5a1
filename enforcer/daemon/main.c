/* ldm-enforcerd: the root daemon. See ldm-enforcerd(8) and docs/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "notify.h"

int
main(int argc, char **argv)
{
	static struct daemon d;
	int r;

	ldm_config_defaults(&d.cfg);
	r = ldm_config_parse(&d.cfg, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "ldm-enforcerd: must run as root (it installs firewall rules and "
		                "makes cgroups)\n");
		return 1;
	}
	ldm_daemon_init(&d);
	if (!d.cfg.foreground)
		fprintf(stderr, "ldm-enforcerd: ready on %s\n", d.cfg.socket);
	/* Under Type=notify a daemon that cannot say so is failed by systemd's start timeout. */
	if ((r = ldm_notify("READY=1")) < 0)
		fprintf(stderr, "ldm-enforcerd: cannot tell the service manager it is ready: %s\n",
		        strerror(-r));
	r = ldm_daemon_run(&d);
	(void)ldm_notify("STOPPING=1");
	ldm_daemon_done(&d);
	return r < 0 ? 1 : 0;
}
