#!/usr/bin/env bash
# ldmctl suggest on a recorded audit-mode session (tests/golden/logs/audit.jsonl): the draft
# passes ldmctl check, and, loaded, allows exactly what the session tried (every connection
# and lookup of session 4) and nothing of another session's. No root needed.
# Usage: test_suggest.sh BUILD_DIR
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

echo "test_suggest: $pass passed, $fail failed"
[ "$fail" = 0 ]
