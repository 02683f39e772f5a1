#!/usr/bin/env bash
# ldmctl report against the real daemon's log, in private namespaces: a session that
# exchanges 100 MAVLink-sized datagrams with the drone (and gets 100 answers) and makes two
# blocked attempts is reported with both attempts, the policy, verified: true, and the drone
# rule's packets and bytes in both directions within 5% of what a capture on the drone
# counted; an edited record makes it unverified; the HTML page has no external
# resource and renders in headless Chromium (with no network at all) to a page that is
# not blank. The report names the session's identity: the policy's and its
# include's SHA-256 (as sha256sum computes them), the executable's SHA-256, the host name,
# boot id, version and kernel features. `ldmctl log` reads a rotated set (plain, .1,
# .2.gz) oldest first, selects --since/--until, prints a record with a key it does not
# know as written, refuses a malformed one, and reads standard input.
# Usage: test_report.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"
INK="$(dirname "$0")/../tools/png_ink.py"

tb_init
tb_policy base 'known = ( { host = "telemetry.example.net"; label = "vendor telemetry" } );'
tb_policy t 'name = "t";
include = [ "base" ];
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_report; exit 1; }

# The drone answers every datagram; a capture on its side counts what crossed the link.
tb_spawn_in "$TB_DRN" "$NET" udp-echo "$DRONE4" 14550 60
echo_pid=$TB_LAST
# --immediate-mode: without it tcpdump hands packets over in blocks, and one not yet full
# when the capture stops is lost. -s 512 -B 4096: small frames in a larger ring (the pcap
# keeps each packet's full length), so a busy machine's capture keeps up; with the defaults
# it missed 6 of 100 datagrams in one run of five under load.
tb_spawn_in "$TB_DRN" tcpdump --immediate-mode -s 512 -B 4096 -i veth-lap -n -U \
	-w "$TB_TMP/drone.pcap" \
	2>"$TB_TMP/drone.err"
cap_pid=$TB_LAST
tb_check "the drone capture starts" tb_wait 5 grep -q 'listening on' "$TB_TMP/drone.err"
tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- sh -c "
	$NET udp-exchange $DRONE4 14550 100 240 >$TB_TMP/out/exchange
	$NET tcp-connect $INET4 443 2
	$NET udp-send $INET4 9999 1
	exit 0" >/dev/null 2>&1
session=$(grep -m1 '"event":"session_start"' "$TB_LOG" | sed -E 's/.*"session":([0-9]+),.*/\1/')
ended() { grep -q "\"event\":\"session_end\",\"session\":$session," "$TB_LOG"; }
tb_check "the session ended in the log" tb_wait 5 ended
# tcpdump may lag behind on a busy machine: give it until the file holds the 200 datagrams.
cap_caught_up() { [ "$(tb_pcap_count "$TB_TMP/drone.pcap" 'udp port 14550')" -ge 200 ]; }
tb_wait 5 cap_caught_up
tb_capture_stop "$cap_pid"
[ -n "${LDM_REPORT_PCAP:-}" ] && cp "$TB_TMP/drone.pcap" "$LDM_REPORT_PCAP" && cp "$TB_TMP/drone.err" "$LDM_REPORT_PCAP.err"
kill "$echo_pid" 2>/dev/null
tb_check "the drone answered all 100 datagrams" grep -q 'sent 100, answered 100' "$TB_TMP/out/exchange"
# IP bytes and packets on the drone's side, per direction (Ethernet frames: 14-byte header).
read -r cap_po cap_bo cap_pi cap_bi < <(python3 - "$TB_TMP/drone.pcap" "$DRONE4" <<'PY'
import socket, struct, sys
data = open(sys.argv[1], 'rb').read()
drone = socket.inet_aton(sys.argv[2])
c = [0, 0, 0, 0]
off = 24
while off + 16 <= len(data):
    incl, orig = struct.unpack_from('<II', data, off + 8)
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(pkt) < 38 or pkt[12:14] != b'\x08\x00' or pkt[23] != 17:
        continue
    ihl = (pkt[14] & 15) * 4
    sport, dport = struct.unpack_from('!HH', pkt, 14 + ihl)
    if 14550 not in (sport, dport):
        continue
    i = 0 if pkt[30:34] == drone else 2  # to the drone: out; from it: in
    c[i] += 1
    c[i + 1] += orig - 14
print(*c)
PY
)
tb_log "capture on the drone: out $cap_po packets $cap_bo bytes, in $cap_pi packets $cap_bi bytes"
tb_check "the capture saw the exchange" [ "$((${cap_po:-0} >= 100 && ${cap_pi:-0} >= 100))" = 1 ]

