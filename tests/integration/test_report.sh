#!/usr/bin/env bash
# ldmctl report against the real daemon's log, in private namespaces: a session that talks
# to the drone and makes two blocked attempts is reported with both attempts, the policy and
# verified: true; an edited record makes it unverified; the HTML page has no external
# resource and renders in headless Chromium (with no network at all) to a page that is
# not blank.
# Usage: test_report.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"
INK="$(dirname "$0")/../tools/png_ink.py"

tb_init
tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );
known = ( { host = "telemetry.example.net"; label = "vendor telemetry" } );'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_report; exit 1; }

tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- sh -c "
	$NET udp-send $DRONE4 14550 100
	$NET tcp-connect $INET4 443 2
	$NET udp-send $INET4 9999 1
	exit 0" >/dev/null 2>&1
session=$(grep -m1 '"event":"session_start"' "$TB_LOG" | sed -E 's/.*"session":([0-9]+),.*/\1/')
ended() { grep -q "\"event\":\"session_end\",\"session\":$session," "$TB_LOG"; }
tb_check "the session ended in the log" tb_wait 5 ended

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
text=$("$CTL" report "$session" --log "$TB_LOG")
tb_check "the text report says verified" grep -q 'hash chain: verified' <<<"$text"
tb_check "the text report lists the blocked destination" grep -q "tcp   $INET4:443" <<<"$text"

# An edited record: the blocked attempt moved to another port. (The log's very last
# record is vouched for by no later one: that one is checked against the record number
# and hash ldm-run shows at the end of a session, `ldmctl verify --expect`.)
sed -e 's/"dport":443,/"dport":444,/' "$TB_LOG" >"$TB_TMP/edited"
tb_check "the edit happened" bash -c "! cmp -s '$TB_LOG' '$TB_TMP/edited'"
"$CTL" report "$session" --json --log "$TB_TMP/edited" >"$TB_TMP/edited.json"
tb_check "report exits 1 when the session's records do not verify" [ "$?" = 1 ]
tb_check "verified: false" python3 -c "
import json; assert json.load(open('$TB_TMP/edited.json'))['verified'] is False"
tb_check "an unknown session is refused" \
	bash -c "! '$CTL' report 99999 --log '$TB_LOG' 2>/dev/null"

# The page: self-contained, and it renders.
"$CTL" report "$session" --html "$TB_TMP/report.html" --log "$TB_LOG" >/dev/null
tb_check "report --html writes the page" test -s "$TB_TMP/report.html"
tb_check "the page loads nothing from outside" \
	bash -c "! grep -Eiq '(src|href)=|url\\(|@import' '$TB_TMP/report.html'"
tb_check "the page names the blocked destination" grep -q "$INET4" "$TB_TMP/report.html"
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

tb_summary test_report
