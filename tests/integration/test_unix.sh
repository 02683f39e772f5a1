#!/usr/bin/env bash
# Local sockets: an app under ldm-run must not reach a process outside its session over a
# Unix socket (which would then send for it), and every refused connect is logged. Outside
# the session, as the same user: socat relays to the "internet" (a path, reached directly,
# through a symlink the app makes and through a relative path; an abstract name), a tmux
# server and a GNU screen session (each would run curl to the internet), a process that
# hands out sockets over SCM_RIGHTS, and a relay that a two-thread racer tries to reach by
# swapping the address and the socket while connecting. Judged from outside: a capture on
# the internet side, the relays' own connection counts, and the log. Allowed sockets, the
# session's own sockets (path and abstract, socat pairs) and ordinary programs still work.
# Usage: test_unix.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
UX="$BUILD/tests/tools/ldm-unix"
RUN="$BUILD/ldm-run"
HTTP_PORT=8081 # the internet's web server, which the relays forward to
RACE_N=${LDMT_RACE_N:-100000}

tb_require_cmd socat tmux screen curl python3

tb_init
chmod o+x "$BUILD" "$BUILD/tests" "$BUILD/tests/tools" 2>/dev/null
D="$TB_TMP/sock" # the test user's socket directory, as /tmp or $XDG_RUNTIME_DIR would be
install -d -m 0700 -o "$TB_USER" -g "$TB_USER" "$D" "$D/screen" "$D/app"
ln -s "$D" "$TB_TMP/via-link" # a rule may name a socket through a symlinked directory