json=$("$CTL" report "$session" --json --log "$TB_LOG")
tb_check "report --json exits 0 for an intact log" [ "$?" = 0 ]
jq_py() { python3 -c "import json, sys; r = json.load(sys.stdin); $1" <<<"$json"; }
tb_check "it is one JSON object naming the session and policy" \
	jq_py "assert r['session'] == $session and r['policy'] == 't'"
tb_check "verified: true" jq_py "assert r['verified'] is True"
tb_check "both blocked attempts, by destination" jq_py "
b = {(x['proto'], x['dst'], x['dport']): x['count'] for x in r['blocked']}
assert b == {('tcp', '$INET4', 443): 1, ('udp', '$INET4', 9999): 1}, b"
tb_check "the totals match session_end" jq_py "assert r['blocked_total'] == 2"
tb_check "allowed, syscalls_denied and tamper are lists" \
	jq_py "assert all(isinstance(r[k], list) for k in ('allowed', 'syscalls_denied', 'tamper'))"
tb_check "the drone rule's row: rule 1, its comment, the drone and the port" jq_py "
a = [x for x in r['allowed'] if x['rule'] == 1 and x['dst'] == '$DRONE4']
assert len(a) == 1 and a[0]['comment'] == 'MAVLink' and a[0]['proto'] == 'udp', r['allowed']
assert a[0]['dport'] == 14550, a"
near() { python3 -c "import sys; a, b = $1, $2; sys.exit(0 if b > 0 and abs(a - b) <= 0.05 * b else 1)"; }
drone_row() { jq_py "print(sum(x['$1'] for x in r['allowed'] if x['rule'] == 1 and x['dst'] == '$DRONE4'))" 2>/dev/null || echo -1; }
for k in packets_out:$cap_po bytes_out:$cap_bo packets_in:$cap_pi bytes_in:$cap_bi; do
	got=$(drone_row "${k%%:*}")
	tb_check "the drone rule's ${k%%:*} ($got) within 5% of the capture's (${k#*:})" \
		near "$got" "${k#*:}"
done
tb_check "session_end says how many traffic records precede it, and they do" python3 -c "
import json
recs = [json.loads(l) for l in open('$TB_LOG')]
mine = [x for x in recs if x.get('session') == $session]
end = [x for x in mine if x['event'] == 'session_end'][0]
tr = [x for x in mine if x['event'] == 'traffic']
assert end['traffic'] == len(tr) >= 1, (end, len(tr))
assert end['bytes_out'] == sum(x['bytes_out'] for x in tr), end
assert end['bytes_in'] == sum(x['bytes_in'] for x in tr), end"
text=$("$CTL" report "$session" --log "$TB_LOG")
tb_check "the text report says verified" grep -q 'hash chain: verified' <<<"$text"
tb_check "the text report lists the blocked destination" grep -q "tcp   $INET4:443" <<<"$text"
tb_check "the text report lists the drone's bytes" grep -Eq "udp +$DRONE4:14550 .*bytes" <<<"$text"

# --- The session's identity.
sum() { sha256sum "$1" | cut -d' ' -f1; }
exe=$(readlink -f "$(command -v sh)")
tb_check "policy_sha256 is sha256sum of the policy file" \
	jq_py "assert r['policy_sha256'] == '$(sum "$TB_TMP/policies/t.conf")', r['policy_sha256']"
tb_check "policy_files: the main file, then the include, each with its sha256sum" jq_py "
f = [(x['path'], x['sha256']) for x in r['policy_files']]
assert f == [('$TB_TMP/policies/t.conf', '$(sum "$TB_TMP/policies/t.conf")'),
             ('$TB_TMP/policies/base.conf', '$(sum "$TB_TMP/policies/base.conf")')], f"
tb_check "exe_sha256 is sha256sum of the program run ($exe)" \
	jq_py "assert r['exe_sha256'] == '$(sum "$exe")', r['exe_sha256']"
tb_check "hostname is the kernel's host name" \
	jq_py "assert r['hostname'] == '$(cat /proc/sys/kernel/hostname)', r['hostname']"
tb_check "boot_id is the kernel's boot id" \
	jq_py "assert r['boot_id'] == '$(cat /proc/sys/kernel/random/boot_id)', r['boot_id']"
