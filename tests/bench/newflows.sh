#!/usr/bin/env bash
# New flows per second through the enforcer vs a bare NFQUEUE loop (nfq_baseline.c) on the
# same queue setup, with a 10,000-rule policy loaded; then the added latency of a judged
# connect() vs a kernel-accepted one, client, server and daemon pinned to one CPU.
#
# One long-lived ldm-run session (policy flows10k) sends COUNT new UDP flows (distinct source
# ports) per run:
#   blocked  to the internet (198.51.100.7): queued, judged, rejected; the run ends when
#            every flow's socket got its ICMP error (the verdict came back)
#   allowed  to the drone, port 20000+: a deny rule for another port of the drone makes the
#            kernel queue all UDP to it (deny rules match address and protocol only), so
#            these flows reach the enforcer, which allows them; the run ends when the drone
#            has received every datagram
#   baseline the same flows as "allowed", but ldm-enforcerd is stopped (kill -9: the rules
#            stay) and nfq_baseline answers queue 4242, accepting with ldm's approved mark
# Rounds are interleaved; each ratio is enforcer/baseline of one round; the median is
# reported (target >= 1/1.5 = 0.667). The 10,000 rules are 9,992 `host` rules (the kind
# only the enforcer can judge; they add nothing to the kernel chain) and 8 address rules.
# Usage (root): newflows.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NL="$BUILD/bench/netload"
RUN="$BUILD/ldm-run"
ROUNDS=${LDM_BENCH_ROUNDS:-5}
COUNT=${LDM_BENCH_FLOWS:-15000}
LAT=${LDM_BENCH_CONNECTS:-2000}
APPROVED=0x08000000 # the approved bit of the default mark mask 0x0ff00000

# udp-flows keeps every blocked flow's socket open until its error comes: COUNT < ulimit -Hn
tb_init
ip -n "$TB_DRN" addr add 192.168.144.11/24 dev veth-lap
# Conntrack entries of the runs' flows expire soon; ICMP errors are not rate-limited (the
# blocked runs count them).
tb_sysctl "$TB_LAP" net.netfilter.nf_conntrack_udp_timeout=5 net.ipv4.icmp_ratemask=0 \
	net.ipv4.icmp_msgs_per_sec=1000000 2>/dev/null
{
	echo 'name = "flows10k";'
	echo 'deny = ( { proto = "udp"; to = "192.168.144.10"; ports = "9"; comment = "queues all UDP to .10" },'
	echo '         { proto = "tcp"; to = "192.168.144.10"; ports = "9"; comment = "queues all TCP to .10" } );'
	echo 'allow = ('
	echo '  { proto = "udp"; to = "192.168.144.10"; ports = "20000-29999"; comment = "judged in userspace" },'
	echo '  { proto = "tcp"; to = "192.168.144.10"; ports = "5761"; comment = "judged connect" },'
	echo '  { proto = "tcp"; to = "192.168.144.11"; ports = "5760"; comment = "kernel-accepted connect" },'
	echo '  { proto = "udp"; to = "lan"; ports = "14550" },'
	echo '  { proto = "udp"; from = "lan"; direction = "in"; ports = "14550" },'
	for i in $(seq 1 9992); do
		echo "  { proto = \"tcp\"; host = \"h$i.tiles.example.org\"; ports = \"443\" },"
	done
	echo '  { proto = "tcp"; to = "192.168.42.1"; ports = "554" }'
	echo ');'
} >"$TB_TMP/flows10k.conf"
tb_policy flows10k "$(cat "$TB_TMP/flows10k.conf")"
[ "$("$BUILD/ldmctl" check "$TB_TMP/policies/flows10k.conf" >/dev/null 2>&1; echo $?)" = 0 ] ||
	{ echo "newflows: the 10k policy does not check"; "$BUILD/ldmctl" check "$TB_TMP/policies/flows10k.conf" | head; exit 1; }

