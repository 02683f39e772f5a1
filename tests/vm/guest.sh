#!/usr/bin/env bash
# Runs inside the VM that tests/vm/run.sh boots (as root, from the image's
# ldm-vm-check.service, the payload disk mounted read-only at /mnt/payload): installs the
# package and checks it as a pilot's laptop would use it. Prints "PASS [group] name" /
# "FAIL [group] name" lines (what run.sh counts), indented detail, "TIME group seconds" per
# group, and "vm-guest: finished" last. The service powers the machine off when it ends.
set -u
PAYLOAD=$(cd "$(dirname "$0")/../.." && pwd)
cd "$PAYLOAD"
. tests/integration/lib.sh
. ./vm.env
export CI
ALL_GROUPS="boot"
GROUP=""
PILOT=pilot
PILOT_UID=1000

# check NAME COMMAND...: tb_check with the group's name in front.
check() {
	local name=$1
	shift
	tb_check "[$GROUP] $name" "$@"
}
pass() { tb_pass "[$GROUP] $*"; }
fail() { tb_fail "[$GROUP] $*"; }
# detail TEXT...: indented lines that run.sh shows but does not count.
detail() { printf '%s\n' "$@" | sed 's/^/    /'; }

want_group() {
	[ -z "$VM_GROUPS" ] && return 0
	case " $VM_GROUPS " in *" $1 "*) return 0 ;; esac
	return 1
}

run_group() {
	local g=$1 t0
	want_group "$g" || return 0
	GROUP=$g
	echo "== $g"
	t0=$(date +%s)
	"group_$g"
	echo "TIME $g $(($(date +%s) - t0)) s"
}


# --- the pilot and the test peer ---

PILOT_ENV=(HOME=/home/pilot USER=pilot LOGNAME=pilot PATH=/usr/local/bin:/usr/bin:/bin
	XDG_RUNTIME_DIR=/run/user/1000 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus)
# as_pilot COMMAND...: runs COMMAND as the pilot, with the environment of a desktop
# session (the user manager's runtime directory and session bus), no capabilities.
as_pilot() {
	setpriv --reuid="$PILOT_UID" --regid="$PILOT_UID" --init-groups --inh-caps=-all \
		--bounding-set=-all -- env -i "${PILOT_ENV[@]}" "$@"
}

# The test peer "on the internet": a network namespace vminet behind a veth, routed (not
# on-link, so "lan" rules do not reach it): 198.51.100.7 and 2001:db8:100::7. The VM has
# no other interface, so nothing here can reach a real network.
PEER4=198.51.100.7
PEER6=2001:db8:100::7
PEER_NS=vminet
NET=$PAYLOAD/build/tests/tools/ldm-net
PEER_PIDS=()
peer_setup() {
	ip netns add $PEER_NS || return 1
	ip -n $PEER_NS link set lo up
	ip link add veth-inet type veth peer name veth-lap netns $PEER_NS
	ip addr add 203.0.113.2/24 dev veth-inet
	ip -6 addr add 2001:db8:1::2/64 dev veth-inet nodad
	ip link set veth-inet up
	ip -n $PEER_NS addr add 203.0.113.1/24 dev veth-lap
	ip -n $PEER_NS -6 addr add 2001:db8:1::1/64 dev veth-lap nodad
	ip -n $PEER_NS addr add $PEER4/32 dev lo
	ip -n $PEER_NS -6 addr add $PEER6/128 dev lo
	ip -n $PEER_NS link set veth-lap up
	ip route add 198.51.100.0/24 via 203.0.113.1
	ip -6 route add 2001:db8:100::/64 via 2001:db8:1::1
	# TCP 443 and UDP 9999 (echo) on both families; HTTP on 80.
	peer_spawn "$NET" tcp-serve :: 443 3000
	peer_spawn "$NET" udp-echo :: 9999 3000
	peer_spawn python3 -m http.server --bind :: 80
	tb_wait 20 sh -c 'ip netns exec vminet ss -Htln | grep -q ":80 "'
}
peer_spawn() {
	ip netns exec $PEER_NS "$@" >/dev/null 2>&1 &
	PEER_PIDS+=($!)
}
# peer_capture_start: a capture of what reaches the peer from the laptop.
peer_capture_start() {
	PEER_PCAP=/tmp/vm-peer.$RANDOM.pcap
	ip netns exec $PEER_NS tcpdump -i veth-lap -n -U -w "$PEER_PCAP" >/dev/null \
		2>"$PEER_PCAP.err" &
	PEER_CAP=$!
	tb_wait 10 grep -q 'listening on' "$PEER_PCAP.err"
}
# peer_capture_count FILTER: stops the capture; how many packets matched.
peer_capture_count() {
	sleep 0.3
	kill -TERM "$PEER_CAP" 2>/dev/null
	wait "$PEER_CAP" 2>/dev/null
	tcpdump -n -r "$PEER_PCAP" "$1" 2>/dev/null | wc -l
}