tb_check "version, landlock_abi >= 1, seccomp_notify, ipv6" jq_py "
assert r['version'] == '$("$BUILD/ldm-enforcerd" --version | cut -d' ' -f2)', r['version']
assert r['landlock_abi'] >= 1 and r['seccomp_notify'] is True and r['ipv6'] in (True, False)"
tb_check "no record names this machine under host" \
	bash -c "! grep -q '\"host\":\"$(cat /proc/sys/kernel/hostname)\"' '$TB_LOG'"
tb_check "every record of the session carries hostname and machine" python3 -c "
import json
for l in open('$TB_LOG'):
    r = json.loads(l)
    assert r.get('session') != $session or ('hostname' in r and 'machine' in r), l"
tb_check "the text report shows the executable's hash" \
	grep -q "$(sum "$exe")" <<<"$text"
tb_check "the text report shows the include's hash" \
	grep -q "$(sum "$TB_TMP/policies/base.conf")" <<<"$text"

# --- ldmctl log over a rotated set: the oldest third compressed, then .1, then the log.
mkdir "$TB_TMP/rot"
n=$(wc -l <"$TB_LOG")
head -n $((n / 3)) "$TB_LOG" | gzip >"$TB_TMP/rot/events.jsonl.2.gz"
sed -n "$((n / 3 + 1)),$((2 * n / 3))p" "$TB_LOG" >"$TB_TMP/rot/events.jsonl.1"
tail -n +$((2 * n / 3 + 1)) "$TB_LOG" >"$TB_TMP/rot/events.jsonl"
"$CTL" log --json --with-rotated --log "$TB_TMP/rot/events.jsonl" >"$TB_TMP/rot.out"
tb_check "log --with-rotated prints every record oldest first, byte for byte ($n)" \
	cmp -s "$TB_TMP/rot.out" "$TB_LOG"
ts() { sed -n "${1}p" "$TB_LOG" | sed -E 's/^\{"ts":"([^"]*)".*/\1/'; }
"$CTL" log --json --since "$(ts 2)" --until "$(ts 4)" --log "$TB_LOG" >"$TB_TMP/span.out"
tb_check "--since (inclusive) and --until (exclusive) select records 2 and 3 (and ties)" \
	python3 -c "
import json
want = [l for l in open('$TB_LOG') if '$(ts 2)' <= json.loads(l)['ts'] < '$(ts 4)']
got = open('$TB_TMP/span.out').readlines()
assert got == want and len(got) >= 2, (len(got), len(want))"
tb_check "a bad --since is refused with exit 2" \
	bash -c "'$CTL' log --since 'last tuesday' --log '$TB_LOG' >/dev/null 2>&1; [ \$? = 2 ]"
line=$(sed -n 2p "$TB_LOG")
future=$(sed -E 's/^(\{"ts":"[^"]*",)/\1"future_key":{"a":[1,"x",null]},/' <<<"$line")
broken=$(sed -E 's/^(\{"ts":"[^"]*",)/\1"future_key":{"a":[1,]},/' <<<"$line")
out=$(printf '%s\n%s\n' "$future" "$broken" | "$CTL" log --json --log - 2>"$TB_TMP/stdin.err")
tb_check "- reads standard input; a record with an unknown key is printed as written" \
	[ "$out" = "$future" ]
tb_check "a malformed record is refused (named on stderr)" \
	grep -q '(stdin):2: unreadable record' "$TB_TMP/stdin.err"

# An edited record: the blocked attempt moved to another port. (The log's very last
# record is vouched for by no later one: that one is checked against the record number
# and hash ldm-run shows at the end of a session, `ldmctl verify --expect`.)
sed -e 's/"dport":443,/"dport":444,/' "$TB_LOG" >"$TB_TMP/edited"
tb_check "the edit happened" bash -c "! cmp -s '$TB_LOG' '$TB_TMP/edited'"
"$CTL" report "$session" --json --log "$TB_TMP/edited" >"$TB_TMP/edited.json"
tb_check "report exits 1 when the session's records do not verify" [ "$?" = 1 ]
tb_check "verified: false" python3 -c "
import json; assert json.load(open('$TB_TMP/edited.json'))['verified'] is False"
grep -v '"event":"traffic"' "$TB_LOG" >"$TB_TMP/no-traffic"
"$CTL" report "$session" --json --log "$TB_TMP/no-traffic" >"$TB_TMP/no-traffic.json"
tb_check "a removed traffic record is noticed: exit 1, traffic_complete false" python3 -c "
import json; r = json.load(open('$TB_TMP/no-traffic.json'))
assert r['verified'] is False and r['traffic_complete'] is False, r"
tb_check "an unknown session is refused" \
	bash -c "! '$CTL' report 99999 --log '$TB_LOG' 2>/dev/null"