tb_start_daemon "$BUILD" || exit 1
tb_app_shell "$RUN" flows10k || { echo "newflows: no session"; cat "$TB_TMP/daemon.out"; exit 1; }
O="$TB_TMP/out"

# sink_run PORT NAME: a drone sink for one run; waits for it to be ready. Sets SINK.
sink_run() {
	rm -f "$O/$2"
	tb_spawn_in "$TB_DRN" "$NL" udp-sink "$1" 60 1000 >"$O/$2" 2>&1
	SINK=$TB_LAST
	bench_wait_line "$O/$2" ready
}

: >"$TB_TMP/rates"
for r in $(seq 1 "$ROUNDS"); do
	# blocked
	tb_app_cmd "$NL udp-flows $INET4 $((7000 + r)) $COUNT 30000 errors >$O/blk.$r 2>&1"
	blk=$(bench_calc "$(bench_field "$O/blk.$r" errors) / (($(bench_field "$O/blk.$r" done) - $(bench_field "$O/blk.$r" start)) / 1e9)")
	# allowed by the enforcer
	sink_run $((20000 + r)) alw.sink.$r
	tb_app_cmd "$NL udp-flows $DRONE4 $((20000 + r)) $COUNT 30000 >$O/alw.$r 2>&1"
	wait "$SINK"
	alw=$(bench_calc "$(bench_field "$O/alw.sink.$r" packets) / (($(bench_field "$O/alw.sink.$r" last) - $(bench_field "$O/alw.$r" start)) / 1e9)")
	# baseline: same session, same rules, nfq_baseline on the queue
	kill -KILL "$TB_DAEMON"
	wait "$TB_DAEMON" 2>/dev/null
	rm -f "$O/base.$r"
	tb_spawn_in "$TB_LAP" "$BUILD/bench/nfq_baseline" 4242 "$APPROVED" 120 >"$O/base.$r" 2>&1
	base_pid=$TB_LAST
	bench_wait_line "$O/base.$r" ready
	sink_run $((21000 + r)) base.sink.$r
	tb_app_cmd "$NL udp-flows $DRONE4 $((21000 + r)) $COUNT 30000 >$O/bflows.$r 2>&1"
	wait "$SINK"
	kill -TERM "$base_pid"
	wait "$base_pid" 2>/dev/null
	base=$(bench_calc "$(bench_field "$O/base.sink.$r" packets) / (($(bench_field "$O/base.sink.$r" last) - $(bench_field "$O/bflows.$r" start)) / 1e9)")
	tb_start_daemon "$BUILD" || exit 1
	tb_wait 10 sh -c "[ \$(grep -c 'resumed after a daemon restart' '$TB_LOG') -ge $r ]"
	sleep 0.5
	printf 'round %d: flows/s blocked %s (%s of %s errors) allowed %s (%s received) baseline %s (%s received)\n' \
		"$r" "$blk" "$(bench_field "$O/blk.$r" errors)" "$COUNT" "$alw" \
		"$(bench_field "$O/alw.sink.$r" packets)" "$base" "$(bench_field "$O/base.sink.$r" packets)"
	echo "$blk $alw $base $(bench_calc "$blk / $base") $(bench_calc "$alw / $base")" >>"$TB_TMP/rates"
done
col() { awk -v c="$1" '{ print $c }' "$TB_TMP/rates" | bench_median; }
printf 'newflows: median flows/s: blocked %s, allowed by the enforcer %s, nfq_baseline %s\n' \
	"$(col 1)" "$(col 2)" "$(col 3)"
bench_result newflows "blocked flows/s (10k rules)" "$(col 1)" - -
bench_result newflows "enforcer-allowed flows/s (10k rules)" "$(col 2)" - -
bench_result newflows "nfq_baseline flows/s" "$(col 3)" - -
bench_result newflows "blocked/baseline (median of $ROUNDS)" "$(col 4)" ">= 0.667" "v >= 0.667"
bench_result newflows "allowed/baseline (median of $ROUNDS)" "$(col 5)" ">= 0.667" "v >= 0.667"

