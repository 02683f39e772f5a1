#!/usr/bin/env bash
# The Debian package, end to end: builds it (make deb), checks it with lintian (no
# errors), installs it with dpkg -i (then apt-get -f install), checks the installed files,
# runs the integration tests against the installed binaries (tests/integration/run.sh on a
# directory of symbolic links to /usr/sbin/ldm-enforcerd, /usr/bin/ldm-run, /usr/bin/ldmctl
# and the test tools), starts the installed daemon by hand with its installed defaults in a
# private network namespace and runs a session through it, then removes the package (the
# daemon must be stopped, no LDM- chain, session cgroup or control socket left) and purges
# it (no /etc/ldm, no /var/log/ldm).
#
# Needs root and a machine where ldm-enforcer is not installed yet (the test purges it).
# The daemon is never started in this machine's network namespace: installing starts
# nothing where systemd is not PID 1, and where it is, a policy-rc.d made here for the
# duration of the test forbids it. The host's firewall is only read (iptables-save).
# Usage: tests/package/test_deb.sh. Prints "test_deb: N passed, N failed" last; exits 0 when
# every check passed.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
. tests/integration/lib.sh

PKG=ldm-enforcer
POLICY_RC=/usr/sbin/policy-rc.d
MADE_POLICY_RC=
LINKS=""
DPID=""

pkg_status() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null; }

pkg_cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null
	# A failed run must not leave the package behind.
	if [ -n "$(pkg_status)" ] && [ -n "${PKG_TEST_INSTALLED:-}" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >/dev/null 2>&1
	fi
	[ -n "$MADE_POLICY_RC" ] && rm -f "$POLICY_RC"
	[ -n "$LINKS" ] && rm -rf "$LINKS"
	tb_cleanup
}

finish() {
	tb_summary test_deb
	exit $?
}

# Counts LDM- lines in the IPv4 and IPv6 rulesets; arguments run before iptables-save (e.g.
# nsenter --net=...). Only reads.
ldm_rule_lines() {
	{
		"$@" iptables-save 2>/dev/null
		"$@" ip6tables-save 2>/dev/null
	} | grep -c 'LDM-'
}

tb_require_root
if [ -n "$(pkg_status)" ]; then
	tb_log "test_deb: $PKG is installed on this machine ($(pkg_status)); this test installs," \
		"removes and purges it: remove it first"
	tb_fail "$PKG is not installed before the test"
	finish
fi
for t in dpkg-buildpackage dh lintian apt-get; do
	command -v $t >/dev/null || { tb_fail "$t is installed (make deps)"; finish; }
done
trap pkg_cleanup EXIT
trap 'exit 130' INT TERM

