#!/usr/bin/env bash
# Added latency of an allowed DNS lookup through the enforcer (query judged by name, answer
# recorded before it is let in) vs the same lookup with no ldm rules: dnsmasq in the test
# bed's "internet", 500 lookups per run, runs interleaved (A B A B), the median of the
# pairwise p50 ratios reported. Target: none in the issue; printed as information.
# Usage (root): dns_latency.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
ROUNDS=${LDM_BENCH_ROUNDS:-5}
COUNT=${LDM_BENCH_LOOKUPS:-500}

tb_init
tb_policy dnsbench 'allow = ( { proto = "tcp"; host = "tiles.example.org"; ports = "443" } );'
tb_start_daemon "$BUILD" || exit 1
tb_spawn_in "$TB_INET" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$INET4" --address=/example.org/"$INET4" --pid-file= \
	--log-facility=/dev/null --user=root
sleep 0.5

ratios=()
for r in $(seq 1 "$ROUNDS"); do
	bare=$(tb_as_user "$TB_LAP" "$NET" dns-time "$INET4" tiles.example.org "$COUNT" |
		awk '{ print $3 }')
	ldm=$(tb_as_user "$TB_LAP" "$RUN" --quiet --socket "$TB_SOCK" --policy dnsbench -- \
		"$NET" dns-time "$INET4" tiles.example.org "$COUNT" | awk '{ print $3 }')
	echo "round $r: p50 bare ${bare} us, through the enforcer ${ldm} us"
	[ -n "$bare" ] && [ -n "$ldm" ] && ratios+=("$(bench_calc "$ldm / $bare")")
done
ratio=$(printf '%s\n' "${ratios[@]}" | bench_median)
bench_result dns_latency "lookup p50 ldm/bare (median of $ROUNDS)" "$ratio" - -