tb_policy unixtest "name = \"unixtest\";
allow = (
  { proto = \"unix\"; to = \"$D/allowed.sock\"; comment = \"a display\"; },
  { proto = \"unix\"; to = \"$TB_TMP/via-link/linked.sock\"; comment = \"through a link\"; },
  { proto = \"tcp\"; to = \"$INET4\"; ports = \"8090\"; comment = \"an allowed server\"; }
);
deny = ( { proto = \"unix\"; to = \"$D/denied.sock\"; comment = \"never this one\"; } );"

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_unix; exit 1; }

# The internet: a web server for the relays, another one the policy allows.
mkdir -p "$TB_TMP/www" && echo hello >"$TB_TMP/www/x"
tb_spawn tb_in "$TB_INET" python3 -m http.server "$HTTP_PORT" --bind 0.0.0.0 \
	--directory "$TB_TMP/www" >/dev/null 2>&1
tb_spawn tb_in "$TB_INET" python3 -m http.server 8090 --bind 0.0.0.0 \
	--directory "$TB_TMP/www" >/dev/null 2>&1

# Outside the session, as the same user, in the laptop's network namespace.
out() { tb_as_user "$TB_LAP" env HOME="$D" SCREENDIR="$D/screen" "$@"; }
tb_spawn out socat "UNIX-LISTEN:$D/relay.sock,fork" "TCP:$INET4:$HTTP_PORT"
tb_spawn out socat "ABSTRACT-LISTEN:$TB_ID-relay,fork" "TCP:$INET4:$HTTP_PORT"
tb_spawn out "$UX" serve "$D/allowed.sock" "$D/allowed.count" 300
tb_spawn out "$UX" serve "$D/denied.sock" "$D/denied.count" 300
tb_spawn out "$UX" serve "$D/race.sock" "$D/race.count" 600
tb_spawn out "$UX" serve "$D/dgram.sock" "$D/dgram.count" 300 dgram
tb_spawn out "$UX" serve "$D/late.sock" "$D/late.count" 300
tb_spawn out "$UX" serve "$D/linked.sock" "$D/linked.count" 300
tb_spawn out "$UX" pass "$D/passer.sock" 300 "$D/relay.sock"
out tmux -S "$D/tmux.sock" new-session -d -s main sh
out screen -S "$TB_ID" -d -m sh
tb_wait 5 test -S "$D/relay.sock" -a -S "$D/allowed.sock" -a -S "$D/race.sock" -a \
	-S "$D/passer.sock" -a -S "$D/tmux.sock" || tb_log "an outside socket is missing"
tb_wait 5 sh -c "ls '$D/screen' | grep -q '$TB_ID'" || tb_log "no screen session"

tb_capture "$TB_INET" veth-rtr "$TB_TMP/inet.pcap"
cap=$TB_LAST

# app CMD...: runs CMD in a session of the policy, as the test user; its output in app.out.
app() {
	tb_as_user "$TB_LAP" env HOME="$D" SCREENDIR="$D/screen" "$RUN" --socket "$TB_SOCK" \
		--quiet --policy unixtest -- "$@" >"$TB_TMP/app.out" 2>&1
}
# refused NAME CMD...: CMD must fail inside the session.
refused() {
	local name=$1
	shift
	if app "$@"; then
		tb_fail "$name: worked from inside the session: $(head -c 300 "$TB_TMP/app.out")"
	else
		tb_pass "$name: refused inside the session ($(tr '\n' ' ' <"$TB_TMP/app.out" | head -c 120))"
	fi
}
works() {
	local name=$1
	shift
	if app "$@"; then
		tb_pass "$name"
	else
		tb_fail "$name: $(head -c 300 "$TB_TMP/app.out")"
	fi
}
CURL="curl -s -m 3 http://$INET4:$HTTP_PORT/x"

refused "relay, its path" "$UX" connect "$D/relay.sock" stream "GET /x HTTP/1.0
"
refused "relay, socat" socat -u - "UNIX-CONNECT:$D/relay.sock" </dev/null
refused "relay, a symlink the app makes" sh -c \
	"ln -sf '$D/relay.sock' '$D/app/link.sock' && exec '$UX' connect '$D/app/link.sock'"
refused "relay, a relative path" sh -c "cd '$D' && exec '$UX' connect relay.sock"
refused "relay, ../ from another directory" sh -c "cd '$D/app' && exec '$UX' connect ../relay.sock"
refused "relay, abstract" "$UX" connect "@$TB_ID-relay"
refused "relay, abstract with socat" socat -u - "ABSTRACT-CONNECT:$TB_ID-relay" </dev/null
refused "relay, seqpacket socket" "$UX" connect "$D/relay.sock" seqpacket
refused "datagram sockets cannot be made" "$UX" connect "$D/dgram.sock" dgram
refused "a denied socket (deny rule)" "$UX" connect "$D/denied.sock"
refused "fd passing: the passer is out of reach" "$UX" recv-fd "$D/passer.sock" "GET /x HTTP/1.0
"
refused "tmux send-keys" tmux -S "$D/tmux.sock" send-keys -t main "$CURL" Enter
refused "tmux run-shell" tmux -S "$D/tmux.sock" run-shell "$CURL"
refused "tmux new-window" tmux -S "$D/tmux.sock" new-window "$CURL"
refused "screen -X stuff" screen -S "$TB_ID" -X stuff "$CURL
"
refused "screen -X screen" screen -S "$TB_ID" -X screen sh -c "$CURL"

works "an allowed socket" "$UX" connect "$D/allowed.sock"
works "a rule naming the socket through a symlinked directory" "$UX" connect "$D/linked.sock"
works "and the app using the symlinked name" "$UX" connect "$TB_TMP/via-link/linked.sock"
works "the session's own socket (path)" "$UX" pair "$D/app/own.sock"
works "the session's own socket (abstract)" "$UX" pair "@$TB_ID-own"
works "the session's own socket (seqpacket)" "$UX" pair "$D/app/own-seq.sock" seqpacket
works "a socat pair inside the session" sh -c \
	"socat UNIX-LISTEN:'$D/app/socat.sock' EXEC:'echo pong' & i=0;
	 while [ ! -S '$D/app/socat.sock' ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done;
	 socat -u UNIX-CONNECT:'$D/app/socat.sock' - | grep -q pong"
works "a socat pair on an abstract socket" sh -c \
	"socat ABSTRACT-LISTEN:'$TB_ID-socat' EXEC:'echo pong' & i=0;
	 until grep -q '@$TB_ID-socat\$' /proc/net/unix || [ \$i -ge 100 ]; do sleep 0.05; i=\$((i+1)); done;
	 socat -u ABSTRACT-CONNECT:'$TB_ID-socat' - | grep -q pong"
works "a relative path to the session's own socket" sh -c \
	"cd '$D/app' && exec '$UX' pair own-rel.sock"
works "a connect from a second thread" python3 -c "
import socket, sys, threading
ok = []
def f():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect('$D/allowed.sock'); ok.append(1)
t = threading.Thread(target=f); t.start(); t.join(); sys.exit(0 if ok else 1)"
works "sh" sh -c 'echo ok | grep -q ok'
works "python3" python3 -c 'import socket, json; print(json.dumps({"ok": 1}))'
works "curl to an allowed peer" curl -s -m 5 -o /dev/null "http://$INET4:8090/x"

# A process the program leaves behind: ldm-run returns with the program, and the leftover's
# connects stay judged (the relay refused and logged, the allowed socket works). Its 1 s
# sleep is what is tested: it connects after ldm-run has returned.
t0=$(date +%s%N)
if app sh -c "(sleep 1; '$UX' connect '$D/late.sock' >'$D/app/late-relay.out' 2>&1;
	'$UX' connect '$D/allowed.sock' >'$D/app/late-allowed.out' 2>&1) >/dev/null 2>&1 & exit 0"
then
	ms=$(tb_ms_since "$t0")
	[ "$ms" -lt 900 ] && tb_pass "leftover: ldm-run returned with the program (${ms} ms)" ||
		tb_fail "leftover: ldm-run waited ${ms} ms for the process left behind"
	tb_wait 10 test -s "$D/app/late-allowed.out"
	grep -q "connect: ok" "$D/app/late-allowed.out" 2>/dev/null &&
		tb_pass "leftover: the allowed socket works" ||
		tb_fail "leftover: the allowed socket: $(cat "$D/app/late-allowed.out" 2>&1)"
	grep -q "connect: ok" "$D/app/late-relay.out" 2>/dev/null &&
		tb_fail "leftover: reached the relay" || tb_pass "leftover: the relay is refused"
	[ "$(cat "$D/late.count")" = 0 ] && tb_pass "leftover: the relay saw no connection" ||
		tb_fail "leftover: the relay saw $(cat "$D/late.count")"
else
	tb_fail "leftover: the program failed: $(head -c 300 "$TB_TMP/app.out")"
fi

# The racer: the connecting thread aims at the session's own listener while the other
# rewrites the address to the relay and swaps the fd. Nothing may reach the relay.
racer_own="$D/app/race-own.sock"
if app sh -c "'$UX' serve '$racer_own' '$D/app/race-own.count' 600 & i=0;
	while [ ! -S '$racer_own' ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done;
	'$UX' race '$racer_own' '$D/race.sock' $RACE_N; kill \$!"; then
	tb_log "$(cat "$TB_TMP/app.out")"
	[ "$(cat "$D/race.count")" = 0 ] && tb_pass "racer: $RACE_N connects, none reached the relay" ||
		tb_fail "racer: the relay saw $(cat "$D/race.count") connections"
	grep -q "race: [1-9][0-9]* of" "$TB_TMP/app.out" && tb_pass "racer: its allowed connects worked" ||
		tb_fail "racer: no connect to its own socket worked"
else
	tb_fail "racer did not run: $(head -c 300 "$TB_TMP/app.out")"
fi

# From outside, the same relay works: the attempts above were refused, not broken.
n=$(tb_capture_count "$cap" "$TB_TMP/inet.pcap" "tcp port $HTTP_PORT")
[ "$n" = 0 ] && tb_pass "nothing reached the internet's web server (capture)" ||
	tb_fail "the capture saw $n packets to the web server"
[ "$(cat "$D/dgram.count")" = 0 ] && tb_pass "the datagram relay received nothing" ||
	tb_fail "the datagram relay received $(cat "$D/dgram.count")"
[ "$(cat "$D/denied.count")" = 0 ] && tb_pass "the denied socket saw no connection" ||
	tb_fail "the denied socket saw $(cat "$D/denied.count")"
[ "$(cat "$D/allowed.count")" -ge 1 ] && tb_pass "the allowed socket saw its connection" ||
	tb_fail "the allowed socket saw none"
out curl -s -m 3 -o /dev/null "http://$INET4:$HTTP_PORT/x" &&
	tb_pass "control: the web server answers outside the session" ||
	tb_fail "control: the web server does not answer"
out socat -u - "UNIX-CONNECT:$D/relay.sock" </dev/null &&
	tb_pass "control: the relay takes connections outside the session" ||
	tb_fail "control: the relay is down"

# The log: one blocked record per refused socket, with proto unix and the socket in dst.
check_log() {
	local what=$1 n
	shift
	n=$(tb_log_count '"event":"blocked"' '"proto":"unix"' "$@")
	[ "$n" -ge 1 ] && tb_pass "logged: $what" || tb_fail "not logged: $what ($*)"
}
tb_wait 3 test "$(tb_log_count '"proto":"unix"')" -ge 8
check_log "the relay" "\"dst\":\"$D/relay.sock\"" '"reason":"local socket outside the session'
check_log "the abstract relay" "\"dst\":\"@$TB_ID-relay\""
check_log "the deny rule" "\"dst\":\"$D/denied.sock\"" '"rule":4' '"comment":"never this one"'
check_log "tmux" "\"dst\":\"$D/tmux.sock\""
check_log "screen" "\"dst\":\"$D/screen/"
check_log "the passer" "\"dst\":\"$D/passer.sock\""
check_log "the racer's relay" "\"dst\":\"$D/race.sock\""
check_log "the leftover's relay" "\"dst\":\"$D/late.sock\""
n=$(tb_log_count '"event":"syscall_denied"' '"syscall":"socket"')
[ "$n" -ge 1 ] && tb_pass "logged: the datagram socket" || tb_fail "not logged: the datagram socket"
n=$(tb_log_count '"proto":"unix"' "\"dst\":\"$D/allowed.sock\"")
[ "$n" = 0 ] && tb_pass "the allowed socket is not logged" || tb_fail "the allowed socket was logged"
n=$(tb_log_count '"proto":"unix"' "own")
[ "$n" = 0 ] && tb_pass "the session's own sockets are not logged" ||
	tb_fail "the session's own sockets were logged"

out tmux -S "$D/tmux.sock" kill-server 2>/dev/null
out screen -S "$TB_ID" -X quit 2>/dev/null
tb_summary test_unix
