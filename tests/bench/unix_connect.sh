#!/usr/bin/env bash
# What ldm-run's connect() mediation costs (launcher/run/unixmed.c): every connect() of a
# session is made by the supervisor. Side by side, the same unprivileged user in the same
# network namespace, outside a session and inside one (ldm-run, policy uxbench):
#   unix  connect() to an allowed Unix socket (a path rule), p50 of COUNT connects
#   tcp   a blocking connect() to an allowed TCP peer on the aircraft link (kernel-accepted
#         rule), p50 of COUNT connects
#   udp   the per-packet path: send() on a connected UDP socket to the aircraft, PACKETS
#         packets of 300 bytes (a MAVLink-sized datagram); ratio = outside / inside time per
#         send (1.0: no cost). send() is not mediated; what a session costs here is the
#         netfilter chain and conntrack, as before.
# Rounds are interleaved; the medians are reported. Targets: added p50 <= 30 us per
# connect, udp ratio >= 0.98. Usage (root): unix_connect.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
UC="$BUILD/bench/unix_connect"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
ROUNDS=${LDM_BENCH_ROUNDS:-5}
COUNT=${LDM_BENCH_CONNECTS:-3000}
PACKETS=${LDM_BENCH_PACKETS:-200000}

tb_init
chmod o+x "$BUILD" "$BUILD/bench" "$BUILD/tests" "$BUILD/tests/tools" 2>/dev/null
D="$TB_TMP/sock"
install -d -m 0755 -o "$TB_USER" -g "$TB_USER" "$D"
tb_policy uxbench "name = \"uxbench\";
allow = (
  { proto = \"unix\"; to = \"$D/srv.sock\"; comment = \"the benchmark's server\"; },
  { proto = \"tcp\"; to = \"$DRONE4\"; ports = \"5760\"; comment = \"a TCP peer\"; },
  { proto = \"udp\"; to = \"$DRONE4\"; ports = \"14550\"; comment = \"MAVLink\"; }
);"
tb_start_daemon "$BUILD" || exit 1
tb_spawn tb_as_user "$TB_LAP" "$UC" serve "$D/srv.sock" 3600
tb_spawn tb_in "$TB_DRN" "$NET" tcp-serve 0.0.0.0 5760 3600 >/dev/null
tb_spawn tb_in "$TB_DRN" socat -u UDP-RECV:14550 OPEN:/dev/null
tb_wait 5 test -S "$D/srv.sock" || { echo "unix_connect: no server"; exit 1; }
tb_app_shell "$RUN" uxbench || { echo "unix_connect: no session"; exit 1; }
O="$TB_TMP/out"

outside() { tb_as_user "$TB_LAP" "$@"; }
for r in $(seq 1 "$ROUNDS"); do
	for kind in unix tcp udp; do
		case $kind in
		unix) args="unix $D/srv.sock $COUNT" ;;
		tcp) args="tcp $DRONE4 5760 $COUNT" ;;
		udp) args="udp $DRONE4 14550 $PACKETS 300" ;;
		esac
		# shellcheck disable=SC2086
		outside "$UC" $args >"$O/out-$kind.$r" || echo "unix_connect: $kind outside failed"
		tb_app_cmd "'$UC' $args >'$O/in-$kind.$r'" || echo "unix_connect: $kind inside failed"
	done
done

med() { # med PREFIX KIND FIELD
	for r in $(seq 1 "$ROUNDS"); do bench_field "$O/$1-$2.$r" "$3"; done | bench_median
}
printf '%-5s %14s %14s %10s\n' what outside inside added
for kind in unix tcp; do
	o=$(med out "$kind" p50_us)
	i=$(med in "$kind" p50_us)
	a=$(bench_calc "$i - $o")
	printf '%-5s %11s us %11s us %7s us   (p50 of %s connects, median of %s rounds)\n' \
		"$kind" "$o" "$i" "$a" "$COUNT" "$ROUNDS"
	bench_result unix_connect "$kind connect() p50 added (us)" "$a" "<= 30" "v <= 30"
done
o=$(med out udp ns_per_send)
i=$(med in udp ns_per_send)
ratio=$(bench_calc "$o / $i")
printf '%-5s %11s ns %11s ns   ratio %s   (ns per send of 300 bytes)\n' udp "$o" "$i" "$ratio"
bench_result unix_connect "udp send() per packet, outside/inside" "$ratio" ">= 0.98" "v >= 0.98"
