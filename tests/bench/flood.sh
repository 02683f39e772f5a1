#!/usr/bin/env bash
# Flood: 100,000 blocked attempts (new UDP flows, one process, as fast as it sends them) to
# the internet from an ldm-run session, while the same session streams 280-byte datagrams to
# the drone (1,000 a second, allowed in the kernel). Reported: the daemon's CPU time for the
# flood (/proc/PID/stat), its peak RSS (VmHWM; target <= 8 MiB), the log written (records
# and bytes: folded), and the aircraft datagrams lost (target 0).
# Usage (root): flood.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NL="$BUILD/bench/netload"
RUN="$BUILD/ldm-run"
COUNT=${LDM_BENCH_FLOOD:-100000}
O=""

tb_init
O="$TB_TMP/out"
tb_policy flood 'name = "flood";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'
tb_start_daemon "$BUILD" || exit 1
tb_app_shell "$RUN" flood || exit 1
sleep 1.2 # the session's start records are written and folded before we count

tb_spawn_in "$TB_DRN" "$NL" udp-sink 14550 120 3000 >"$O/air.sink" 2>&1
sink=$TB_LAST
bench_wait_line "$O/air.sink" ready
cpu0=$(tb_proc_cpu_ms "$TB_DAEMON")
hwm0=$(tb_proc_status "$TB_DAEMON" VmHWM)
log0=$(stat -c %s "$TB_LOG")
rec0=$(wc -l <"$TB_LOG")
t0=$(date +%s%N)
tb_app_cmd "$NL udp-blast $DRONE4 14550 280 8 1000 >$O/air.out 2>&1 & sleep 1; $NL udp-flows $INET4 7777 $COUNT 30000 >$O/flood.out 2>&1; wait"
wait "$sink"
sleep 2.5 # fold windows close, the last records are written
cpu1=$(tb_proc_cpu_ms "$TB_DAEMON")
hwm=$(tb_proc_status "$TB_DAEMON" VmHWM)
log1=$(stat -c %s "$TB_LOG")
rec1=$(wc -l <"$TB_LOG")
blocked=$(tb_log_sum '"dport":7777')
sent=$(bench_field "$O/flood.out" sent)
secs=$(bench_calc "($(bench_field "$O/flood.out" sent_at) - $(bench_field "$O/flood.out" start)) / 1e9")
air_sent=$(bench_field "$O/air.out" sent)
air_got=$(bench_field "$O/air.sink" packets)
printf 'flood: %s attempts sent in %s s (%s/s); the log counts %s blocked\n' "$sent" "$secs" \
	"$(bench_calc "$sent / $secs")" "$blocked"
printf 'flood: daemon CPU %s ms (%s us per attempt), VmHWM %s kB, log +%s records +%s bytes\n' \
	$((cpu1 - cpu0)) "$(bench_calc "($cpu1 - $cpu0) * 1000 / $sent")" "$hwm" $((rec1 - rec0)) \
	$((log1 - log0))
printf 'flood: aircraft stream: sent %s, received %s\n' "$air_sent" "$air_got"
bench_result flood "daemon CPU for $sent blocked attempts, ms" $((cpu1 - cpu0)) - -
# Attempts reuse 20,000 source ports: a repeat of a 5-tuple within 2 s is answered from the
# flow cache (nfq.c FLOW_TTL_MS) and is not counted again, so the count is below COUNT.
bench_result flood "attempts counted in the log (20k distinct 5-tuples)" "$blocked" - -
bench_result flood "daemon VmHWM before the flood, KiB" "$hwm0" - -
bench_result flood "daemon peak RSS (VmHWM), KiB" "$hwm" "<= 8192" "v <= 8192"
bench_result flood "log written: records / bytes" "$((rec1 - rec0))/$((log1 - log0))" - -
bench_result flood "aircraft datagrams lost" "$((air_sent - air_got))" "= 0" "v == 0"
