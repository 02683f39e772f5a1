#!/usr/bin/env bash
# Issue 5's scenarios that test_enforcer.sh does not cover, under the shipped policies:
#   1. MAVLink: the drone sends heartbeats to the laptop's UDP 14550, unicast and subnet
#      broadcast; a client under `--policy qgroundcontrol` receives and answers them all.
#   2. Phoning home: curl, wget and python3 urllib to an internet HTTP server, by address and
#      by name (dnsmasq in the internet namespace, the laptop's resolv.conf naming it): each
#      fails fast, is logged with its destination (the DNS query with the name it asked for),
#      and the internet sees no packet from the laptop.
#   3. Audit mode: the shipped `audit` policy, and `--audit` on a policy with
#      audit_override = true, let the same requests through and log them as would_block;
#      `--audit` on qgroundcontrol (audit_override = false) is refused.
#   4. Bad input: errors, a world-writable policy, a name with ../, an unknown name, no
#      daemon: ldm-run exits 125 with a clear message and the program never starts.
# Usage: test_scenarios.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
PY=/usr/bin/python3
LAPWAN=203.0.113.2
URL="http://$INET4:80/"
NAME=tiles.example.org

tb_init
chmod o+x "$BUILD" "$BUILD/tests" "$BUILD/tests/tools" 2>/dev/null
for tool in curl wget "$PY" dnsmasq tcpdump; do
	command -v "$tool" >/dev/null || { tb_fail "$tool is installed (deps.txt)"; }
done
tb_install_policies
tb_policy broken 'name = "broken";
allow = ( { proto = "udp"; to = "lan"; ports = "70000" } );'
tb_policy writable 'name = "writable";
allow = ();'
chmod 0666 "$TB_TMP/policies/writable.conf"
tb_policy overridable 'name = "overridable";
mode = "enforce";
audit_override = true;
include = [ "vehicle-mavlink" ];'

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_scenarios; exit 1; }

# run_app [LDM-RUN OPTIONS...] -- PROGRAM...: ldm-run as the test user in the laptop, with
# the laptop's resolv.conf (naming the internet's DNS server).
run_app() {
	tb_as_user_etc "$TB_LAP" "$RUN" --socket "$TB_SOCK" "$@"
}

# The internet: an HTTP server and a DNS server answering *.example.org with its address.
mkdir -p "$TB_TMP/www"
echo "tiles" >"$TB_TMP/www/index.html"
tb_spawn tb_in "$TB_INET" "$PY" -m http.server 80 --bind :: --directory "$TB_TMP/www" \
	>"$TB_TMP/http.out" 2>&1
tb_spawn tb_in "$TB_INET" dnsmasq --no-resolv --no-hosts --address=/example.org/"$INET4" \
	--listen-address="$INET4" --bind-interfaces --no-daemon --user=root \
	--pid-file="$TB_TMP/dnsmasq.pid" --log-queries --log-facility=- >"$TB_TMP/dnsmasq.out" 2>&1
tb_resolv_conf "$TB_LAP" "$INET4"
tb_wait_listen "$TB_INET" tcp:80 udp:53

# Controls, outside the sandbox and before any capture: the servers answer and the name
# resolves, so that a failure under the sandbox means the sandbox.
resolved=$(tb_as_user_etc "$TB_LAP" getent ahostsv4 "$NAME" | awk 'NR == 1 { print $1 }')
tb_check "control: $NAME resolves to $INET4 outside the sandbox (got '$resolved')" \
	[ "$resolved" = "$INET4" ]
tb_check "control: the HTTP server answers curl outside the sandbox" \
	tb_as_user_etc "$TB_LAP" curl -sS -m 5 -o /dev/null "http://$NAME/"

# --- 1. MAVLink with the aircraft, unicast and broadcast
cat >"$TB_TMP/drone.py" <<'EOF'
# The aircraft: sends MAVLink v1 HEARTBEAT frames from one socket to the laptop's UDP port,
# alternately to its unicast address and to the subnet broadcast, and counts the answers
# that come back from the laptop (the app echoes each frame).
# Usage: drone.py UNICAST BROADCAST PORT SRC_PORT SECONDS; exits 0 when at least 80% of
# each kind were answered.
import socket, struct, sys, time

uni, bcast = sys.argv[1], sys.argv[2]
port, sport, secs = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", sport))
s.settimeout(0.1)

def heartbeat(seq, kind):
    # custom_mode says where the frame went: 1 unicast, 2 broadcast.
    payload = struct.pack("<IBBBBB", kind, 2, 3, 0x51, 4, 3)
    return b"\xfe" + struct.pack("<BBBBB", len(payload), seq & 0xff, 1, 1, 0) + payload + b"\0\0"

