/*
 * Readiness for the service manager: systemd's sd_notify protocol (one datagram of
 * "KEY=VALUE" lines to the Unix socket named by $NOTIFY_SOCKET), written here in a few lines
 * instead of linking libsystemd. With Type=notify, `systemctl start` and `restart` return
 * only once the daemon serves: rules committed, control socket listening.
 */
#ifndef LDM_NOTIFY_H
#define LDM_NOTIFY_H

/*
 * Sends STATE (e.g. "READY=1") to $NOTIFY_SOCKET: a path ("/run/systemd/notify") or an
 * abstract name ("@name"). Returns 1 when sent, 0 when the variable is unset or empty (not
 * started by a service manager), -EINVAL for any other form or a name too long for a
 * socket address, or -errno of the send.
 */
int ldm_notify(const char *state);

#endif
