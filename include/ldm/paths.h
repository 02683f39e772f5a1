/* Where things are installed: the build's SYSCONFDIR and DATADIR, as `make install` puts them. */
#ifndef LDM_PATHS_H
#define LDM_PATHS_H

#ifndef LDM_SYSCONFDIR
#define LDM_SYSCONFDIR "/etc"
#endif
#ifndef LDM_DATADIR
#define LDM_DATADIR "/usr/share"
#endif

/* Policy names are looked up in the admin's directory first, then in the package's. */
#define LDM_POLICY_DIR_ADMIN   LDM_SYSCONFDIR "/ldm/policies"
#define LDM_POLICY_DIR_PACKAGE LDM_DATADIR "/ldm/policies"
#define LDM_CONFIG_FILE        LDM_SYSCONFDIR "/ldm/enforcer.conf"

#endif
