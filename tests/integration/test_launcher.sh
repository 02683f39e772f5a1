#!/bin/bash
# ldm-run against the real ldm-enforcerd: the exit-code contract,
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
. "$ROOT/tests/integration/lib.sh"
USER_NAME=ldmtest
NS=$TB_ID-run # named like lib.sh's, so that tb_sweep_stale finds it after a kill -9
PIDS=()
DPID=

tb_require_root
[ -x "$B/ldm-run" ] || tb_skip "$B/ldm-run is not built (make $B/ldm-run)"
[ -x "$B/ldm-enforcerd" ] ||
	tb_skip "$B/ldm-enforcerd is not built yet: the daemon is not finished (make $B/ldm-enforcerd)"
tb_require_cmd ip nsenter setpriv useradd python3
CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$CGROOT" ] || tb_skip "no cgroup2 file system mounted"
CG=$CGROOT/$TB_ID-run
tb_sweep_stale

cleanup() {
	local d
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		tb_wait_pid 5 "$p" 2>/dev/null
	done
	# Whatever the programs left behind: only our own test cgroup is killed.
	if [ -d "$CG" ]; then
		for d in $(find "$CG" -mindepth 1 -type d 2>/dev/null); do
			[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		done
		tb_wait 5 sh -c '! grep -qs . $(find "$1" -mindepth 2 -name cgroup.procs)' _ "$CG"
	fi
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		tb_wait_pid 10 "$DPID" 2>/dev/null
	fi
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${TMP:-}" ] && rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { tb_pass "$@"; }
nok() { tb_fail "$@"; }
# check NAME WANT GOT
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: want $2, got $3"; fi; }

id "$USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home "$USER_NAME" ||
	tb_skip "cannot create user $USER_NAME"

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

ip netns add "$NS" || tb_skip "cannot create network namespace $NS"
ip -n "$NS" link set lo up
nsenter --net=/run/netns/"$NS" "$B/ldm-enforcerd" --foreground --socket "$TMP/control.sock" \
	--policy-dir "$TMP/policies" --state-dir "$TMP/state" --persist-dir "$TMP/persist" \
	--log "$TMP/events.jsonl" \
	--cgroup-root "$CG" --queue 7 >"$TMP/daemon.log" 2>&1 &
DPID=$!
if ! tb_wait 10 tb_listening_or_gone "$TMP/control.sock" "$DPID" || [ ! -S "$TMP/control.sock" ]
then
	nok "ldm-enforcerd did not come up:"
	sed 's/^/    /' "$TMP/daemon.log"
	tb_summary test_launcher
	exit 1
fi
chmod 0666 "$TMP/control.sock" 2>/dev/null

# Runs ldm-run as the test user in the namespace, with SIGINT, SIGTERM and SIGHUP at their
# defaults even when this script runs in the background or under nohup (a signal ignored
# at exec stays ignored, and sh cannot trap it: the signal tests would wait forever).
# Output: $TMP/out.txt, $TMP/err.txt.
SP=(setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups --inh-caps=-all)
ENV=(env --default-signal=INT,TERM,HUP PATH=/usr/sbin:/usr/bin:/sbin:/bin)
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
# Each program says it is ready (its trap set, so the program runs and ldm-run forwards)
# in a file; the signal goes only then, and no wait lasts more than 10 s.
# signal_case NAME SIGNAL WANT PROGRAM-TEXT: PROGRAM-TEXT (sh) gets the ready file as $0.
signal_case() {
	local ready="$TMP/out/ready.$2"
	lr_bg --policy t -- sh -c "$4" "$ready"
	tb_wait 10 test -e "$ready" || nok "$1: the program did not start"
	kill -"$2" "$BG"
	tb_wait_pid 10 "$BG"
	check "$1" "$3" $?
}
signal_case "130 on SIGINT" INT 130 ': >"$0"; exec sleep 30'
signal_case "SIGTERM forwarded to the program" TERM 7 \
	'trap "exit 7" TERM; : >"$0"; while :; do sleep 0.1; done'
signal_case "SIGHUP forwarded to the program" HUP 9 \
	'trap "exit 9" HUP; : >"$0"; while :; do sleep 0.1; done'

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
# writing fails (ENOSYS: the write calls' listener is gone), still closed. The program says
# it is ready, then waits (at most 10 s) for the go that follows the kill.
lr_bg --policy t -- sh -c "exec 3>$TMP/out/k9; : >$TMP/out/k9.ready; i=0; \
	while [ ! -e $TMP/out/k9.go ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done; \
	grep ^0:: /proc/self/cgroup >&3; \
	python3 -c 'import socket
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    print(\"packet socket\")
except OSError as e:
    print(\"refused\", e.errno)' >&3"
tb_wait 10 test -e "$TMP/out/k9.ready" || nok "kill -9 ldm-run: the program did not start"
kill -KILL "$BG"
tb_wait_pid 10 "$BG" 2>/dev/null
touch "$TMP/out/k9.go"
tb_wait 10 sh -c '[ "$(wc -l <"$1")" -ge 2 ]' _ "$TMP/out/k9"
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
tb_wait 5 grep -q '"syscall_denied"' "$TMP/events.jsonl" 2>/dev/null &&
	ok "denied syscalls are logged with the session" ||
	nok "no syscall_denied record in the event log"

# A script without "#!" runs through /bin/sh as execvp runs it (ENOEXEC): on 6.14+ ldm-run
# first executes the hashed descriptor, which has no such fallback, then the checked path.
printf 'echo NOSHEBANG-RAN "$@"\n' >"$TMP/out/plain"
chmod 0755 "$TMP/out/plain"
lr --policy t -- "$TMP/out/plain" a b
rc=$?
check "a script without #! runs through /bin/sh (exit)" 0 "$rc"
check "a script without #! runs with its arguments" "NOSHEBANG-RAN a b" "$(cat "$TMP/out.txt")"

tb_summary test_launcher
