#!/usr/bin/env bash
# `make demo`: a ground-control app sandboxed by ldm-enforcer, told as a short story.
#
# Everything happens in the namespace test bed of lib.sh (private network namespaces,
# removed on exit whatever happens): the daemon runs in the "laptop" namespace with the
# shipped policies, the "drone" sends MAVLink-like heartbeats, and a ground-station
# stand-in runs under `ldm-run --policy qgroundcontrol` as an unprivileged user. It hears
# the drone and answers, then tries to phone home to the "internet": refused and logged,
# and a capture on the internet side sees nothing of it. No traffic leaves the test bed.
#
# Not named test_*.sh: the integration test runner does not pick it up.
# Usage (as root, from anywhere): tests/integration/demo.sh BUILD_DIR
set -u

DEMO_T0=$(date +%s%N)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
STEP=0

ok() {
	STEP=$((STEP + 1))
	printf '%2d ✔ %s\n' "$STEP" "$*"
}

# fail SENTENCE [FILE...]: the failed step, the files that explain it, and exit 1 (the test
# bed's trap removes everything).
fail() {
	local f
	STEP=$((STEP + 1))
	printf '%2d ✘ %s\n' "$STEP" "$1"
	shift
	for f in "$@"; do
		[ -s "$f" ] || continue
		printf '   --- %s\n' "${f##*/}"
		tail -n 15 "$f" | sed 's/^/   | /'
	done
	printf 'demo: FAILED at step %d\n' "$STEP"
	exit 1
}

# Processes in the test namespaces, and whether PID is still running (a zombie has ended).
ns_pids() {
	local ns
	for ns in "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"; do ip netns pids "$ns" 2>/dev/null; done
}
running() {
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}
none_running() {
	local pid
	for pid in "$@"; do running "$pid" && return 1; done
	return 0
}

# The test bed's cleanup, after stopping whatever still runs in its namespaces (a command
# spawned through a shell function leaves its own pid unknown to tb_cleanup).
demo_cleanup() {
	local pids pid
	pids=$(ns_pids)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # one word per pid
		kill -TERM $pids 2>/dev/null
		# shellcheck disable=SC2086
		tb_wait 2 none_running $pids ||
			for pid in $pids; do running "$pid" && kill -KILL "$pid"; done
	fi
	tb_cleanup
}

# indent: the lines of stdin, indented under the step they belong to.
indent() { sed 's/^/      /'; }

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, iptables, cgroups): run 'sudo make demo'" >&2
	exit 1
fi
BUILD=$(cd "$SRC" && cd "${1:-build}" 2>/dev/null && pwd) || {
	echo "demo: no build directory '${1:-build}': run 'make all tools' first" >&2
	exit 1
}
for f in ldm-enforcerd ldm-run ldmctl tests/tools/ldm-net; do
	[ -x "$BUILD/$f" ] || {
		echo "demo: $BUILD/$f is missing: run 'make all tools' first" >&2
		exit 1
	}
done
for c in ip nsenter setpriv tcpdump iptables ss; do
	command -v "$c" >/dev/null || {
		echo "demo: '$c' is missing: run 'make deps' (deps.txt lists it)" >&2
		exit 1
	}
done

cd "$SRC" || exit 1
. tests/integration/lib.sh

echo
echo "ldm-enforcer demo: a ground-control app sandboxed by the shipped 'qgroundcontrol' policy"
echo "  drone $DRONE4 | laptop $LAPTOP4 | internet $INET4   (private network namespaces)"
echo

