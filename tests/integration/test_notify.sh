#!/usr/bin/env bash
# Blocks are seen: without a terminal (or with --notify) ldm-run tells the pilot through
# desktop notifications on the real session bus: one per blocked destination (folded: one per
# destination per minute), the summary at the end, and the reason when the program could not
# start (no daemon, a refused policy). With a terminal and no --notify: none, the summary line
# as before. The app's own bus address stays withheld.
#
# The bed: a private `dbus-daemon --session` of the test user with a stub
# org.freedesktop.Notifications (tests/integration/dbus/notify-stub.py) that appends
# "SUMMARY<TAB>BODY" for every Notify call it receives; the app's attempts go to the test's
# "internet" host, whose ports are closed anyway (the daemon's verdict is what is judged).
# Usage: test_notify.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
RUN="$BUILD/ldm-run"
PY=/usr/bin/python3 # Debian's, with python3-gi

missing() {
	tb_log "test_notify: $* (deps.txt)"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
for t in dbus-daemon script curl; do
	command -v $t >/dev/null || missing "$t is not installed"
done
$PY -c 'from gi.repository import Gio' 2>/dev/null || missing "python3-gi is not installed"

tb_init
chmod o+x "$BUILD" 2>/dev/null
RT="$TB_TMP/rt" # the test user's XDG_RUNTIME_DIR
install -d -m 0700 -o "$TB_USER" -g "$TB_USER" "$RT" "$TB_TMP/bus"
REAL="$RT/bus"
cat >"$TB_TMP/bus/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$REAL</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
chown -R "$TB_USER:$TB_USER" "$TB_TMP/bus"
N="$TB_TMP/out/notified"
bus_env=(env XDG_RUNTIME_DIR="$RT" DBUS_SESSION_BUS_ADDRESS="unix:path=$REAL")

tb_spawn tb_as_user "$TB_LAP" dbus-daemon --config-file="$TB_TMP/bus/bus.conf" --nofork \
	--nopidfile
tb_wait 5 test -S "$REAL" || tb_fail "the private session bus starts"
tb_spawn tb_as_user "$TB_LAP" "${bus_env[@]}" $PY "$HERE/dbus/notify-stub.py" "$N" body
tb_wait 10 test -e "$N.ready" || tb_fail "the stub notification service starts"
install -m 0644 -o "$TB_USER" -g "$TB_USER" /dev/null "$N"

tb_policy closed 'name = "closed";
allow = ( { proto = "tcp"; to = "loopback"; ports = "1-65535"; } );'
tb_policy others "name = \"others\"; users = [ \"nobody\" ];"
tb_start_daemon "$BUILD" || {
	tb_fail "daemon starts"
	tb_summary test_notify
	exit 1
}

O="$TB_TMP/out"
# The app: 4 attempts to port 81 and 4 to port 82 of the internet host, in two rounds more
# than a second apart (so that the daemon's own folding makes more than one record of each).
# With a third argument (the stub's record) it also notes whether the first block was
# notified while it still ran (within 5 s): notifications come live, not at the end.
app='for round in 1 2; do
	for p in 81 82 81 82; do curl -s -m 2 -o /dev/null "http://$1:$p/"; done
	[ $round = 1 ] && sleep 1.5
done
i=0
while [ -n "${3:-}" ] && [ $i -lt 50 ] && ! grep -q "port 81 " "$3"; do sleep 0.1; i=$((i + 1)); done
[ -n "${3:-}" ] && grep -c "port 81 " "$3" >"$2.live"
env >"$2"; true'
# nlines: the notifications received so far.
nlines() { wc -l <"$N"; }
# since N0 PATTERN: how many notifications after the first N0 lines match PATTERN.
since() { tail -n +"$(($1 + 1))" "$N" | grep -c -- "$2"; }

# 1. No terminal (stdin and stderr are no tty), no --notify: notifications.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --socket "$TB_SOCK" --policy closed -- \
	sh -c "$app" _ "$INET4" "$O/env-1" "$N" </dev/null >"$O/1.out" 2>"$O/1.err"
rc=$?
tb_check "no terminal: the program ran and ldm-run exits with its status ($rc)" [ "$rc" = 0 ]
tb_check "no terminal: 8 blocks in the log" \
	[ "$(tb_log_sum '"event":"blocked"' "\"dst\":\"$INET4\"")" = 8 ]
tb_wait 3 sh -c "[ \$(tail -n +$((n0 + 1)) '$N' | grep -c 'ended') -ge 1 ]"
tb_check "no terminal: one notification for $INET4 port 81 ($(since "$n0" "$INET4 port 81 "))" \
	[ "$(since "$n0" "$INET4 port 81 ")" = 1 ]
tb_check "no terminal: one notification for $INET4 port 82 ($(since "$n0" "$INET4 port 82 "))" \
	[ "$(since "$n0" "$INET4 port 82 ")" = 1 ]
tb_check "no terminal: the first block was notified while the program ran" \
	grep -qx 1 "$O/env-1.live"
tb_check "no terminal: the summary notification gives the count and the log command" \
	sh -c "tail -n +$((n0 + 1)) '$N' | grep 'ended' | grep '8 connections blocked' | grep -q 'ldmctl log'"
tb_check "no terminal: 3 notifications in all ($(($(nlines) - n0)))" [ "$(($(nlines) - n0))" = 3 ]
tb_check "no terminal: the summary line is on stderr as well" grep -q 'connections blocked' "$O/1.err"
tb_check "no terminal: nothing said about notifications failing" \
	sh -c "! grep -qi 'notif' '$O/1.err'"
tb_check "no terminal: the app's DBUS_SESSION_BUS_ADDRESS is withheld" \
	grep -qx 'DBUS_SESSION_BUS_ADDRESS=unix:path=/dev/null/ldm-run-no-session-bus' "$O/env-1"
tb_check "no terminal: the app's environment does not hold the real bus address" \
	sh -c "! grep -qF '$REAL' '$O/env-1'"

# 2. The app connects to the real bus itself: refused (and that block is notified too).
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --socket "$TB_SOCK" --policy closed -- \
	sh -c 'gdbus call --address "unix:path=$1" --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications --method org.freedesktop.Notifications.Notify app 0 "" "from-the-app" "" "[]" "{}" 1000 >"$2" 2>&1; echo $? >>"$2"' \
	_ "$REAL" "$O/direct.out" </dev/null >/dev/null 2>&1
tb_check "direct: the app's connect to the real bus fails ($(head -n1 "$O/direct.out" | cut -c1-120))" \
	[ "$(tail -n1 "$O/direct.out")" != 0 ]
tb_wait 3 sh -c "[ \$(tail -n +$((n0 + 1)) '$N' | grep -c 'ended') -ge 1 ]"
tb_check "direct: the app's own Notify call never reached the stub" sh -c "! grep -q from-the-app '$N'"
tb_check "direct: the refused connect to the bus socket is notified" \
	sh -c "tail -n +$((n0 + 1)) '$N' | grep -qF '$REAL'"

# 2b. Nor through the notifier's own connection: ldm-run's first process (the program's
#     grandparent, which holds the bus socket) does not let the program see its fds.
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --notify --socket "$TB_SOCK" --policy closed -- \
	sh -c 'gp=$(cut -d" " -f4 /proc/$PPID/stat); cat /proc/$gp/comm >"$1"
ls -l /proc/$gp/fd/ >>"$1" 2>&1; echo $? >>"$1"' _ "$O/fds.out" </dev/null >/dev/null 2>&1
tb_check "the notifier's fds: the program cannot list them ($(sed -n 2p "$O/fds.out" | cut -c1-80))" \
	sh -c "head -n1 '$O/fds.out' | grep -qx ldm-run && [ \"\$(tail -n1 '$O/fds.out')\" != 0 ] && ! grep -q socket: '$O/fds.out'"

# 3. A terminal (script(1) gives the program's stdin, stdout and stderr a pty), no --notify:
#    no notification, the summary line on the terminal.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" script -qefc "'$RUN' --socket '$TB_SOCK' --policy closed -- sh -c '$app' _ $INET4 $O/env-3" \
	"$O/3.typescript" </dev/null >/dev/null 2>&1
tb_check "terminal: the summary line is on the terminal" grep -q 'connections blocked' "$O/3.typescript"
sleep 1
tb_check "terminal: no notification ($(($(nlines) - n0)))" [ "$(nlines)" = "$n0" ]

# 4. A terminal and --notify: notifications.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" script -qefc "'$RUN' --notify --socket '$TB_SOCK' --policy closed -- sh -c '$app' _ $INET4 $O/env-4" \
	"$O/4.typescript" </dev/null >/dev/null 2>&1
tb_wait 3 sh -c "[ \$(tail -n +$((n0 + 1)) '$N' | grep -c 'ended') -ge 1 ]"
tb_check "terminal and --notify: one notification per destination and the summary ($(($(nlines) - n0)))" \
	sh -c "[ $(since "$n0" "$INET4 port 81 ") = 1 ] && [ $(since "$n0" "$INET4 port 82 ") = 1 ] && [ $(($(nlines) - n0)) = 3 ]"

# 5. No terminal and --no-notify: none.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --no-notify --socket "$TB_SOCK" --policy closed -- \
	sh -c "$app" _ "$INET4" "$O/env-5" </dev/null >/dev/null 2>&1
sleep 1
tb_check "--no-notify: no notification ($(($(nlines) - n0)))" [ "$(nlines)" = "$n0" ]

# 6. No daemon at the socket: the program does not start, and the pilot is told.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --socket "$TB_TMP/no-such.sock" --policy closed -- \
	true </dev/null >/dev/null 2>"$O/6.err"
rc=$?
tb_check "no daemon: exit 125 ($rc)" [ "$rc" = 125 ]
tb_check "no daemon: notified that the daemon is not running" \
	tb_wait 3 sh -c "tail -n +$((n0 + 1)) '$N' | grep 'not started' | grep -q 'not running'"

# 7. A policy the user may not use (users = [ "nobody" ]): refused, and the pilot is told.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --socket "$TB_SOCK" --policy others -- \
	true </dev/null >/dev/null 2>"$O/7.err"
rc=$?
tb_check "refused policy: exit 125 ($rc)" [ "$rc" = 125 ]
tb_check "refused policy: notified with the daemon's reason ($(head -n1 "$O/7.err" | cut -c1-100))" \
	tb_wait 3 sh -c "tail -n +$((n0 + 1)) '$N' | grep 'not started' | grep -q 'others'"

# 7b. An AppImage that cannot be run (an ELF marked type-2 with no image after it).
n0=$(nlines)
install -m 0755 /bin/true "$O/Bad.AppImage"
printf 'AI\x02' | dd of="$O/Bad.AppImage" bs=1 seek=8 conv=notrunc status=none
tb_as_user "$TB_LAP" "${bus_env[@]}" XDG_CACHE_HOME="$O/cache" "$RUN" --socket "$TB_SOCK" \
	--policy closed -- "$O/Bad.AppImage" </dev/null >/dev/null 2>"$O/7b.err"
rc=$?
tb_check "bad AppImage: exit 125 ($rc)" [ "$rc" = 125 ]
tb_check "bad AppImage: notified with the reason ($(head -n1 "$O/7b.err" | cut -c1-100))" \
	tb_wait 3 sh -c "tail -n +$((n0 + 1)) '$N' | grep 'Bad.AppImage was not started' | grep -q 'not a valid AppImage'"

# 8. No notification service (a bus address nobody listens on): said once, the program runs.
tb_as_user "$TB_LAP" env XDG_RUNTIME_DIR="$RT" DBUS_SESSION_BUS_ADDRESS="unix:path=$TB_TMP/nobus" \
	"$RUN" --notify --socket "$TB_SOCK" --policy closed -- sh -c "$app" _ "$INET4" "$O/env-8" \
	</dev/null >/dev/null 2>"$O/8.err"
rc=$?
tb_check "no service: the program ran ($rc)" [ "$rc" = 0 ]
tb_check "no service: said once on stderr ($(grep -ci 'notif' "$O/8.err") lines)" \
	[ "$(grep -ci 'notif' "$O/8.err")" = 1 ]

# 9. Five notifying sessions at once (more than a user's 4 `ldmctl log` readers): each gets
#    its notifications, and `ldmctl log` of the same user still works meanwhile.
for k in 1 2 3 4 5; do
	tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --notify --socket "$TB_SOCK" --policy closed -- \
		sh -c 'touch "$1.up"; i=0; while [ ! -e "$2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done' \
		_ "$O/many-$k" "$O/many.go" </dev/null >/dev/null 2>"$O/many-$k.err" &
	pids[$k]=$!
done
tb_wait 10 sh -c "[ \$(ls '$O'/many-*.up 2>/dev/null | wc -l) = 5 ]"
tb_as_user "$TB_LAP" "$BUILD/ldmctl" log --socket "$TB_SOCK" >"$O/many-log.out" 2>&1
rc=$?
touch "$O/many.go"
wait "${pids[@]}"
tb_check "five notifying sessions: ldmctl log of the same user works meanwhile ($rc: $(head -n1 "$O/many-log.out" | cut -c1-100))" \
	[ "$rc" = 0 ]
tb_check "five notifying sessions: none was refused its records" \
	sh -c "! cat '$O'/many-*.err | grep -q 'desktop notifications'"

# 10. logrotate's `create`: the file is renamed and an empty one made before the daemon's HUP.
#     The daemon appends to the renamed file until it reopens: the notifier (and a user's
#     `ldmctl log --follow` through the daemon, and root's on the file) stay on it until the
#     new file is in use.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --notify --socket "$TB_SOCK" --policy closed -- \
	sh -c 'touch "$2.up"; i=0; while [ ! -e "$2.go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
for p in 96 97; do curl -s -m 2 -o /dev/null "http://$1:$p/"; done; touch "$2.sent"; sleep 3
for p in 98; do curl -s -m 2 -o /dev/null "http://$1:$p/"; done; sleep 2' \
	_ "$INET4" "$O/rot" </dev/null >"$O/rot.out" 2>"$O/rot.err" &
rotpid=$!
tb_wait 10 test -e "$O/rot.up"
tb_spawn tb_as_user "$TB_LAP" "$BUILD/ldmctl" log --follow --json --socket "$TB_SOCK" \
	>"$O/rot-follow.out" 2>&1
folpid=$TB_LAST
tb_spawn "$BUILD/ldmctl" log --follow --json --log "$TB_LOG" >"$O/rot-rootfollow.out" 2>&1
rootfolpid=$TB_LAST
tb_wait 5 test -s "$O/rot-follow.out"
tb_wait 5 test -s "$O/rot-rootfollow.out"
mv "$TB_LOG" "$TB_LOG.1"
install -m 0640 /dev/null "$TB_LOG"
sleep 0.5
touch "$O/rot.go"
tb_wait 10 test -e "$O/rot.sent"
tb_wait 5 sh -c "grep -q '\"dport\":97' '$TB_LOG.1'"
sleep 1
kill -HUP "$TB_DAEMON"
tb_wait 15 sh -c "! kill -0 $rotpid 2>/dev/null"
wait "$rotpid"
tb_log "rotation: blocks in the renamed file: $(grep -c '"dport":9[67]' "$TB_LOG.1"), in the new one: $(grep -c '"dport":98' "$TB_LOG")"
tb_check "rotation: the blocks written before the daemon reopened are notified ($(since "$n0" "$INET4 port 9[67]"))" \
	tb_wait 5 sh -c "[ \$(tail -n +$((n0 + 1)) '$N' | grep -c '$INET4 port 9[67]') -ge 2 ]"
tb_check "rotation: the block after the reopen is notified" \
	tb_wait 5 sh -c "tail -n +$((n0 + 1)) '$N' | grep -q '$INET4 port 98'"
tb_check "rotation: ldmctl log --follow shows the blocks of both files" \
	tb_wait 5 sh -c "grep -q '\"dport\":96' '$O/rot-follow.out' && grep -q '\"dport\":97' '$O/rot-follow.out' && grep -q '\"dport\":98' '$O/rot-follow.out'"
tb_check "rotation: root's ldmctl log --follow --log shows the blocks of both files" \
	tb_wait 5 sh -c "grep -q '\"dport\":96' '$O/rot-rootfollow.out' && grep -q '\"dport\":97' '$O/rot-rootfollow.out' && grep -q '\"dport\":98' '$O/rot-rootfollow.out'"
kill "$folpid" "$rootfolpid" 2>/dev/null

# 11. The daemon is restarted while a notifying session runs (an upgrade: the session goes on,
#     the new daemon takes it up). The notifier's reader dies with the old daemon; the
#     notifier asks the new one again (resuming after the last record it saw) and says so.
#     Port 99 is tried as soon as the new daemon listens, 94 and 95 3 s later: all three are
#     notified, whenever the notifier's ask succeeded.
n0=$(nlines)
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --notify --socket "$TB_SOCK" --policy closed -- \
	sh -c 'touch "$2.up"; i=0; while [ ! -e "$2.go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
curl -s -m 2 -o /dev/null "http://$1:99/"; sleep 3
for p in 94 95; do curl -s -m 2 -o /dev/null "http://$1:$p/"; done; sleep 2' \
	_ "$INET4" "$O/rst" </dev/null >"$O/rst.out" 2>"$O/rst.err" &
rstpid=$!
tb_wait 10 test -e "$O/rst.up"
tb_stop_daemon
tb_start_daemon "$BUILD" || tb_fail "restart: the daemon starts again"
touch "$O/rst.go"
tb_wait 30 sh -c "! kill -0 $rstpid 2>/dev/null"
wait "$rstpid"
sid=$(grep '"event":"session_start"' "$TB_LOG" | tail -n1 | sed 's/.*"session":\([0-9]*\).*/\1/')
tb_log "restart: session $sid: ldm-run said: $(cat "$O/rst.err")"
tb_check "restart: the 3 blocks after the restart are in the log" \
	[ "$(tb_log_sum '"event":"blocked"' "\"session\":$sid,")" = 3 ]
tb_check "restart: each is notified ($(since "$n0" "$INET4 port 9[459]"))" \
	[ "$(since "$n0" "$INET4 port 9[459]")" = 3 ]
tb_check "restart: ldm-run said once that notifications resumed" \
	[ "$(grep -c 'notifications resumed' "$O/rst.err")" = 1 ]

# 12. Below Landlock ABI 6 (Debian 12's 6.1; the test hook lowers it) the program can
#     SIGKILL ldm-run's keeper, its grandparent: notifications stop (README, per-kernel
#     gaps). The supervisor sees the keeper's end of the status pipe close and tells the
#     daemon, which says so in the log, once; the blocks are logged all the same.
tb_as_user "$TB_LAP" "${bus_env[@]}" LDM_RUN_TEST_LANDLOCK_ABI=2 "$RUN" --notify --socket "$TB_SOCK" \
	--policy closed -- sh -c 'gp=$(cut -d" " -f4 /proc/$PPID/stat); kill -9 "$gp"; echo "kill $?" >"$2.kill"; sleep 0.5
for p in 91 92 93; do curl -s -m 2 -o /dev/null "http://$1:$p/"; done; sleep 2; touch "$2"' \
	_ "$INET4" "$O/kk.done" </dev/null >"$O/kk.out" 2>"$O/kk.err"
tb_wait 15 test -e "$O/kk.done"
sid=$(grep '"event":"session_start"' "$TB_LOG" | tail -n1 | sed 's/.*"session":\([0-9]*\).*/\1/')
gone() { grep "\"session\":$sid," "$TB_LOG" | grep '"event":"error"' | grep -c 'no desktop notifications'; }
tb_wait 5 sh -c "grep '\"session\":$sid,' '$TB_LOG' | grep -q 'no desktop notifications'"
sleep 1 # the blocks' last folded records
tb_log "keeper killed: $(cat "$O/kk.done.kill"); session $sid"
tb_check "keeper killed: the 3 blocks are in the log" \
	[ "$(tb_log_sum '"event":"blocked"' "\"session\":$sid,")" = 3 ]
tb_check "keeper killed: the log says once that the session's notifier is gone ($(gone))" \
	[ "$(gone)" = 1 ]

# What notifications cost a launch (printed, not judged): ldm-run -- true, 11 runs of each,
# interleaved (this machine is shared), medians.
launch_once() {
	local s
	s=$(date +%s%N)
	tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --quiet "$1" --socket "$TB_SOCK" \
		--policy closed -- true </dev/null >/dev/null 2>&1
	tb_ms_since "$s"
}
off=() on=()
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	off+=("$(launch_once --no-notify)")
	on+=("$(launch_once --notify)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 6p; }
tb_log "launch of 'true', median of 11: $(median "${off[@]}") ms with --no-notify, $(median "${on[@]}") ms with --notify"

tb_summary test_notify
