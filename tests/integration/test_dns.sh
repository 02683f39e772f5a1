#!/usr/bin/env bash
# DNS judged by name: a query leaves only for a name a host rule (or dns_allow) allows; the
# answer's addresses are recorded for the session before it is let in, and the connection
# that follows is judged by the name. Against dnsmasq in the test bed's "internet".
# Usage: test_dns.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"

command -v dnsmasq >/dev/null || { echo "test_dns: dnsmasq missing (make deps)"; exit 1; }
tb_init

tb_policy names 'name = "names";
allow = ( { proto = "tcp"; host = "tiles.example.org"; ports = "443"; comment = "tiles" } );
deny = ( { host = "bad.example.org"; comment = "never" } );
dns_allow = [ "ntp.example.org" ];
known = ( { host = "*.example.org"; label = "Example services" } );'

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary; exit 1; }

run_app() {
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy names -- "$@"
}

# The internet's resolver answers every name under example.org with its web server.
tb_spawn_in "$TB_INET" dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$INET4" --address=/example.org/"$INET4" --pid-file= \
	--log-facility=/dev/null --user=root
tb_spawn_in "$TB_INET" "$NET" tcp-serve :: 443 60 >/dev/null
tb_wait_listen "$TB_INET" udp:53 tcp:443
tb_capture "$TB_INET" veth-rtr "$TB_TMP/inet.pcap"
cap=$TB_LAST

out=$(run_app "$NET" resolve-connect "$INET4" tiles.example.org 443 3 2>&1)
rc=$?
tb_check "an allowed name resolves ($out)" \
	sh -c "printf '%s' \"\$1\" | grep -q 'tiles.example.org is $INET4'" _ "$out"
tb_check "and the connection to it, judged by the name, goes through (rc $rc)" [ "$rc" = 0 ]
# The enforcer approved it: an `allowed` record names the peer, the name and the rule.
allowed_tiles() {
	[ "$(tb_log_count '"event":"allowed"' "\"dst\":\"$INET4\",\"dport\":443," \
		'"host":"tiles.example.org"' '"rule":1,"comment":"tiles"')" -ge 1 ]
}
tb_check "an allowed record names the approved peer, its name and rule" tb_wait 3 allowed_tiles

start=$(date +%s%N)
run_app "$NET" resolve-connect "$INET4" evil.example.org 443 3 >/dev/null 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
tb_check "a name no rule allows does not resolve (rc $rc)" [ "$rc" = 6 ]
lim=$(tb_ms_limit 2000)
tb_check "and fails fast (${ms} ms < $lim)" [ "$ms" -lt "$lim" ]
tb_check "the blocked query is logged with the name and its known label" \
	[ "$(tb_log_count '"event":"blocked"' '"host":"evil.example.org"' \
		'"label":"Example services"' '"dport":53' 'DNS query (A)')" -ge 1 ]
run_app "$NET" resolve-connect "$INET4" bad.example.org 443 3 >/dev/null 2>&1
tb_check "a denied name does not resolve" [ "$?" = 6 ]
tb_check "and the deny rule is named" [ "$(tb_log_count '"host":"bad.example.org"' \
	'"comment":"never"')" -ge 1 ]

# The address tiles.example.org resolved to, connected to directly in a new session that
# resolved nothing: blocked (names are per session, and an address is not a name).
run_app "$NET" tcp-connect "$INET4" 443 3 >/dev/null 2>&1
tb_check "the same address without the name is blocked" [ "$?" = 1 ]
# A name that dns_allow lets resolve is not a licence to connect.
run_app "$NET" resolve-connect "$INET4" ntp.example.org 443 3 >/dev/null 2>&1
tb_check "dns_allow resolves but does not allow the connection" [ "$?" = 1 ]

# DNS-looking exfiltration: 200 unique names under one blocked domain. Nothing reaches the
# resolver, and the log folds them (the first whole, the rest as *.leak.example.org).
t0=$(date +%s%N)
run_app sh -c "i=0; while [ \$i -lt 200 ]; do i=\$((i + 1));
	$NET resolve-connect $INET4 d\$i-secret.leak.example.org 443 1 >/dev/null 2>&1; done"
took=$(tb_ms_since "$t0")
leak_sum() {
	grep -F 'leak.example.org' "$TB_LOG" | sed -n 's/.*"count":\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}
leak_done() { [ "$(leak_sum)" = 200 ]; }
tb_wait 3 leak_done # the last fold window is written within a second
recs=$(tb_log_count 'leak.example.org')
sum=$(leak_sum)
# Folding works per one-second window: at most two records (the first name whole, then the
# rest folded) per second the 200 lookups took, whatever the machine's speed.
most=$((2 * (took / 1000 + 2)))
tb_check "200 unique blocked names fold into $recs records (at most $most in ${took} ms)" \
	[ "$recs" -ge 1 -a "$recs" -le "$most" -a "$recs" -le 40 ]
tb_check "whose counts add up to 200 (got $sum)" [ "$sum" = 200 ]
tb_check "the folded record names the domain" [ "$(tb_log_count '"host":"*.leak.example.org"')" -ge 1 ]

n=$(tb_capture_count "$cap" "$TB_TMP/inet.pcap" 'udp port 53 and (src host 203.0.113.2)')
q=$(tcpdump -n -r "$TB_TMP/inet.pcap" 'udp port 53' 2>/dev/null | grep -c 'evil\|bad\.\|leak')
t=$(tcpdump -n -r "$TB_TMP/inet.pcap" 'udp port 53' 2>/dev/null | grep -c 'A? tiles')
tb_check "the resolver never saw the blocked names ($q of $n queries)" [ "$q" = 0 ]
tb_check "it saw the allowed one ($t)" [ "$t" -ge 1 ]

tb_summary test_dns
