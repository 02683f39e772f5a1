/* Running iptables-restore / iptables-save: execve with a fixed argv, never a shell. */
#ifndef LDM_DAEMON_IPTABLES_H
#define LDM_DAEMON_IPTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* One tool run. */
struct ldm_ipt_tool {
	char name[24];
	pid_t pid;
	int pidfd, out, err; /* -1: closed */
	int rc;              /* 1 running, 0 ok, -errno */
	bool timed_out;
	bool commits; /* a restore: its ruleset changes are ours */
	struct timespec started;
	char errtext[1024]; /* what it wrote to stderr, truncated */
};

/* A commit: iptables-restore and ip6tables-restore running at the same time. */
struct ldm_ipt_commit {
	struct ldm_ipt_tool tool[2];
	size_t n;
	bool running;
	int rc; /* once ended: 0 if every tool succeeded, else the first failure */
};

/* Starts committing TEXT4 (iptables-restore --noflush) and TEXT6 (ip6tables-restore), either
 * may be NULL: two transactions, one per family, in about the time of one. */
int ldm_ipt_commit_start(struct ldm_ipt_commit *c, const char *text4, const char *text6);
/* Returns 1 once both ended (c->rc says how, ERR what the failing tool said), 0 while one
 * still runs and BLOCK is false. The pidfds of the tools (tool[k].pidfd) become readable
 * when they end; a tool running for 30 s is killed. */
int ldm_ipt_commit_poll(struct ldm_ipt_commit *c, bool block, char *err, size_t err_size);

/* Both at once, waiting for the end. */
int ldm_ipt_restore_both(const char *text4, const char *text6, char *err, size_t err_size);
/* Commits TEXT with `iptables-restore --noflush` (ip6tables-restore for AF_INET6). On
 * failure returns -errno and, if ERR is not NULL, what the tool said in ERR. */
int ldm_ipt_restore(int family, const char *text, char *err, size_t err_size);
/* Whether PID is one of the last restore runs (a ruleset change it made is ours). */
bool ldm_ipt_is_ours(pid_t pid);
/* Runs `iptables-save -t TABLE`; returns 0 and the output in *ret (free it). */
int ldm_ipt_save(int family, const char *table, char **ret);
/* The same with each rule's [packets:bytes] counters (iptables-save -c). */
int ldm_ipt_save_counters(int family, const char *table, char **ret);

#endif
