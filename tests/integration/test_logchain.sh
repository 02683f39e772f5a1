#!/usr/bin/env bash
# The log's hash chain against the real daemon, in private namespaces: records written
# across a rotation (compressed as logrotate does it), a restart on the empty file and a
# kill -9 verify; editing one field of one record, deleting one, swapping two, inserting one
# or cutting the chain makes `ldmctl verify` fail and name the record.
# Usage: test_logchain.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"

tb_init

tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_logchain; exit 1; }

# blocked_session: one session with one blocked connection (three records: start,
# blocked, end); waits until its session_end is in the log.
blocked_session() {
	local ends
	ends=$(grep -c '"event":"session_end"' "$TB_LOG" 2>/dev/null)
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- \
		"$NET" tcp-connect "$INET4" 443 2 >>"$TB_TMP/apps.out" 2>&1
	tb_wait 5 ends_seen $((ends + 1)) || tb_fail "a session ended in the log"
}
ends_seen() { [ "$(grep -c '"event":"session_end"' "$TB_LOG" 2>/dev/null)" -ge "$1" ]; }
verify() { "$CTL" verify "$@" >"$TB_TMP/verify.out" 2>&1; }
verify_says() { grep -Eq -- "$1" "$TB_TMP/verify.out"; }

blocked_session
tb_check "every record carries seq and prev" \
	bash -c "! grep -Ev ',\"seq\":[1-9][0-9]*,\"prev\":\"[0-9a-f]{64}\"}$' '$TB_LOG'"
tb_check "records are numbered 1, 2, 3, ..." \
	awk -F'"seq":' '{ split($2, a, ","); if (a[1] != NR) bad = 1 } END { exit bad }' "$TB_LOG"
verify --log "$TB_LOG"
tb_check "an untouched log verifies" verify_says 'chain intact'

# Rotation as logrotate does it (create, then compress the old one), then a restart of the
# daemon on the still empty new file, then a kill -9 mid-life: one chain throughout.
mv "$TB_LOG" "$TB_LOG.1"
install -m 0640 /dev/null "$TB_LOG"
rm -f "$TB_LOG.chain"
kill -HUP "$TB_DAEMON"
tb_wait 5 test -s "$TB_LOG.chain"
tb_check "reopen leaves the chain head beside the log" test -s "$TB_LOG.chain"
blocked_session
gzip "$TB_LOG.1"
mv "$TB_LOG" "$TB_LOG.0"
install -m 0640 /dev/null "$TB_LOG"
rm -f "$TB_LOG.chain"
kill -HUP "$TB_DAEMON"
tb_wait 5 test -s "$TB_LOG.chain"
tb_stop_daemon
tb_start_daemon "$BUILD" || tb_fail "daemon starts again"
blocked_session
kill -KILL "$TB_DAEMON"
tb_wait_pid 60 "$TB_DAEMON" 2>/dev/null
tb_start_daemon "$BUILD" || tb_fail "daemon starts after kill -9"
blocked_session
verify --log "$TB_LOG.1.gz" --log "$TB_LOG.0" --log "$TB_LOG"
tb_check "the chain holds across rotation, compression, restart and kill -9" \
	verify_says 'chain intact'
tb_check "no record says the chain started anew" \
	bash -c "! zcat -f '$TB_LOG.1.gz' '$TB_LOG.0' '$TB_LOG' | grep -q 'chain starts anew'"
# The default order (rotated, oldest first) needs the default path: the same files under a
# directory of links named as logrotate names them.
mkdir -p "$TB_TMP/rot"
cp "$TB_LOG.1.gz" "$TB_TMP/rot/events.jsonl.2.gz"
cp "$TB_LOG.0" "$TB_TMP/rot/events.jsonl.1"
cp "$TB_LOG" "$TB_TMP/rot/events.jsonl"
verify --log - <<<"$(zcat -f "$TB_TMP/rot/events.jsonl.2.gz" "$TB_TMP/rot/events.jsonl.1" \
	"$TB_TMP/rot/events.jsonl")"
tb_check "standard input verifies" verify_says 'chain intact'
total=$(zcat -f "$TB_LOG.1.gz" "$TB_LOG.0" "$TB_LOG" | wc -l)
tb_check "all $total records of 4 sessions were checked" \
	bash -c "[ $total -ge 12 ] && grep -q '^ldmctl verify: $total records' '$TB_TMP/verify.out'"

# Tampering, each on a fresh copy of the live log (records numbered from what it holds).
cp "$TB_LOG" "$TB_TMP/orig"
first=$(head -n1 "$TB_TMP/orig" | sed -E 's/.*"seq":([0-9]+),.*/\1/')
tamper() {
	cp "$TB_TMP/orig" "$TB_TMP/t"
	"$@"
	! verify --log "$TB_TMP/t" || echo "(verify exited 0)" >>"$TB_TMP/verify.out"
}

