/* The daemon's settings: defaults, then /etc/ldm/enforcer.conf, then command-line flags. */
#ifndef LDM_DAEMON_CONFIG_H
#define LDM_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LDM_MAX_POLICY_DIRS 8
#define LDM_DEFAULT_SPARES  2
#define LDM_MAX_SPARES      4
#define LDM_MAX_UPLINKS     8

struct ldm_config {
	char config_file[4096];
	bool config_given; /* --config: a missing file is an error then */
	bool foreground;
	bool keep_rules;
	char socket[108];
	char policy_dirs[LDM_MAX_POLICY_DIRS][4096];
	size_t n_policy_dirs;
	bool dirs_from_flags;
	char log[4096];
	char state_dir[4096];
	char persist_dir[4096]; /* what outlives a reboot: the session id counter */
	char cgroup_root[4096]; /* absolute path in the cgroup2 file system, "" = default */
	uint16_t queue;
	uint32_t mark_mask;
	unsigned spares; /* sessions kept ready (cgroup and rules in), 0..LDM_MAX_SPARES */
	/* The uplink interfaces (never `lan` or broadcast) when named; otherwise those that
	 * carry a default route. */
	bool uplinks_given, uplinks_from_flags;
	char uplinks[LDM_MAX_UPLINKS][16];
	size_t n_uplinks;
};

/* Fills the defaults. */
void ldm_config_defaults(struct ldm_config *c);

/* Parses argv into C (flags win over the file, which is read in between). Returns 0, 1 for
 * --help/--version (printed), or -EINVAL after printing the problem. */
int ldm_config_parse(struct ldm_config *c, int argc, char **argv);

#endif
