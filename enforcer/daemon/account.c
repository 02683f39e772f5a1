/*
 * The requesting user's name and groups, from the system's user and group databases (NSS),
 * for the policies' `users` and `groups` (ldm_policy_user_allowed). The uid is the one the
 * control socket authenticated; nothing the client says is used.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "ldm/util.h"

#define ACCOUNT_MAX_GROUPS 256

int
ldm_account_may_use(uid_t uid, const struct ldm_policy *p, const char *policy_name, char *err,
                    size_t err_size)
{
	char pwbuf[4096], grbuf[4096], who[512];
	struct passwd pw, *pres = NULL;
	gid_t gids[ACCOUNT_MAX_GROUPS];
	char *names[ACCOUNT_MAX_GROUPS];
	int ng = ACCOUNT_MAX_GROUPS;
	size_t n = 0;
	bool ok;

	if (!p->access_limited)
		return 0;
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pres) != 0 || pres == NULL) {
		(void)snprintf(err, err_size,
		               "policy '%s' names the users and groups that may use it, and uid %u "
		               "has no user name",
		               policy_name, (unsigned)uid);
		return -EPERM;
	}
	if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &ng) < 0)
		ng = ACCOUNT_MAX_GROUPS; /* more than we look at: the first ones count */
	for (int i = 0; i < ng && n < ACCOUNT_MAX_GROUPS; i++) {
		struct group gr, *gres = NULL;

		if (getgrgid_r(gids[i], &gr, grbuf, sizeof(grbuf), &gres) == 0 && gres != NULL &&
		    (names[n] = strdup(gr.gr_name)) != NULL)
			n++;
	}
	ok = ldm_policy_user_allowed(p, pw.pw_name, (const char *const *)names, n);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	if (ok)
		return 0;
	if (ldm_policy_access_text(p, who, sizeof(who)) < 0)
		(void)snprintf(who, sizeof(who), "the users and groups it names");
	(void)snprintf(err, err_size,
	               "policy '%s' may be used only by %s; user %s is none of them (ask the "
	               "administrator to add you to the group)",
	               policy_name, who, pw.pw_name);
	return -EPERM;
}