# The page: self-contained, and it renders.
"$CTL" report "$session" --html "$TB_TMP/report.html" --log "$TB_LOG" >/dev/null
tb_check "report --html writes the page" test -s "$TB_TMP/report.html"
tb_check "the page loads nothing from outside" \
	bash -c "! grep -Eiq '(src|href)=|url\\(|@import' '$TB_TMP/report.html'"
tb_check "the page names the blocked destination" grep -q "$INET4" "$TB_TMP/report.html"
tb_check "the page's timeline has a lane for the drone" \
	grep -q "class='lane'[^<]*>$DRONE4:14550" "$TB_TMP/report.html"
if command -v chromium >/dev/null; then
	# As root Chromium needs --no-sandbox; in a network namespace of its own it has no
	# network at all, as on a laptop in the field.
	timeout 60 unshare --net chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$TB_TMP/chromium" --window-size=1000,900 \
		--screenshot="$TB_TMP/report.png" "file://$TB_TMP/report.html" \
		>"$TB_TMP/chromium.out" 2>&1
	tb_check "headless Chromium renders the page to a PNG" test -s "$TB_TMP/report.png"
	ink=$(python3 "$INK" "$TB_TMP/report.png" 2>/dev/null || echo 0)
	tb_check "the screenshot is not blank (ink $ink)" \
		python3 -c "import sys; sys.exit(0 if $ink > 0.01 else 1)"
	[ -n "${LDM_REPORT_PNG:-}" ] && cp "$TB_TMP/report.png" "$LDM_REPORT_PNG"
else
	tb_fail "chromium is not installed (make deps): the page was not rendered"
fi

# Never a zero that was not measured: with conntrack accounting switched off behind the
# daemon's back (by root, after the session started), the session's new flow has no
# counters; the log says so and the report shows no totals instead of zeros.
tb_spawn tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- sh -c "
	sleep 2; $NET udp-exchange $DRONE4 14550 5 240 >/dev/null"
started2() { [ "$(grep -c '"event":"session_start"' "$TB_LOG")" -ge 2 ]; }
tb_check "a second session starts" tb_wait 5 started2
tb_in "$TB_LAP" sysctl -qw net.netfilter.nf_conntrack_acct=0
s2=$(grep '"event":"session_start"' "$TB_LOG" | tail -1 | sed -E 's/.*"session":([0-9]+),.*/\1/')
ended2() { grep -q "\"event\":\"session_end\",\"session\":$s2," "$TB_LOG"; }
tb_check "the second session ended" tb_wait 10 ended2
tb_check "an error record says its traffic was not counted" \
	grep -q "\"event\":\"error\",\"session\":$s2,.*traffic was not counted" "$TB_LOG"
tb_check "its session_end carries no totals" \
	bash -c "grep '\"event\":\"session_end\",\"session\":$s2,' '$TB_LOG' | grep -vq bytes_out"
"$CTL" report "$s2" --json --log "$TB_LOG" >"$TB_TMP/s2.json"
tb_check "the report: traffic_total null, the drone row's bytes null, still verified" python3 -c "
import json; r = json.load(open('$TB_TMP/s2.json'))
assert r['traffic_total'] is None and r['verified'] is True, r
assert all(x['bytes_out'] is None for x in r['allowed']), r['allowed']"
tb_check "the text report says not counted" \
	bash -c "'$CTL' report $s2 --log '$TB_LOG' | grep -q 'total: bytes not counted'"
[ -n "${LDM_REPORT_LOG:-}" ] && cp "$TB_LOG" "$LDM_REPORT_LOG"

# --- An ordinary user's `ldmctl log` goes through the daemon's reader: the rotated
# (compressed) file first, then the log. Last: the live log is emptied.
python3 -c "
import json
for l in open('$TB_LOG'):
    r = json.loads(l)
    if r.get('session') and r.get('uid') == $(id -u "$TB_USER"): print(l, end='')" >"$TB_TMP/mine"
gzip -c "$TB_LOG" >"$TB_LOG.1.gz"
: >"$TB_LOG"
tb_as_user "$TB_LAP" "$CTL" log --json --socket "$TB_SOCK" >"$TB_TMP/user.out" 2>&1
tb_check "an ordinary user's log through the daemon reads the rotated .gz file ($(wc -l <"$TB_TMP/mine") records)" \
	cmp -s "$TB_TMP/user.out" "$TB_TMP/mine"

tb_summary test_report