# Never start a service at install time, even where systemd runs (deb-systemd-invoke and
# invoke-rc.d ask policy-rc.d; 101 means "not allowed").
if [ ! -e "$POLICY_RC" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
	chmod 0755 "$POLICY_RC"
	MADE_POLICY_RC=1
fi
host_rules_before=$(ldm_rule_lines)

# 1. Build and lint.
rm -f dist/"$PKG"_*.deb
if make deb >/tmp/ldm-deb-build.$$ 2>&1; then
	tb_pass "make deb builds the package"
else
	tail -30 /tmp/ldm-deb-build.$$
	tb_fail "make deb builds the package"
	rm -f /tmp/ldm-deb-build.$$
	finish
fi
rm -f /tmp/ldm-deb-build.$$
DEB=$(ls dist/"$PKG"_*.deb | tail -n 1)
lintian --fail-on error --pedantic "$DEB" >/tmp/ldm-lintian.$$ 2>&1
lint_rc=$?
grep -v 'running with root privileges' /tmp/ldm-lintian.$$
rm -f /tmp/ldm-lintian.$$
tb_check "lintian reports no error" [ "$lint_rc" = 0 ]

# 2. Install.
PKG_TEST_INSTALLED=1
DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q >/dev/null
tb_check "dpkg -i installs it" [ "$(pkg_status)" = "install ok installed" ]
for f in /usr/bin/ldm-run /usr/bin/ldmctl /usr/sbin/ldm-enforcerd; do
	tb_check "$f is installed" [ -x "$f" ]
done
tb_check "the shipped policies are in /usr/share/ldm/policies" \
	[ -f /usr/share/ldm/policies/qgroundcontrol.conf ]
tb_check "the package made the ldm-admin group (the audit policy's users)" \
	getent group ldm-admin
tb_check "the rsyslog forwarding examples are in /usr/share/ldm/rsyslog" \
	sh -c '[ -f /usr/share/ldm/rsyslog/ldm-forward.conf ] &&
		[ -f /usr/share/ldm/rsyslog/ldm-collector.conf ]'
tb_check "they all pass the installed ldmctl check" \
	sh -c 'ldmctl check /usr/share/ldm/policies/*.conf >/dev/null'
tb_check "/etc/ldm/policies exists and is empty" \
	sh -c '[ -d /etc/ldm/policies ] && [ -z "$(ls -A /etc/ldm/policies)" ]'
conffiles=$(dpkg-query -W -f='${Conffiles}' "$PKG")
tb_check "/etc/ldm/enforcer.conf is a conffile" grep -q ' /etc/ldm/enforcer.conf ' <<<"$conffiles"
tb_check "the logrotate file is a conffile" \
	grep -q ' /etc/logrotate.d/ldm-enforcer ' <<<"$conffiles"
for m in man1/ldm-run.1 man1/ldmctl.1 man5/ldm-policy.5 man8/ldm-enforcerd.8; do
	tb_check "man page $m" [ -f "/usr/share/man/$m.gz" ]
done
tb_check "the systemd unit is installed" [ -f /lib/systemd/system/ldm-enforcerd.service ]
if command -v systemd-analyze >/dev/null; then
	tb_check "systemd-analyze verify accepts the unit" \
		systemd-analyze verify /lib/systemd/system/ldm-enforcerd.service
fi
tb_check "the example desktop entry runs ldm-run, notifying" \
	grep -q '^Exec=ldm-run --notify --policy qgroundcontrol' \
	/usr/share/applications/qgroundcontrol-ldm.desktop
tb_check "the installed ldmctl finds the shipped policies by name" \
	sh -c 'ldmctl explain qgroundcontrol tcp 198.51.100.7:443 | grep -q "^block"'
tb_check "ldm-enforcerd --version" /usr/sbin/ldm-enforcerd --version
tb_check "installing started no daemon" sh -c '! start-stop-daemon --status --exec /usr/sbin/ldm-enforcerd'

# 3. The integration tests against the installed binaries; the test tools come from the tree.
make -s tools >/dev/null || tb_fail "make tools"
LINKS=$(mktemp -d /tmp/ldm-installed.XXXXXX)
chmod 0755 "$LINKS"
mkdir -m 0755 "$LINKS/tests"
ln -s /usr/sbin/ldm-enforcerd "$LINKS/ldm-enforcerd"
ln -s /usr/bin/ldm-run "$LINKS/ldm-run"
ln -s /usr/bin/ldmctl "$LINKS/ldmctl"
ln -s "$ROOT/build/tests/tools" "$LINKS/tests/tools"
tb_check "the integration tests pass against the installed binaries" \
	tests/integration/run.sh "$LINKS"

# 4. The installed daemon started by hand, as on a machine without systemd: its installed
# defaults (config, policy directories, socket, state, log), in the test bed's laptop
# namespace only; the sandbox root is named so that the removal's cleanup can be checked.
CGMNT=$(tb_cgroup2_mount)
CGLDM=$CGMNT/ldm
if [ -e "$CGLDM" ] || [ -e /run/ldm/control.sock ]; then
	tb_fail "$CGLDM and /run/ldm/control.sock are free for the hand-started daemon"
	finish
fi
tb_init
trap pkg_cleanup EXIT # tb_init set its own
TB_CGROUPS+=("$CGLDM")
NET=$ROOT/build/tests/tools/ldm-net
nsenter --net="/run/netns/$TB_LAP" -- /usr/sbin/ldm-enforcerd --cgroup-root "$CGLDM" \
	>>"$TB_TMP/daemon.out" 2>&1 &
DPID=$!
TB_PIDS+=("$DPID")
tb_check "the installed daemon starts by hand" tb_wait 5 test -S /run/ldm/control.sock
tb_spawn tb_in "$TB_DRN" "$NET" udp-echo :: 14550 60 >/dev/null 2>&1
tb_wait_listen "$TB_DRN" udp:14550
app() {
	tb_as_user "$TB_LAP" /usr/bin/ldm-run --quiet --policy qgroundcontrol -- "$@"
}
tb_check "a session under the shipped qgroundcontrol policy reaches the drone" \
	app "$NET" udp-ask "$DRONE4" 14550 3
app "$NET" tcp-connect "$INET4" 443 3 2>/dev/null
tb_check "and is refused the internet" [ "$?" = 1 ]
tb_check "the block is in /var/log/ldm/events.jsonl" \
	grep -q '"event":"blocked".*"dst":"198.51.100.7"' /var/log/ldm/events.jsonl
tb_check "the daemon made its rules in the laptop namespace" \
	[ "$(ldm_rule_lines nsenter --net="/run/netns/$TB_LAP" --)" -gt 0 ]

# 5. Remove while the hand-started daemon runs: prerm stops it and cleans up.
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "$PKG" >/dev/null
tb_check "apt-get remove removes it" [ "$(pkg_status)" = "deinstall ok config-files" ]
tb_check "the daemon was stopped" sh -c "! kill -0 $DPID 2>/dev/null"
tb_wait_pid 10 "$DPID" 2>/dev/null
DPID=""
tb_check "no LDM- chain is left in the laptop namespace" \
	[ "$(ldm_rule_lines nsenter --net="/run/netns/$TB_LAP" --)" = 0 ]
tb_check "no LDM- chain in this machine's namespace (read only: $host_rules_before before)" \
	[ "$(ldm_rule_lines)" = 0 ]
tb_check "no cgroup $CGLDM is left" [ ! -e "$CGLDM" ]
tb_check "no /run/ldm/control.sock is left" [ ! -e /run/ldm/control.sock ]
tb_check "the binaries are gone" [ ! -e /usr/sbin/ldm-enforcerd ]
tb_check "the configuration stays until purge" [ -f /etc/ldm/enforcer.conf ]

# 6. Purge.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >/dev/null
st=$(pkg_status)
tb_check "apt-get purge purges it" [ -z "$st" -o "$st" = "unknown ok not-installed" ]
tb_check "/etc/ldm is gone" [ ! -e /etc/ldm ]
tb_check "/var/log/ldm is gone" [ ! -e /var/log/ldm ]
tb_check "/var/lib/ldm (the session id counter) is gone" [ ! -e /var/lib/ldm ]
tb_check "/run/ldm is gone" [ ! -e /run/ldm ]
tb_check "the unit is no longer enabled" \
	[ ! -e /etc/systemd/system/multi-user.target.wants/ldm-enforcerd.service ]
finish