sent, got, seq = {1: 0, 2: 0}, {1: 0, 2: 0}, 0
end = time.time() + secs
while time.time() < end:
    kind = 1 if seq % 2 == 0 else 2
    s.sendto(heartbeat(seq, kind), (uni if kind == 1 else bcast, port))
    sent[kind] += 1
    seq += 1
    stop = time.time() + 0.1
    while time.time() < stop:
        try:
            data, peer = s.recvfrom(512)
        except socket.timeout:
            break
        if peer[0] == uni and len(data) >= 10 and data[0] == 0xfe:
            k = struct.unpack_from("<I", data, 6)[0]
            got[k] = got.get(k, 0) + 1
print("unicast sent %d answered %d, broadcast sent %d answered %d"
      % (sent[1], got[1], sent[2], got[2]))
sys.exit(0 if sent[1] and got[1] >= 0.8 * sent[1] and sent[2] and got[2] >= 0.8 * sent[2] else 1)
EOF
tb_capture "$TB_INET" veth-rtr "$TB_TMP/mavlink.pcap"
cap=$TB_LAST
tb_capture "$TB_DRN" veth-lap "$TB_TMP/drone.pcap"
dcap=$TB_LAST
tb_spawn run_app --policy qgroundcontrol -- "$NET" udp-echo :: 14550 5 >"$TB_TMP/gcs.out" 2>&1
app=$TB_LAST
tb_wait_listen "$TB_LAP" udp:14550
out=$(tb_in "$TB_DRN" "$PY" "$TB_TMP/drone.py" "$LAPTOP4" 192.168.144.255 14550 45000 3)
rc=$?
tb_wait_pid 60 "$app"
app_rc=$?
tb_check "the drone's heartbeats are answered, unicast and broadcast ($out)" [ "$rc" = 0 ]
tb_check "the ground station under qgroundcontrol heard them ($(head -n1 "$TB_TMP/gcs.out"))" \
	[ "$app_rc" = 0 ]
tb_check "nothing of the exchange was logged as blocked" \
	[ "$(tb_log_count '"event":"blocked"' '"policy":"qgroundcontrol"')" = 0 ]
n=$(tb_capture_count "$dcap" "$TB_TMP/drone.pcap" "udp and src host $LAPTOP4 and src port 14550")
# 80% of what the drone sent (30 heartbeats in 3 s on a real CPU; fewer on a slow one).
sent=$(awk '{ print $3 + $8 }' <<<"$out")
want=$(((${sent:-30} * 8 + 9) / 10))
tb_check "the drone's capture shows the answers from the laptop's 14550 (saw $n of $want)" \
	[ "$n" -ge "$want" -a "$n" -ge 1 ]
n=$(tb_capture_count "$cap" "$TB_TMP/mavlink.pcap" "src host $LAPWAN or src host 2001:db8:1::2")
tb_check "and none of it went to the internet (saw $n)" [ "$n" = 0 ]

# --- 2. Phoning home under qgroundcontrol: fast failure, a log record, nothing on the wire.
tb_capture "$TB_INET" veth-rtr "$TB_TMP/phone.pcap"
cap=$TB_LAST
gets=$(grep -c 'GET /' "$TB_TMP/http.out")
queries=$(grep -c "from $LAPWAN" "$TB_TMP/dnsmasq.out")

# phone NAME URL: runs each client under qgroundcontrol; it must fail in under 5 s.
phone() {
	local what=$1 url=$2 start ms rc
	local -a cmd
	case $what in
	curl) cmd=(curl -sS -m 30 -o /dev/null "$url") ;;
	wget) cmd=(wget -q -T 30 -O /dev/null "$url") ;;
	python3) cmd=("$PY" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=30)' "$url") ;;
	esac
	start=$(date +%s%N)
	run_app --quiet --policy qgroundcontrol -- "${cmd[@]}" >"$TB_TMP/phone.out" 2>&1
	rc=$?
	ms=$(tb_ms_since "$start")
	tb_check "$what $url fails (rc $rc: $(head -c 120 "$TB_TMP/phone.out" | tr '\n' ' '))" \
		[ "$rc" != 0 ]
	tb_check "$what $url fails fast (${ms} ms < $(tb_ms_limit 5000))" \
		[ "$ms" -lt "$(tb_ms_limit 5000)" ]
}

for client in curl wget python3; do
	phone "$client" "$URL"
	tb_check "$client: the attempt is logged with its destination $INET4:80" \
		[ "$(tb_log_count '"event":"blocked"' '"policy":"qgroundcontrol"' '"proto":"tcp"' \
			"\"dst\":\"$INET4\"" '"dport":80' "/$client\"")" -ge 1 ]
done
# By name: the query is judged by its name (no rule allows tiles.example.org) and logged
# with the name, as UDP to the resolver's port 53.
for client in curl wget python3; do
	phone "$client" "http://$NAME/"
	tb_check "$client: its DNS query is logged as blocked to $INET4:53 for $NAME" \
		[ "$(tb_log_count '"event":"blocked"' '"policy":"qgroundcontrol"' '"proto":"udp"' \
			"\"dst\":\"$INET4\"" '"dport":53' "\"host\":\"$NAME\"" "/$client\"")" -ge 1 ]
