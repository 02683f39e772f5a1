/* ldm-enforcerd: the root daemon. See ldm-enforcerd(8) and docs/. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"

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
	r = ldm_daemon_run(&d);
	ldm_daemon_done(&d);
	return r < 0 ? 1 : 0;
}
