#!/usr/bin/env bash
# The cost of counting a session's traffic at its end: a session opens N new UDP flows to
# the drone (allowed in the kernel, so the daemon sees none of them), then ends; the daemon
# reads their conntrack entries and writes the traffic records. Reported: the daemon's CPU
# time for the end (/proc/PID/stat, from the last flow to session_end) with few flows and
# with N, and the difference per flow.
# Usage (root): traffic_end.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
FLOWS=${LDM_BENCH_FLOWS:-15000}

tb_init
tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'
tb_start_daemon "$BUILD" || exit 1

# end_cpu N: one session that sprays N flows, then the daemon's CPU ms for its end.
end_cpu() {
	local n=$1 before after ends
	ends=$(grep -c '"event":"session_end"' "$TB_LOG")
	tb_app_shell "$RUN" t || return 1
	sleep 1 # the compiled rules are in: the flows stay in the kernel
	tb_app_cmd "$NET udp-spray $DRONE4 14550 $n >/dev/null 2>&1"
	before=$(tb_proc_cpu_ms "$TB_DAEMON")
	printf 'exit 0\n' >&"$TB_APP_FD" # the session's shell ends, and with it the session
	tb_wait 20 bash -c "[ \$(grep -c '\"event\":\"session_end\"' '$TB_LOG') -gt $ends ]" ||
		return 1
	after=$(tb_proc_cpu_ms "$TB_DAEMON")
	echo $((after - before))
}

few=$(end_cpu 10)
many=$(end_cpu "$FLOWS")
counted=$(grep '"event":"traffic"' "$TB_LOG" | tail -1 | sed -E 's/.*"packets_out":([0-9]+).*/\1/')
printf 'traffic_end: daemon CPU at the end: %s ms (10 flows), %s ms (%s flows, %s counted)\n' \
	"$few" "$many" "$FLOWS" "$counted"
bench_result traffic_end "daemon CPU for a session end, 10 flows, ms" "$few" - -
bench_result traffic_end "daemon CPU for a session end, $FLOWS flows, ms" "$many" - -
bench_result traffic_end "added per flow counted, us" \
	"$(bench_calc "($many - $few) * 1000 / $FLOWS")" - -
