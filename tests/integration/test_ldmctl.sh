#!/usr/bin/env bash
# ldmctl status and ldmctl log against the real daemon, in private namespaces: the daemon
# line and a live session's line, a blocked flow read back from the log (all, one session,
# --json, --follow), the log refused to an unprivileged user, and the "not running" answer.
# Usage: test_ldmctl.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"

tb_init

tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_ldmctl; exit 1; }

tb_check "the daemon says it is ready, and where, in the foreground" \
	grep -q "^ldm-enforcerd [0-9.]*: ready on $TB_SOCK (policies from $TB_TMP/policies; log $TB_LOG;" \
	"$TB_TMP/daemon.out"

run_app() {
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- "$@"
}

ctl() {
	tb_in "$TB_LAP" "$CTL" "$@"
}

status_has() { ctl status --socket "$TB_SOCK" 2>/dev/null | grep -Eq -- "$1"; }
log_has() { ctl log "${@:2}" --log "$TB_LOG" 2>/dev/null | grep -Eq -- "$1"; }

tb_spawn tb_in "$TB_INET" "$NET" tcp-serve :: 443 60 >/dev/null
tb_wait_listen "$TB_INET" tcp:443
# The session numbers below (1, 2, 3) are those of the two spares the daemon makes at its
# start, then the next: start only once both wait ready.
tb_wait 5 status_has ', spares ready 2,'

# Session 1: one blocked connection to the internet.
run_app "$NET" tcp-connect "$INET4" 443 2 2>/dev/null
tb_check "session 1: tcp to $INET4:443 is refused" [ "$?" = 1 ]

# status: the daemon line, and a line for a session while it runs.
out=$(ctl status --socket "$TB_SOCK")
tb_check "status exits 0" [ "$?" = 0 ]
tb_check "status shows the daemon line" grep -Eq '^daemon: queue 4242, ' <<<"$out"
tb_spawn run_app sleep 3
app=$TB_LAST
tb_check "status shows the running session 2" \
	tb_wait 3 status_has '^session 2: running, policy t, user ldmtest, pid [0-9]+, '
env_status() {
	LDM_SOCKET="$TB_SOCK" tb_in "$TB_LAP" "$CTL" status | grep -q '^daemon: '
}
tb_check "status finds the socket by LDM_SOCKET too" env_status
status_json_ok() {
	ctl status --json --socket "$TB_SOCK" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["daemon"]["queue"] == 4242, s
assert any(x["state"] == "running" and x["user"] == "ldmtest" and x["policy"] == "t"
           and x["app"] == "/usr/bin/sleep" and x["blocked"] >= 0 for x in s["sessions"]), s'
}
tb_check "status --json is one object: the daemon and the running session" status_json_ok
tb_wait_pid 60 "$app"
no_sessions_json() {
	ctl status --json --socket "$TB_SOCK" |
		python3 -c 'import json, sys; assert json.load(sys.stdin)["sessions"] == []'
}
tb_check "status --json with no session left: an empty list" tb_wait 3 no_sessions_json

# log: every record, one session, --json.
tb_check "log shows the blocked flow to $INET4:443" \
	tb_wait 3 log_has "^blocked tcp [0-9.]+:[0-9]+ -> $INET4:443 .*session 1 policy t "
out=$(ctl log --log "$TB_LOG" 2>&1)
tb_check "log exits 0 and reads every line" [ "$?" = 0 -a -n "$out" ]
tb_check "log reports no unreadable record" eval '! grep -q unreadable <<<"$out"'
out=$(ctl log 1 --json --log "$TB_LOG")
tb_check "log 1 --json exits 0" [ "$?" = 0 ]
tb_check "log 1 --json has session 1's start and its block" \
	[ "$(grep -c '"event":"session_start","session":1,' <<<"$out")" = 1 -a \
	"$(grep -c '"event":"blocked","session":1,.*"dst":"198.51.100.7","dport":443' \
		<<<"$out")" -ge 1 ]
tb_check "log 1 --json has only session 1's records" \
	[ "$(grep -vc '^{"ts":"[^"]*","event":"[a-z_]*","session":1,' <<<"$out")" = 0 ]
tb_check "log 2 shows session 2's start and end" \
	tb_wait 3 eval '[ "$(ctl log 2 --log "$TB_LOG" | grep -Ec "^session_(start|end) session 2 ")" = 2 ]'
tb_check "and no other session's records" \
	[ "$(ctl log 2 --log "$TB_LOG" | grep -vc ' session 2 ')" = 0 ]

# --follow prints a record written after it started (it is following once it has printed
# the records already there).
n=$(wc -l <"$TB_LOG")
ctl log --follow --log "$TB_LOG" >"$TB_TMP/follow.out" 2>&1 &
follower=$!
TB_PIDS+=("$follower")
tb_wait 5 sh -c '[ "$(wc -l <"$1")" -ge "$2" ]' _ "$TB_TMP/follow.out" "$n"
run_app "$NET" tcp-connect "$INET4" 443 2 2>/dev/null
tb_check "log --follow shows session 3's block as it happens" \
	tb_wait 3 grep -Eq "^blocked tcp .* -> $INET4:443 .*session 3 " "$TB_TMP/follow.out"
kill -TERM "$follower" 2>/dev/null
tb_wait_pid 60 "$follower" 2>/dev/null

# The log is the daemon's (0640 root): an unprivileged user is told why it cannot read it.
out=$(tb_as_user "$TB_LAP" "$CTL" log --log "$TB_LOG" 2>&1)
rc=$?
tb_check "log as an unprivileged user exits 1" [ "$rc" = 1 ]
tb_check "and says the log is readable by root ($out)" \
	grep -q "cannot read .*: Permission denied .* readable by root" <<<"$out"

# With the daemon stopped, status says it is not running and how to start it.
kill -TERM "$TB_DAEMON"
tb_wait_pid 60 "$TB_DAEMON" 2>/dev/null
out=$(ctl status --socket "$TB_SOCK" 2>&1)
rc=$?
tb_check "status without a daemon exits 1" [ "$rc" = 1 ]
tb_check "and says how to start it" grep -q "is not running.*systemctl start ldm-enforcerd" \
	<<<"$(tr '\n' ' ' <<<"$out")"

tb_summary test_ldmctl
