#!/usr/bin/env bash
# ldmctl suggest on a recorded audit-mode session (tests/golden/logs/audit.jsonl): the draft
# passes ldmctl check, and, loaded, allows exactly what the session tried (every connection
# and lookup of session 4) and nothing of another session's. No root needed for that part.
# Then, as root (tb_init: 77 when unprivileged), a real audit-mode session that connects to
# a Unix socket outside the session and writes a file outside the default write scope (both
# refused in every mode, and logged): its draft passes ldmctl check, `ldmctl explain DRAFT
# unix PATH` and `explain DRAFT write PATH` allow them and nothing beside them, and the draft,
# installed, lets the same program do both.
# Usage: test_suggest.sh BUILD_DIR (needs `make all tools` for the second part)
set -u
BUILD=$(cd "${1:-build}" && pwd)
CTL="$BUILD/ldmctl"
LOG="$(cd "$(dirname "$0")/../golden/logs" && pwd)/audit.jsonl"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "PASS $name"
	else fail=$((fail + 1)); echo "FAIL $name"; fi
}

"$CTL" suggest 4 --log "$LOG" >"$TMP/suggested-4.conf"
check "suggest writes a draft" test -s "$TMP/suggested-4.conf"
check "the draft passes ldmctl check" "$CTL" check "$TMP/suggested-4.conf"
explain() { "$CTL" explain --policy-dir "$TMP" suggested-4 "$@"; }

# Every connection session 4 tried, from the log itself (proto, dst:port, host).
"$CTL" log 4 --json --log "$LOG" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["event"] != "would_block" or "DNS query" in r.get("reason", ""):
        continue
    dst = "[%s]" % r["dst"] if ":" in r["dst"] else r["dst"]
    print(r["proto"], "%s:%d" % (dst, r["dport"]), r.get("host", ""))
' >"$TMP/tried"
check "the session tried 6 connections" [ "$(wc -l <"$TMP/tried")" = 6 ]
while read -r proto dst host; do
	check "allowed: $proto $dst ${host:-}" explain "$proto" "$dst" ${host:+--host "$host"}
done <"$TMP/tried"
check "allowed: the name it only looked up" \
	bash -c "'$CTL' explain --policy-dir '$TMP' suggested-4 udp 10.77.0.1:53 --host update.example.net | grep -q '^dns: the name may be looked up'"
check "not allowed: another session's attempt" bash -c "! '$CTL' explain --policy-dir '$TMP' suggested-4 tcp 198.51.100.99:22"
check "not allowed: another port of a host it used" \
	bash -c "! '$CTL' explain --policy-dir '$TMP' suggested-4 tcp 198.51.100.20:8443 --host tiles.example.org"
check "not allowed: a name it never looked up" \
	bash -c "'$CTL' explain --policy-dir '$TMP' suggested-4 udp 10.77.0.1:53 --host evil.example.com | grep -q '^dns: the lookup is blocked'"
check "a name that is not a DNS name was left out" bash -c "! grep -q evil '$TMP/suggested-4.conf'"

echo "test_suggest (recorded log): $pass passed, $fail failed"
[ "$fail" = 0 ] || exit 1
rm -rf "$TMP"
trap - EXIT

# A real session. lib.sh's helpers from here on; TB_TMP is removed by tb_cleanup.
. "$(dirname "$0")/lib.sh"
UX="$BUILD/tests/tools/ldm-unix"
RUN="$BUILD/ldm-run"
tb_init
[ -x "$UX" ] || { tb_fail "$UX is missing: make tools"; tb_summary test_suggest; exit 1; }
# Where the app writes: outside /tmp, /var/tmp and /dev/shm, the test user's, removed on exit.
W=$(mktemp -d /run/ldm-it-suggest.XXXXXX) || exit 1
trap 'rm -rf -- "$W"; tb_cleanup' EXIT
chown "$TB_USER:$TB_USER" "$W"
chmod o+x "$BUILD" "$BUILD/tests" "$BUILD/tests/tools" 2>/dev/null
D="$TB_TMP/sock" # the outside server's socket directory
install -d -m 0700 -o "$TB_USER" -g "$TB_USER" "$D"
tb_policy auditlocal 'name = "auditlocal"; mode = "audit";'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_suggest; exit 1; }
tb_spawn tb_as_user "$TB_LAP" "$UX" serve "$D/srv.sock" "$D/srv.count" 120
tb_wait 5 test -S "$D/srv.sock" || tb_log "the outside server's socket is missing"

# app POLICY: connects to the outside socket, writes W/flight.tlog; 0 when both worked.
app() {
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --quiet --policy "$1" -- sh -c \
		"'$UX' connect '$D/srv.sock'; c=\$?; echo data >'$W/flight.tlog' && [ \$c = 0 ]" \
		>"$TB_TMP/app.out" 2>&1
}
if app auditlocal; then
	tb_fail "audit mode: the connect and the write worked: $(head -c 300 "$TB_TMP/app.out")"
else
	tb_pass "audit mode: the connect and the write are refused"
fi
sid=$(grep -F '"event":"session_start"' "$TB_LOG" | grep -F '"policy":"auditlocal"' |
	grep -o '"session":[0-9]*' | head -n 1 | cut -d: -f2)
tb_check "the audit session is in the log" test -n "$sid"
sid=${sid:-0}
logged() { [ "$(tb_log_count "\"session\":$sid," "$@")" -ge 1 ]; }
tb_check "its refused connect is logged" tb_wait 5 logged '"proto":"unix"' "\"dst\":\"$D/srv.sock\""
tb_check "its refused write is logged" \
	tb_wait 5 logged '"event":"syscall_denied"' "\"path\":\"$W/flight.tlog\""
tb_check "the session ended" tb_wait 5 logged '"event":"session_end"'

PD="$TB_TMP/drafts"
mkdir -m 0755 "$PD"
"$BUILD/ldmctl" suggest "$sid" --log "$TB_LOG" --name real >"$PD/real.conf" 2>"$TB_TMP/suggest.err"
tb_check "suggest writes a draft of the real session" test -s "$PD/real.conf"
tb_check "the draft passes ldmctl check" "$BUILD/ldmctl" check "$PD/real.conf"
ex() { "$BUILD/ldmctl" explain --policy-dir "$PD" real "$@" >"$TB_TMP/explain.out" 2>&1; }
not() { ! "$@"; }
tb_check "explain: the socket it tried is allowed" ex unix "$D/srv.sock"
tb_check "explain: the file it wrote is allowed" ex write "$W/flight.tlog"
tb_check "explain: the default scope stays" ex write /tmp/x
tb_check "explain: another socket is not" not ex unix "$D/other.sock"
tb_check "explain: beside the directory written is not" not ex write "$W-other/x"

# Installed as an enforcing policy, the draft lets the same program do both.
tb_policy real "$(cat "$PD/real.conf")"
rm -f "$W/flight.tlog"
tb_check "the draft, installed, allows the connect and the write" app real
tb_check "the file was written" test -s "$W/flight.tlog"
tb_check "the outside server was reached" test "$(cat "$D/srv.count" 2>/dev/null)" -ge 1
tb_summary test_suggest