# An app in a session: ldm-run as the pilot, running a shell that reads command lines from
# a FIFO; its output goes to a file root opened (nothing in the sandbox writes a file).
APP_N=0
app_start() {
	local policy=$1
	APP_N=$((APP_N + 1))
	APP_FIFO=/run/vm-app.$APP_N.fifo
	APP_OUT=/run/vm-app.$APP_N.out
	APP_SEQ=0
	mkfifo -m 0644 "$APP_FIFO"
	exec {APP_FD}<>"$APP_FIFO"
	as_pilot ldm-run --policy "$policy" -- \
		sh -c 'exec <"$0"; while read -r line; do eval "$line"; done' "$APP_FIFO" \
		>"$APP_OUT" 2>&1 &
	APP_RUN=$!
	app_cmd 'echo "APPPID $$"' 60 || return 1
	APP_PID=$(sed -n 's/^APPPID //p' "$APP_OUT" | head -n 1)
	[ -n "$APP_PID" ]
}
# app_cmd COMMAND-LINE [TIMEOUT]: runs it in the app's shell; its status is app_cmd's.
app_cmd() {
	APP_SEQ=$((APP_SEQ + 1))
	printf '( %s ); echo "DONE %d $?"\n' "$1" "$APP_SEQ" >&"$APP_FD"
	tb_wait "${2:-60}" grep -q "^DONE $APP_SEQ " "$APP_OUT" || return 124
	return "$(sed -n "s/^DONE $APP_SEQ //p" "$APP_OUT")"
}
app_stop() {
	exec {APP_FD}>&-
	tb_wait 20 sh -c "! kill -0 $APP_RUN 2>/dev/null"
	wait "$APP_RUN" 2>/dev/null
}
# cgroup_of PID: the cgroup v2 path of PID.
cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null; }
SESSION_RE='^/system\.slice/ldm-enforcerd\.service/ldm/s[0-9]+-'
in_session_cgroup() { cgroup_of "$1" | grep -Eq "$SESSION_RE"; }
# all_in_cgroup CGROUP PID...: every PID (that still exists) is in CGROUP.
all_in_cgroup() {
	local cg=$1 pid
	shift
	for pid in "$@"; do
		[ -e "/proc/$pid" ] || continue
		[ "$(cgroup_of "$pid")" = "$cg" ] || return 1
	done
}
LOG=/var/log/ldm/events.jsonl
# log_has STRING...: a record of the daemon's log holds every STRING.
log_has() {
	local lines s
	lines=$(cat "$LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -F -- "$s")
	done
	[ -n "$lines" ]
}
log_lines() { wc -l <"$LOG" 2>/dev/null || echo 0; }
# log_new_has FROM STRING...: like log_has, in the records after line FROM.
log_new_has() {
	local from=$1 lines s
	shift
	lines=$(tail -n +"$((from + 1))" "$LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -F -- "$s")
	done
	[ -n "$lines" ]
}
ldm_chain_lines() { { iptables-save; ip6tables-save; } 2>/dev/null | grep -c 'LDM-'; }

# --- boot: the machine is the laptop the package is made for ---
group_boot() {
	check "PID 1 is systemd" [ "$(cat /proc/1/comm)" = systemd ]
	check "cgroup v2 is mounted at /sys/fs/cgroup" [ "$(tb_cgroup2_mount)" = /sys/fs/cgroup ]
	check "the kernel is Debian 12's 6.1 ($(uname -r))" sh -c 'uname -r | grep -q "^6\.1\."'
	check "no network interface but lo (the VM has no NIC)" \
		[ "$(ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')" = "lo " ]
	check "the pilot's user manager runs (lingering)" \
		tb_wait 120 systemctl -q is-active "user@$PILOT_UID.service"
	check "the pilot's session bus exists" tb_wait 30 test -S "/run/user/$PILOT_UID/bus"
	detail "$(systemctl is-system-running 2>&1)" "$(systemctl --failed --no-legend 2>&1)"
}

echo "vm-guest: $(uname -r), $(nproc) CPUs, groups: ${VM_GROUPS:-all}"
for g in $ALL_GROUPS; do
	run_group "$g"
done
echo "vm-guest: finished"