# --- 1. The test bed, the policies and the daemon ----------------------------------------
tb_init
trap demo_cleanup EXIT
# The unprivileged user runs the sandboxed programs from here, wherever the repo lives.
mkdir -m 0755 "$TB_TMP/bin"
install -m 0755 "$BUILD/ldm-run" "$BUILD/tests/tools/ldm-net" "$TB_TMP/bin/"
RUN="$TB_TMP/bin/ldm-run"
NET="$TB_TMP/bin/ldm-net"
CTL="$BUILD/ldmctl"
OUT="$TB_TMP/out"
install -m 0644 -o root -g root policies/*.conf "$TB_TMP/policies/"
npol=$(find "$TB_TMP/policies" -name '*.conf' | wc -l)
"$CTL" check "$TB_TMP"/policies/*.conf >"$TB_TMP/check.out" 2>&1 ||
	fail "the shipped policies do not pass 'ldmctl check'" "$TB_TMP/check.out"
tb_start_daemon "$BUILD" 2>"$TB_TMP/start.err" ||
	fail "ldm-enforcerd did not start in the laptop namespace" "$TB_TMP/start.err"
ok "test bed up (laptop, drone, router, internet namespaces); ldm-enforcerd runs in the laptop namespace with the $npol shipped policies (all pass 'ldmctl check') in a private root-owned directory."

# The internet's servers, so that anything that leaked would be answered.
tb_spawn_in "$TB_INET" "$NET" tcp-serve :: 443 60 >/dev/null 2>&1
tb_spawn_in "$TB_INET" "$NET" udp-echo :: 4500 60 >/dev/null 2>&1
tb_capture_ready "$TB_INET" veth-rtr "$TB_TMP/inet.pcap" ||
	fail "tcpdump did not start on the internet side" "$TB_TMP/inet.pcap.err"
CAP=$TB_LAST
tb_wait 5 sh -c "nsenter --net=/run/netns/$TB_INET ss -Hltn 'sport = :443' | grep -q ." ||
	fail "the internet's test server did not start"

# --- 2. The ground station hears the drone ------------------------------------------------
# The stand-in: answers the drone's heartbeats for HEAR seconds, then phones home twice
# (HTTPS, then a UDP telemetry datagram), timing each attempt.
HEAR=3
cat >"$TB_TMP/bin/gcs-standin" <<EOF
#!/bin/sh
ms() { echo \$(( (\$(date +%s%N) - \$1) / 1000000 )); }
"$NET" udp-echo :: 14550 $HEAR >"$OUT/hear.out" 2>&1
t=\$(date +%s%N); "$NET" tcp-connect $INET4 443 5 >"$OUT/tcp.out" 2>&1
echo "\$? \$(ms \$t)" >"$OUT/tcp.rc"
t=\$(date +%s%N); "$NET" udp-ask $INET4 4500 5 >"$OUT/udp.out" 2>&1
echo "\$? \$(ms \$t)" >"$OUT/udp.rc"
EOF
chmod 0755 "$TB_TMP/bin/gcs-standin"

tb_spawn tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy qgroundcontrol -- \
	"$TB_TMP/bin/gcs-standin" >"$TB_TMP/app.out" 2>"$TB_TMP/app.err"
APP=$TB_LAST
# The drone starts sending as soon as the ground station listens.
listening() { tb_in "$TB_LAP" ss -Hlun 'sport = :14550' | grep -q .; }
listening_or_gone() { listening || ! kill -0 "$APP" 2>/dev/null; }
tb_wait 5 listening_or_gone && listening ||
	fail "the sandboxed ground station never listened on UDP 14550" "$TB_TMP/app.err" \
		"$TB_TMP/daemon.out"
tb_in "$TB_DRN" "$NET" udp-stream "$LAPTOP4" 14550 2 >"$TB_TMP/drone.out" 2>&1
drone_rc=$?
tb_wait_pid 60 "$APP"
app_rc=$?
sent=$(sed -n 's/^stream: sent \([0-9]*\),.*/\1/p' "$TB_TMP/drone.out")
answered=$(sed -n 's/^stream: .*answered \([0-9]*\)$/\1/p' "$TB_TMP/drone.out")
heard=$(sed -n 's/^answered \([0-9]*\)/\1/p' "$OUT/hear.out" 2>/dev/null)
[ "$drone_rc" = 0 ] && [ "${heard:-0}" -gt 0 ] ||
	fail "the ground station did not answer the drone (drone: $(cat "$TB_TMP/drone.out"))" \
		"$OUT/hear.out" "$TB_TMP/app.err" "$TB_TMP/daemon.out"
ok "the drone ($DRONE4) sent ${sent:-?} heartbeats to UDP 14550; the ground station (user '$TB_USER', under 'ldm-run --policy qgroundcontrol') heard and answered $heard: the drone got ${answered:-?} answers."

# --- 3. It phones home: refused in milliseconds -------------------------------------------
read -r tcp_rc tcp_ms <"$OUT/tcp.rc" 2>/dev/null
read -r udp_rc udp_ms <"$OUT/udp.rc" 2>/dev/null
why() { sed -n 's/^[a-z-]*: //p' "$1" | head -n 1; }
[ "${tcp_rc:-x}" = 1 ] && [ "${tcp_ms:-9999}" -lt 1000 ] ||
	fail "the app's HTTPS connection to $INET4:443 was not refused fast (exit ${tcp_rc:-?}, ${tcp_ms:-?} ms)" \
		"$OUT/tcp.out" "$TB_TMP/daemon.out"
ok "the same app tried to phone home over HTTPS ($INET4:443): refused in $tcp_ms ms ($(why "$OUT/tcp.out"))."
[ "${udp_rc:-x}" = 1 ] && [ "${udp_ms:-9999}" -lt 1000 ] ||
	fail "the app's UDP telemetry to $INET4:4500 was not refused fast (exit ${udp_rc:-?}, ${udp_ms:-?} ms)" \
		"$OUT/udp.out" "$TB_TMP/daemon.out"
