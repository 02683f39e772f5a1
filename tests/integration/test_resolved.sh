#!/usr/bin/env bash
# Every name a session resolved to an address is recorded: an app resolves two names that a
# resolver answers with the same address (a shared CDN address), then connects to it. The
# log has a `resolved` record for each name (host, dst), and `ldmctl suggest` names both for
# that destination, not only the one resolved last. Against dnsmasq in the test bed's
# "internet", in an audit-mode session (every lookup and connection let through, recorded).
# Usage: test_resolved.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"

command -v dnsmasq >/dev/null || { echo "test_resolved: dnsmasq missing (make deps)"; exit 1; }
tb_init

tb_policy watch 'name = "watch";
mode = "audit";'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary; exit 1; }

# One address for two unrelated names, as a CDN serves many sites from one address.
tb_spawn_in "$TB_INET" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$INET4" --address=/tiles.example.org/"$INET4" \
	--address=/cdn.example.net/"$INET4" --pid-file= --log-facility=/dev/null --user=root
dns1=$TB_LAST
tb_spawn_in "$TB_INET" "$NET" tcp-serve :: 443 60 >/dev/null
sleep 0.5

# Both names are looked up, then tiles.example.org again, and one connection follows: the
# connection alone cannot tell which name the app meant.
tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy watch -- sh -c "
	$NET dns-time $INET4 tiles.example.org 1 && $NET dns-time $INET4 cdn.example.net 1 &&
	$NET resolve-connect $INET4 tiles.example.org 443 3" >"$TB_TMP/app.out" 2>&1
rc=$?
cat "$TB_TMP/app.out" >&2
tb_check "the app resolved the names and connected (rc $rc)" [ "$rc" = 0 ]
sess=$(sed -n 's/.*"event":"session_start","session":\([0-9]*\).*/\1/p' "$TB_LOG" | tail -1)
ended() { [ "$(tb_log_count '"event":"session_end"' "\"session\":$sess,")" -ge 1 ]; }
tb_wait 5 ended
tb_check "the session $sess ended" ended

for name in tiles.example.org cdn.example.net; do
	tb_check "a resolved record names $name with the address" \
		[ "$(tb_log_count '"event":"resolved"' "\"session\":$sess," "\"dst\":\"$INET4\"" \
			"\"host\":\"$name\"")" = 1 ]
done
tb_check "the connection's record names the name resolved most recently" \
	[ "$(tb_log_count '"event":"would_block"' "\"dst\":\"$INET4\"" '"dport":443' \
		'"host":"tiles.example.org"')" = 1 ]

"$CTL" suggest "$sess" --log "$TB_LOG" >"$TB_TMP/draft.conf" 2>"$TB_TMP/suggest.err"
tb_check "suggest writes a draft" [ -s "$TB_TMP/draft.conf" ]
for name in tiles.example.org cdn.example.net; do
	tb_check "the draft allows tcp 443 to $name" \
		grep -q "proto = \"tcp\"; host = \"$name\"; ports = \"443\";" "$TB_TMP/draft.conf"
done
tb_check "the draft passes ldmctl check" "$CTL" check "$TB_TMP/draft.conf"

# A flood of answers: 100 names, each to an address of its own, within well under a second.
# At most LDM_RESOLVED_PER_SEC (64) `resolved` records a second name their address; the rest
# fold into one record per parent domain without dst, with a count: none is lost.
kill "$dns1"
tb_wait_pid 5 "$dns1"
hr=()
for i in $(seq 1 100); do hr+=("--host-record=n$i.flood.example,10.77.$((i / 250)).$((i % 250 + 1))"); done
tb_spawn_in "$TB_INET" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$INET4" "${hr[@]}" --pid-file= --log-facility=/dev/null \
	--user=root
sleep 0.5
tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy watch -- python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
ok = 0
for i in range(1, 101):
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for p in ("n%d" % i, "flood", "example"):
        q += bytes([len(p)]) + p.encode()
    s.sendto(q + b"\0" + struct.pack(">HH", 1, 1), (sys.argv[1], 53))
    try:
        s.recv(512)
        ok += 1
    except OSError:
        pass
print("answers", ok)' "$INET4" >"$TB_TMP/flood.out" 2>&1
cat "$TB_TMP/flood.out" >&2
sess=$(sed -n 's/.*"event":"session_start","session":\([0-9]*\).*/\1/p' "$TB_LOG" | tail -1)
tb_wait 5 ended
rr() { grep '"event":"resolved"' "$TB_LOG" | grep "\"session\":$sess," | grep 'flood\.example'; }
with_dst=$(rr | grep -c '"dst":')
without=$(rr | grep -vc '"dst":')
sum=$(rr | sed -n 's/.*"count":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
tb_log "flood: $(cat "$TB_TMP/flood.out"); resolved records: $with_dst with dst, $without without; counts $sum"
tb_check "flood: all 100 answers came" grep -q "answers 100" "$TB_TMP/flood.out"
tb_check "flood: at most 64 resolved records with an address ($with_dst)" [ "$with_dst" -le 64 ]
tb_check "flood: the rest fold into at most 4 records without one ($without)" \
	sh -c "[ $without -ge 1 ] && [ $without -le 4 ]"
tb_check "flood: their counts add up to the 100 names ($sum)" [ "$sum" = 100 ]

tb_summary test_resolved