done
tb_check "dnsmasq received no query from the laptop under the sandbox" \
	[ "$(grep -c "from $LAPWAN" "$TB_TMP/dnsmasq.out")" = "$queries" ]
tb_check "the HTTP server received no request under the sandbox" \
	[ "$(grep -c 'GET /' "$TB_TMP/http.out")" = "$gets" ]
n=$(tb_capture_count "$cap" "$TB_TMP/phone.pcap" "src host $LAPWAN or src host 2001:db8:1::2")
tb_check "the internet saw no packet from the laptop while it phoned home (saw $n)" [ "$n" = 0 ]
if [ "$n" != 0 ]; then
	tcpdump -n -r "$TB_TMP/phone.pcap" "src host $LAPWAN or src host 2001:db8:1::2" 2>/dev/null |
		head -10
fi

# --- 3. Audit mode: the same request goes through and is logged as would_block. The
# shipped audit policy is for administrators only (groups = [ "ldm-admin" ]).
out=$(run_app --policy audit -- curl -sS -m 10 "$URL" 2>&1)
tb_check "audit policy: refused to a user outside ldm-admin (exit 125)" [ "$?" = 125 ]
made_group=
if ! getent group ldm-admin >/dev/null; then
	groupadd --system ldm-admin && made_group=1
fi
admin_cleanup() {
	gpasswd -d "$TB_USER" ldm-admin >/dev/null 2>&1
	[ -z "$made_group" ] || groupdel ldm-admin
	made_group=
}
trap 'admin_cleanup; tb_cleanup; tb_cleanup_etc' EXIT
usermod -a -G ldm-admin "$TB_USER"
out=$(run_app --policy audit -- curl -sS -m 10 "$URL" 2>&1)
tb_check "audit policy: curl $URL succeeds ($out)" [ "$?" = 0 ]
tb_check "audit policy: logged as would_block to $INET4:80" \
	[ "$(tb_log_count '"event":"would_block"' '"policy":"audit"' "\"dst\":\"$INET4\"" \
		'"dport":80')" -ge 1 ]
tb_check "audit policy: and not as blocked" \
	[ "$(tb_log_count '"event":"blocked"' '"policy":"audit"')" = 0 ]
out=$(run_app --policy audit -- curl -sS -m 10 "http://$NAME/" 2>&1)
tb_check "audit policy: curl by name succeeds ($out)" [ "$?" = 0 ]
tb_check "audit policy: the DNS query is logged as would_block to $INET4:53" \
	[ "$(tb_log_count '"event":"would_block"' '"policy":"audit"' "\"dst\":\"$INET4\"" \
		'"dport":53')" -ge 1 ]
out=$(run_app --audit --policy overridable -- curl -sS -m 10 "$URL" 2>&1)
tb_check "--audit with audit_override = true: curl succeeds ($out)" [ "$?" = 0 ]
tb_check "--audit: logged as would_block under its policy" \
	[ "$(tb_log_count '"event":"would_block"' '"policy":"overridable"' "\"dst\":\"$INET4\"" \
		'"dport":80')" -ge 1 ]
rm -f "$TB_TMP/out/audit-marker"
out=$(run_app --audit --policy qgroundcontrol -- sh -c "touch $TB_TMP/out/audit-marker" 2>&1)
rc=$?
tb_check "--audit on qgroundcontrol (audit_override = false) is refused, 125 ($out)" \
	sh -c "[ $rc = 125 ] && printf '%s' \"\$1\" | grep -q 'audit_override'" _ "$out"
tb_check "and the program never started" [ ! -e "$TB_TMP/out/audit-marker" ]

admin_cleanup
# --- 4. Bad input: 125, a message that says what is wrong, the program never starts.
# refused NAME GREP LDM-RUN-ARGS...: the program would create out/NAME.
refused() {
	local name=$1 want=$2 out rc
	shift 2
	rm -f "$TB_TMP/out/$name"
	out=$(tb_as_user_etc "$TB_LAP" "$RUN" "$@" -- sh -c "touch $TB_TMP/out/$name" 2>&1)
	rc=$?
	tb_check "$name: ldm-run exits 125 (rc $rc)" [ "$rc" = 125 ]
	tb_check "$name: the message says so ($out)" \
		sh -c "printf '%s' \"\$1\" | grep -q -- \"\$2\"" _ "$out" "$want"
	tb_check "$name: the program never started" [ ! -e "$TB_TMP/out/$name" ]
}
refused errors 'broken.conf:2: .*70000' --socket "$TB_SOCK" --policy broken
refused world-writable 'writable by group or others' --socket "$TB_SOCK" --policy writable
refused dotdot 'policy name' --socket "$TB_SOCK" --policy ../qgroundcontrol
refused dotdot-abs 'policy name' --socket "$TB_SOCK" --policy "$TB_TMP/policies/qgroundcontrol"
refused unknown 'no-such-policy' --socket "$TB_SOCK" --policy no-such-policy
refused no-daemon 'ldm-enforcerd is not running' --socket "$TB_TMP/no-daemon.sock" \
	--policy qgroundcontrol

tb_summary test_scenarios