# (Line 2 is the session's first policy_file record: its session number is moved.)
tamper sed -i -E '2s/"session":([0-9]+),/"session":9\1,/' "$TB_TMP/t"
tb_check "an edited field fails verification" verify_says 'CHAIN BROKEN' 
tb_check "... naming the record after the edited one (line 3)" \
	verify_says "t:3: record $((first + 2)): the record before it was edited"
tamper sed -i '2d' "$TB_TMP/t"
tb_check "a deleted record is named as missing" \
	verify_says "t:2: record $((first + 2)): records missing before it"
tamper sed -i '2{h;d};3{G}' "$TB_TMP/t"
tb_check "two swapped records are named" verify_says "t:3: record $((first + 1)): out of order"
tamper sed -i "2i {\"ts\":\"2026-01-01T00:00:00.000Z\",\"event\":\"tamper\"}" "$TB_TMP/t"
tb_check "an inserted unsealed record is named" \
	verify_says "t:2: record .*without chain keys"
cp "$TB_TMP/orig" "$TB_TMP/t"
sed -i '1,2d' "$TB_TMP/t"
verify --log "$TB_TMP/t"
tb_check "a log that starts later still verifies (older files are gone)" \
	verify_says 'chain intact'
verify --log "$TB_TMP/orig" --log "$TB_TMP/orig"
tb_check "the same file twice is a chain that goes back" verify_says 'out of order'
tb_check "verify exits 1 on a broken chain" bash -c "! '$CTL' verify --log '$TB_TMP/t' --log '$TB_TMP/t' >/dev/null"
tb_check "verify exits 1 on a missing file" bash -c "! '$CTL' verify --log '$TB_TMP/nope' >/dev/null 2>&1"
# The last record is vouched for by no later one: it is checked against the record the
# pilot was shown (ldm-run's summary names its number and hash).
last=$(tail -n1 "$TB_TMP/orig")
last_seq=$(sed -E 's/.*"seq":([0-9]+),.*/\1/' <<<"$last")
last_hash=$(printf '%s' "$last" | sha256sum | cut -c1-16)
verify --log "$TB_TMP/orig" --expect "$last_seq:$last_hash"
tb_check "--expect: the record the pilot saw is there with its hash" verify_says 'chain intact'
cp "$TB_TMP/orig" "$TB_TMP/t"
sed -i '$s/"blocked":1,/"blocked":0,/' "$TB_TMP/t"
tb_check "the last record was edited (a change the chain alone cannot see)" \
	bash -c "! cmp -s '$TB_TMP/orig' '$TB_TMP/t'"
! verify --log "$TB_TMP/t" --expect "$last_seq:$last_hash"
tb_check "--expect: an edited last record fails" verify_says "record $last_seq is not the record expected"
sed -i '$d' "$TB_TMP/t"
! verify --log "$TB_TMP/t" --expect "$last_seq:$last_hash"
tb_check "--expect: a log cut short fails" verify_says "record $last_seq is not in the log"
tb_check "--expect refuses a malformed value" \
	bash -c "'$CTL' verify --log '$TB_TMP/orig' --expect 12:xyz 2>/dev/null; [ \$? = 2 ]"
# ldm-run shows the pilot the chain's head at the end of a session; the log is held to it.
tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t -- \
	"$NET" tcp-connect "$INET4" 443 2 >/dev/null 2>"$TB_TMP/summary.err"
tb_check "ldm-run's summary names a log record and its hash" \
	grep -Eq '^ldm: log record [0-9]+, sha256 [0-9a-f]{16} \(check the log: ldmctl verify --expect [0-9]+:[0-9a-f]{16}\)$' \
	"$TB_TMP/summary.err"
expect=$(sed -n 's/.*--expect \([0-9]*:[0-9a-f]*\)).*/\1/p' "$TB_TMP/summary.err")
verify --log "$TB_LOG" --expect "$expect"
tb_check "the live log holds that record ($expect)" verify_says 'chain intact'
seq_shown=${expect%%:*}
awk -v n="$seq_shown" -F'"seq":' '{ split($2, a, ","); if (a[1] < n) print }' "$TB_LOG" >"$TB_TMP/cut"
! verify --log "$TB_TMP/cut" --expect "$expect"
tb_check "a log cut before it fails against what the pilot saw" \
	verify_says "record $seq_shown is not in the log"
tb_check "ldmctl log still reads sealed records" \
	bash -c "'$CTL' log --log '$TB_LOG' | grep -q '^blocked tcp '"

tb_summary test_logchain
