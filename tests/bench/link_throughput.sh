#!/usr/bin/env bash
# Aircraft link throughput under ldm-run vs the same programs with no ldm rules at all, in
# the namespace test bed: UDP 280-byte (MAVLink) and 1,400-byte (RTP) streams from the drone
# to a receiver in the laptop, and a TCP bulk transfer from the laptop to the drone (an
# allowed peer). Rounds are interleaved A B A B: A = daemon running, receiver/sender inside
# an ldm-run session; B = daemon stopped (SIGTERM with no session: every LDM- rule removed),
# same program, same user, same CPUs. Reported: the median of the pairwise ratios A/B.
# Target >= 0.95 each. A third arm C (daemon stopped, one mangle rule with a conntrack
# match loaded, so the kernel tracks connections as it does under the enforcer) splits the
# cost: A/C is what the enforcer adds beyond connection tracking, C/B what conntrack itself
# costs (informational). Usage (root): link_throughput.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NL="$BUILD/bench/netload"
RUN="$BUILD/ldm-run"
ROUNDS=${LDM_BENCH_ROUNDS:-5}
SECS=${LDM_BENCH_SECS:-2}

tb_init
tb_policy link 'name = "link";
allow = (
  { proto = "udp"; from = "lan"; direction = "in"; ports = "14550"; comment = "MAVLink in" },
  { proto = "udp"; from = "lan"; direction = "in"; ports = "5600"; comment = "RTP in" },
  { proto = "tcp"; to = "lan"; ports = "5760"; comment = "bulk to the aircraft" }
);'

# as_app MODE PROGRAM...: the program as the test user in the laptop, pinned to CPU 1,
# inside a session (MODE ldm) or not (MODE bare, ct).
as_app() {
	local mode=$1
	shift
	if [ "$mode" = ldm ]; then
		tb_as_user "$TB_LAP" taskset -c 1 "$RUN" --socket "$TB_SOCK" --quiet --policy link -- "$@"
	else
		tb_as_user "$TB_LAP" taskset -c 1 "$@"
	fi
}

# Every arm waits SETTLE seconds between its program's start and the measurement, so that
# no rule commit of the daemon (the session's own, in the background, or the previous
# session's end) shares the CPUs with it.
SETTLE=0.5
settle() { sleep "$SETTLE"; }

# udp_rate MODE SIZE PORT: bytes/s the receiver got from a drone blasting SIZE-byte datagrams.
udp_rate() {
	local out="$TB_TMP/out/udp.$1.$2"
	rm -f "$out"
	as_app "$1" "$NL" udp-sink "$3" $((SECS + 10)) 300 >"$out" 2>&1 &
	local sink=$!
	bench_wait_line "$out" ready || { echo 0; return; }
	settle
	tb_in "$TB_DRN" taskset -c 0 "$NL" udp-blast "$LAPTOP4" "$3" "$2" "$SECS" >/dev/null
	wait "$sink"
	bench_calc "$(bench_field "$out" bytes) / $(bench_field "$out" secs)"
}

# tcp_rate MODE: bytes/s the drone's sink got from the laptop's sender.
tcp_rate() {
	local out="$TB_TMP/out/tcp.$1"
	rm -f "$out"
	tb_in "$TB_DRN" taskset -c 0 "$NL" tcp-sink 5760 $((SECS + 10)) >"$out" 2>&1 &
	local sink=$!
	bench_wait_line "$out" ready || { echo 0; return; }
	as_app "$1" sh -c 'sleep "$0"; exec "$@"' "$SETTLE" "$NL" tcp-blast "$DRONE4" 5760 "$SECS" >/dev/null
	wait "$sink"
	bench_calc "$(bench_field "$out" bytes) / $(bench_field "$out" secs)"
}

sessions_ended() {
	[ "$(tb_log_count '"event":"session_end"')" = "$(tb_log_count '"event":"session_start"')" ]
}

no_ldm_rules() {
	! tb_in "$TB_LAP" iptables-save | grep -q LDM- && ! tb_in "$TB_LAP" ip6tables-save | grep -q LDM-
}

: >"$TB_TMP/ratios"
for r in $(seq 1 "$ROUNDS"); do
	tb_start_daemon "$BUILD" || exit 1
	a280=$(udp_rate ldm 280 14550)
	a1400=$(udp_rate ldm 1400 5600)
	atcp=$(tcp_rate ldm)
	tb_wait 10 sessions_ended || echo "link_throughput: a session did not end" >&2
	tb_stop_daemon
	no_ldm_rules || { echo "link_throughput: LDM- rules left after the daemon stopped"; exit 1; }
	b280=$(udp_rate bare 280 14550)
	b1400=$(udp_rate bare 1400 5600)
	btcp=$(tcp_rate bare)
	tb_in "$TB_LAP" iptables -t mangle -I PREROUTING -m conntrack --ctstate INVALID -j RETURN
	c280=$(udp_rate ct 280 14550)
	c1400=$(udp_rate ct 1400 5600)
	ctcp=$(tcp_rate ct)
	tb_in "$TB_LAP" iptables -t mangle -D PREROUTING -m conntrack --ctstate INVALID -j RETURN
	printf 'round %d: udp280 %s/%s/%s udp1400 %s/%s/%s tcp %s/%s/%s (ldm/bare/ct, bytes/s)\n' \
		"$r" "$a280" "$b280" "$c280" "$a1400" "$b1400" "$c1400" "$atcp" "$btcp" "$ctcp"
	printf 'udp280 %s %s %s %s %s\nudp1400 %s %s %s %s %s\ntcp %s %s %s %s %s\n' \
		"$(bench_calc "$a280 / $b280")" "$a280" "$b280" "$(bench_calc "$a280 / $c280")" \
		"$(bench_calc "$c280 / $b280")" \
		"$(bench_calc "$a1400 / $b1400")" "$a1400" "$b1400" "$(bench_calc "$a1400 / $c1400")" \
		"$(bench_calc "$c1400 / $b1400")" \
		"$(bench_calc "$atcp / $btcp")" "$atcp" "$btcp" "$(bench_calc "$atcp / $ctcp")" \
		"$(bench_calc "$ctcp / $btcp")" >>"$TB_TMP/ratios"
done

for m in udp280 udp1400 tcp; do
	ratio=$(awk -v m=$m '$1 == m { print $2 }' "$TB_TMP/ratios" | bench_median)
	a=$(awk -v m=$m '$1 == m { print $3 }' "$TB_TMP/ratios" | bench_median)
	b=$(awk -v m=$m '$1 == m { print $4 }' "$TB_TMP/ratios" | bench_median)
	printf 'link_throughput: %-8s ldm %8.1f MB/s  bare %8.1f MB/s  median ratio %s\n' "$m" \
		"$(bench_calc "$a / 1e6")" "$(bench_calc "$b / 1e6")" "$ratio"
	bench_result link_throughput "$m ldm/bare (median of $ROUNDS pairs)" "$ratio" ">= 0.95" "v >= 0.95"
	bench_result link_throughput "$m ldm/conntrack-only (beyond conntrack)" \
		"$(awk -v m=$m '$1 == m { print $5 }' "$TB_TMP/ratios" | bench_median)" - -
	bench_result link_throughput "$m conntrack-only/bare (conntrack itself)" \
		"$(awk -v m=$m '$1 == m { print $6 }' "$TB_TMP/ratios" | bench_median)" - -
done