# Latency: judged (queued, allowed by the enforcer) vs kernel-accepted TCP connect().
taskset -a -p -c 1 "$TB_DAEMON" >/dev/null
tb_spawn_in "$TB_DRN" taskset -c 1 "$NL" tcp-accept 5760 600 >/dev/null
tb_spawn_in "$TB_DRN" taskset -c 1 "$NL" tcp-accept 5761 600 >/dev/null
sleep 0.3
: >"$TB_TMP/lat"
for r in $(seq 1 3); do
	tb_app_cmd "taskset -c 1 $NL connect-lat 192.168.144.11 5760 $LAT >$O/kern.$r 2>&1"
	tb_app_cmd "taskset -c 1 $NL connect-lat $DRONE4 5761 $LAT >$O/judged.$r 2>&1"
	echo "$(bench_field "$O/kern.$r" p50) $(bench_field "$O/kern.$r" p99) $(bench_field "$O/judged.$r" p50) $(bench_field "$O/judged.$r" p99) $(bench_field "$O/judged.$r" failed)" >>"$TB_TMP/lat"
done
cat "$TB_TMP/lat" | sed 's/^/connect p50 p99 kernel, p50 p99 judged, failed: /'
lat() { awk -v c="$1" '{ print $c }' "$TB_TMP/lat" | bench_median; }
printf 'newflows: connect() p50/p99 us: kernel-accepted %s/%s, judged %s/%s\n' "$(lat 1)" "$(lat 2)" "$(lat 3)" "$(lat 4)"
bench_result newflows "connect() p50 added by judging, us (pinned)" "$(bench_calc "$(lat 3) - $(lat 1)")" "<= 5" "v <= 5"
bench_result newflows "connect() p99 added by judging, us (pinned)" "$(bench_calc "$(lat 4) - $(lat 2)")" - -

# The same judged connect() through nfq_baseline (daemon stopped, rules kept; the bare loop
# pinned to the same CPU accepts with the approved mark): what any NFQUEUE round trip costs,
# and so what the enforcer itself adds on top of it.
kill -KILL "$TB_DAEMON"
wait "$TB_DAEMON" 2>/dev/null
rm -f "$O/lat.base"
tb_spawn_in "$TB_LAP" taskset -c 1 "$BUILD/bench/nfq_baseline" 4242 "$APPROVED" 120 >"$O/lat.base" 2>&1
base_pid=$TB_LAST
bench_wait_line "$O/lat.base" ready
: >"$TB_TMP/lat.base"
for r in $(seq 1 3); do
	tb_app_cmd "taskset -c 1 $NL connect-lat 192.168.144.11 5760 $LAT >$O/bkern.$r 2>&1"
	tb_app_cmd "taskset -c 1 $NL connect-lat $DRONE4 5761 $LAT >$O/bq.$r 2>&1"
	echo "$(bench_field "$O/bkern.$r" p50) $(bench_field "$O/bq.$r" p50)" >>"$TB_TMP/lat.base"
done
kill -TERM "$base_pid"
wait "$base_pid" 2>/dev/null
blat() { awk -v c="$1" '{ print $c }' "$TB_TMP/lat.base" | bench_median; }
printf 'newflows: connect() p50 us through nfq_baseline: kernel-accepted %s, queued %s\n' "$(blat 1)" "$(blat 2)"
bench_result newflows "connect() p50 added by a bare NFQUEUE loop, us (pinned)" \
	"$(bench_calc "$(blat 2) - $(blat 1)")" - -
bench_result newflows "connect() p50 added by the enforcer beyond it, us" \
	"$(bench_calc "($(lat 3) - $(lat 1)) - ($(blat 2) - $(blat 1))")" - -
