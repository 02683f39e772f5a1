#!/bin/bash
# ldm-run against the real ldm-enforcerd (issue 4, "Tests"): the exit-code contract,
# signal forwarding, the summary line, the session cgroup, and what an unprivileged
# program inside a session cannot do. Needs root; everything runs in a network namespace
# of its own (the daemon installs firewall rules: never in the host namespace) entered with
# nsenter, so that the cgroup file system stays visible. ldm-run runs as the unprivileged
# user ldmtest (created if missing).
#
# Usage: tests/integration/test_launcher.sh [BUILD_DIR]. Exits 0 when every check passed,
# 1 otherwise, 77 when it cannot run here (a failure in CI=true).
set -u

B=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $B in /*) ;; *) B=$ROOT/$B ;; esac
USER_NAME=ldmtest
NS=ldmt-run-$$
PASS=0
FAIL=0
PIDS=()
DPID=

skip() {
	echo "test_launcher: skipped: $*"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, cgroups, a daemon)"
[ -x "$B/ldm-run" ] || skip "$B/ldm-run is not built (make $B/ldm-run)"
[ -x "$B/ldm-enforcerd" ] ||
	skip "$B/ldm-enforcerd is not built yet: the daemon is not finished (make $B/ldm-enforcerd)"
for t in ip nsenter setpriv useradd python3; do
	command -v $t >/dev/null || skip "$t is not installed"
done
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$CGROOT" ] || skip "no cgroup2 file system mounted"
CG=$CGROOT/ldm-test-$$

cleanup() {
	local d
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# Whatever the programs left behind: only our own test cgroup is killed.
	if [ -d "$CG" ]; then
		for d in $(find "$CG" -mindepth 1 -type d 2>/dev/null); do
			[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		done
		sleep 0.3
	fi
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${TMP:-}" ] && rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
# check NAME WANT GOT
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: want $2, got $3"; fi; }

id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home "$USER_NAME" ||
	skip "cannot create user $USER_NAME"

TMP=$(mktemp -d /tmp/ldm-test-launcher.XXXXXX)
chmod 0755 "$TMP"
mkdir -p "$TMP/policies" "$TMP/state" "$TMP/out"
chmod 0777 "$TMP/out"
cp "$ROOT/policies/offline.conf" "$TMP/policies/"
cat >"$TMP/policies/t.conf" <<'POL'
name = "t";
description = "test: MAVLink on loopback only";
mode = "enforce";
audit_override = false;
allow = ( { proto = "udp"; to = "loopback"; ports = "14550"; comment = "SITL" } );
POL
echo 'name = "bad"; allow = ( { proto = "udp"; to = ' >"$TMP/policies/bad.conf"
chmod 0644 "$TMP/policies/"*.conf

ip netns add "$NS" || skip "cannot create network namespace $NS"
ip -n "$NS" link set lo up
nsenter --net=/run/netns/"$NS" "$B/ldm-enforcerd" --foreground --socket "$TMP/control.sock" \
	--policy-dir "$TMP/policies" --state-dir "$TMP/state" --persist-dir "$TMP/persist" \
	--log "$TMP/events.jsonl" \
	--cgroup-root "$CG" --queue 7 >"$TMP/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do [ -S "$TMP/control.sock" ] && break; sleep 0.1; done
if [ ! -S "$TMP/control.sock" ]; then
	nok "ldm-enforcerd did not come up:"
	sed 's/^/    /' "$TMP/daemon.log"
	echo "test_launcher: $PASS passed, $FAIL failed"
	exit 1
fi
chmod 0666 "$TMP/control.sock" 2>/dev/null

# Runs ldm-run as the test user in the namespace, SIGINT at its default even when this
# script runs in the background. Output: $TMP/out.txt, $TMP/err.txt.
SP=(setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups --inh-caps=-all)
ENV=(env --default-signal=INT PATH=/usr/sbin:/usr/bin:/sbin:/bin)
lr() {
	nsenter --net=/run/netns/"$NS" "${ENV[@]}" "${SP[@]}" "$B/ldm-run" \
		--socket "$TMP/control.sock" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
}
# The same, in the background: the pid is ldm-run's own (nsenter, env and setpriv exec).
lr_bg() {
	nsenter --net=/run/netns/"$NS" "${ENV[@]}" "${SP[@]}" "$B/ldm-run" \
		--socket "$TMP/control.sock" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" &
	BG=$!
	PIDS+=("$BG")
}

# --- the exit-code contract
lr --policy t -- true
check "exit 0" 0 $?
lr --policy t -- sh -c 'exit 3'
check "exit 3" 3 $?
lr --policy t -- /etc/passwd
check "126: not executable" 126 $?
lr --policy t -- ldm-no-such-program
check "127: not found in PATH" 127 $?
lr --policy t -- /nonexistent/prog
check "127: no such file" 127 $?
lr --policy nosuch -- true
check "125: unknown policy" 125 $?
lr --policy bad -- true
check "125: bad policy" 125 $?
grep -q '^ldm-run: ' "$TMP/err.txt" && ok "bad policy: the daemon's reason is printed" ||
	nok "bad policy: no reason on stderr"
nsenter --net=/run/netns/"$NS" "${SP[@]}" "$B/ldm-run" --socket "$TMP/none.sock" \
	--policy t -- true 2>"$TMP/err.txt"
check "125: daemon gone" 125 $?
grep -q 'not running' "$TMP/err.txt" && ok "daemon gone: says so" ||
	nok "daemon gone: message: $(cat "$TMP/err.txt")"
nsenter --net=/run/netns/"$NS" "$B/ldm-run" --socket "$TMP/control.sock" --policy t -- true \
	2>/dev/null
check "125: as root" 125 $?
lr --policy t --audit -- true
check "125: --audit on a policy without audit_override" 125 $?

# --- the summary line
lr --policy t -- true
grep -q '^ldm: session [0-9]* (t) ended.* see: ldmctl log [0-9]*$' "$TMP/err.txt" &&
	ok "summary line" || nok "summary line: $(cat "$TMP/err.txt")"
lr --policy t --quiet -- true
[ -s "$TMP/err.txt" ] && nok "--quiet still printed: $(cat "$TMP/err.txt")" || ok "--quiet"

# --- signals
lr_bg --policy t -- sleep 30
sleep 1
kill -INT "$BG"
wait "$BG"
check "130 on SIGINT" 130 $?
lr_bg --policy t -- sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
sleep 1
kill -TERM "$BG"
wait "$BG"
check "SIGTERM forwarded to the program" 7 $?
lr_bg --policy t -- sh -c 'trap "exit 9" HUP; while :; do sleep 0.1; done'
sleep 1
kill -HUP "$BG"
wait "$BG"
check "SIGHUP forwarded to the program" 9 $?

# --- the session cgroup
lr --policy t -- sh -c 'grep ^0:: /proc/self/cgroup; sh -c "grep ^0:: /proc/self/cgroup"'
a=$(sed -n 1p "$TMP/out.txt")
b=$(sed -n 2p "$TMP/out.txt")
case $a in "0::/${CG#"$CGROOT"/}/"*) ok "program in a session cgroup" ;;
*) nok "program in a session cgroup: $a" ;; esac
check "children stay in the session" "$a" "$b"
lr --policy t -- sh -c "for f in $CGROOT/cgroup.procs $CG/cgroup.procs \
	\$(dirname $CGROOT/\$(sed -n 's/^0:://p' /proc/self/cgroup))/cgroup.procs; do
	echo \$\$ > \$f 2>/dev/null && echo escaped \$f; done; true"
[ -s "$TMP/out.txt" ] && nok "left the cgroup: $(cat "$TMP/out.txt")" ||
	ok "cannot write to any cgroup.procs"

# --- kill -9 of ldm-run leaves the program enforced
# The output file is opened before the kill: without the supervisor, opening a file for
# writing fails (ENOSYS: the write calls' listener is gone), still closed.
lr_bg --policy t -- sh -c "exec 3>$TMP/out/k9; sleep 2; grep ^0:: /proc/self/cgroup >&3; \
	python3 -c 'import socket
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    print(\"packet socket\")
except OSError as e:
    print(\"refused\", e.errno)' >&3"
sleep 0.7
kill -KILL "$BG"
wait "$BG" 2>/dev/null
sleep 2.5
case $(sed -n 1p "$TMP/out/k9" 2>/dev/null) in
"0::/${CG#"$CGROOT"/}/"*) ok "kill -9 ldm-run: program still in the session" ;;
*) nok "kill -9 ldm-run: program cgroup: $(cat "$TMP/out/k9" 2>/dev/null)" ;; esac
case $(sed -n 2p "$TMP/out/k9" 2>/dev/null) in
"refused "*) ok "kill -9 ldm-run: packet socket still refused" ;;
*) nok "kill -9 ldm-run: $(sed -n 2p "$TMP/out/k9" 2>/dev/null)" ;; esac

# --- what an unprivileged program in a session cannot do
"${SP[@]}" sleep 60 &
OUTSIDE=$!
PIDS+=("$OUTSIDE")
cat >"$TMP/out/hostile.py" <<'PY'
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
outside = int(sys.argv[1])
def call(name, f):
    r = f()
    e = ctypes.get_errno()
    print(name, "allowed" if r >= 0 else "refused", 0 if r >= 0 else e)
def sock(name, *a):
    try:
        socket.socket(*a).close()
        print(name, "allowed", 0)
    except OSError as e:
        print(name, "refused", e.errno)
sock("AF_PACKET", socket.AF_PACKET, socket.SOCK_RAW, 0)
sock("SOCK_RAW", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock("AF_INET6_RAW", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
call("io_uring_setup", lambda: libc.syscall(425, 1, ctypes.create_string_buffer(120)))
call("unshare_user", lambda: libc.unshare(0x10000000))
call("unshare_net", lambda: libc.unshare(0x40000000))
call("ptrace_attach", lambda: libc.ptrace(16, outside, 0, 0))
try:
    open("/proc/%d/mem" % outside, "rb").close()
    print("proc_mem allowed 0")
except OSError as e:
    print("proc_mem refused", e.errno)
PY
lr --policy t -- python3 "$TMP/out/hostile.py" "$OUTSIDE"
for what in AF_PACKET SOCK_RAW AF_INET6_RAW io_uring_setup unshare_user unshare_net \
	ptrace_attach proc_mem; do
	line=$(grep "^$what " "$TMP/out.txt")
	case $line in
	"$what refused "*) ok "unprivileged: $what refused (errno ${line##* })" ;;
	*) nok "unprivileged: $what: ${line:-no result} $(head -3 "$TMP/err.txt")" ;;
	esac
done
sleep 0.5
grep -q '"syscall_denied"' "$TMP/events.jsonl" 2>/dev/null &&
	ok "denied syscalls are logged with the session" ||
	nok "no syscall_denied record in the event log"

echo "test_launcher: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