ok "then it sent UDP telemetry to $INET4:4500: refused in $udp_ms ms ($(why "$OUT/udp.out"))."

# --- 4. The log and the wire ---------------------------------------------------------------
summary=$(grep -a '^ldm: session' "$TB_TMP/app.err" | tail -n 1)
session=$(printf '%s\n' "$summary" | sed -n 's/^ldm: session \([0-9]*\).*/\1/p')
[ -n "$session" ] || fail "ldm-run printed no summary line (exit $app_rc)" "$TB_TMP/app.err"
blocked_logged() {
	[ "$(tb_log_count '"event":"blocked"' "\"session\":$session," '"dport":443')" -ge 1 ] &&
		[ "$(tb_log_count '"event":"blocked"' "\"session\":$session," '"dport":4500')" -ge 1 ]
}
tb_wait 5 blocked_logged ||
	fail "the blocked attempts are not in the event log" "$TB_LOG" "$TB_TMP/daemon.out"
if "$CTL" log --help >/dev/null 2>&1 &&
	"$CTL" log --log "$TB_LOG" "$session" >"$TB_TMP/log.out" 2>&1 && [ -s "$TB_TMP/log.out" ]; then
	ok "both attempts are in the daemon's log, with destination, rule and reason ('ldmctl log $session'):"
	indent <"$TB_TMP/log.out"
else
	ok "both attempts are in the daemon's log, with destination, rule and reason (its JSON lines):"
	grep -F '"event":"blocked"' "$TB_LOG" | grep -F "\"session\":$session," | indent
fi

# Proof that the capture sees what leaves the laptop: one datagram sent from outside the
# sandbox (root in the laptop namespace) to the internet host must show up in it.
tb_in "$TB_LAP" "$NET" udp-send "$INET4" 5999 1 >/dev/null 2>&1
tb_wait 5 sh -c "[ \$(tcpdump -n -r '$TB_TMP/inet.pcap' 'udp dst port 5999' 2>/dev/null | wc -l) -ge 1 ]"
control=$(tb_pcap_count "$TB_TMP/inet.pcap" 'udp dst port 5999')
tb_capture_stop "$CAP"
leaked=$(tb_pcap_count "$TB_TMP/inet.pcap" \
	'(src host 203.0.113.2 or src host 2001:db8:1::2) and not udp dst port 5999')
[ "$control" -ge 1 ] ||
	fail "the internet-side capture did not see the control datagram: it proves nothing" \
		"$TB_TMP/inet.pcap.err"
[ "$leaked" = 0 ] ||
	fail "the internet-side capture saw $leaked packets from the laptop: $(tcpdump -n -r \
		"$TB_TMP/inet.pcap" 'src host 203.0.113.2 and not udp dst port 5999' 2>/dev/null |
		head -n 3)"
ok "tcpdump on the internet host saw 0 packets from the sandboxed app (a control datagram sent from outside the sandbox did arrive: the capture was live)."

# --- 5. ldm-run's summary ------------------------------------------------------------------
[ "$app_rc" = 0 ] || fail "ldm-run exited with $app_rc: $summary" "$TB_TMP/app.err"
ok "the app ended and ldm-run printed its summary line:"
printf '%s\n' "$summary" | indent

# --- 6. Cleanup ----------------------------------------------------------------------------
pids=$(ns_pids)
trap - EXIT
demo_cleanup 2>"$TB_TMP.cleanup" # TB_TMP itself is gone after this
left=""
for ns in "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"; do
	[ -e "/run/netns/$ns" ] && left="$left netns:$ns"
done
for cg in "${TB_CGROUPS[@]}"; do
	[ -d "$cg" ] && left="$left cgroup:$cg"
done
for pid in "${TB_PIDS[@]}" $pids; do
	running "$pid" && left="$left pid:$pid($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
done
[ -e "$TB_TMP" ] && [ -z "${LDMT_KEEP:-}" ] && left="$left $TB_TMP"
cleanup_err=$(cat "$TB_TMP.cleanup" 2>/dev/null)
rm -f "$TB_TMP.cleanup"
[ -z "$left" ] || { printf '%2d ✘ cleanup left:%s %s\n' $((STEP + 1)) "$left" "$cleanup_err"; \
	echo "demo: FAILED at step $((STEP + 1))"; exit 1; }
secs=$(awk -v ns=$(($(date +%s%N) - DEMO_T0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
ok "cleanup: the daemon and test programs stopped; namespaces, cgroups and temporary files removed (the system user '$TB_USER' stays for the next run); ${secs} s in all."
echo "demo: ok"
