#!/usr/bin/env bash
# Displays: an X server lets any client type into any other client's windows, so an app that
# reaches the X socket can type a command into a terminal outside its session. The bed: Xvfb
# and an xterm running a shell, as the test user, outside any session. From inside a
# session, xdotool types a curl command into that xterm:
#   - without an X rule this must fail, tried plainly and through a relay the app makes
#     itself (socat on an abstract socket of its own, which Landlock's scoping lets it reach,
#     forwarding to the X server's pathname socket, which only the unix-socket mediation
#     judges); judged from outside: the typed command's marker file, the internet host's
#     HTTP log;
#   - with a unix rule for the X socket an X client (xdpyinfo) works: the abstract
#     @/tmp/.X11-unix/XN the client tries first is refused with ECONNREFUSED, on which Xlib
#     and xcb fall back to the pathname socket; ldmctl check, ldm-run and the session_start
#     record say loudly that X11 is allowed.
# Both need the unix-socket mediation of ldm-run (proto "unix" rules); in a build without it
# they FAIL and say so.
# Usage: test_display.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"
HTTP_PORT=8080
PY=/usr/bin/python3

tb_require_cmd Xvfb xterm xdotool xdpyinfo socat curl

tb_init
chmod o+x "$BUILD" 2>/dev/null
O="$TB_TMP/out"
URL="http://$INET4:$HTTP_PORT"

tb_spawn_in "$TB_INET" $PY -u -m http.server --bind "$INET4" "$HTTP_PORT" >"$TB_TMP/http.log" 2>&1
tb_wait 5 grep -q "Serving HTTP" "$TB_TMP/http.log" || tb_fail "the HTTP server starts"
typed() { grep -c "GET /typed-" "$TB_TMP/http.log"; }

# Xvfb picks a free display number and writes it on fd 3.
tb_spawn tb_as_user "$TB_LAP" sh -c 'echo $$ >"$3"; exec Xvfb -displayfd 3 -nolisten tcp -screen 0 800x600x16 3>"$1" 2>"$2"' \
	_ "$O/display" "$O/xvfb.log" "$O/xvfb.pid"
# Xvfb (its pid is the sh's, which exec'd it) ends with TERM, so that it removes its socket
# and lock in /tmp, shared with the host; then the rest of the bed goes.
x_cleanup() {
	local pid
	pid=$(cat "$O/xvfb.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		tb_wait 3 sh -c "! kill -0 $pid 2>/dev/null"
	fi
	tb_cleanup
}
trap x_cleanup EXIT
bed_fail() {
	tb_fail "$1 ($(tail -n2 "$O/xvfb.log" 2>/dev/null | tr '\n' ' '))"
	tb_summary test_display
	exit 1
}
tb_wait 10 grep -q '^[0-9]' "$O/display" 2>/dev/null || bed_fail "Xvfb starts"
N=$(head -n1 "$O/display")
XSOCK=/tmp/.X11-unix/X$N
RELAY=$((N + 1))
while [ -e "/tmp/.X11-unix/X$RELAY" ]; do RELAY=$((RELAY + 1)); done
tb_spawn tb_as_user "$TB_LAP" env DISPLAY=":$N" xterm -e sh
tb_wait 10 tb_as_user "$TB_LAP" env DISPLAY=":$N" xdotool search --class xterm >/dev/null 2>&1 ||
	bed_fail "the xterm outside the session shows up"

# The typist: focuses the xterm and types a command that fetches a URL from outside.
cat >"$O/typist.sh" <<'SH'
#!/bin/sh
# typist.sh DISPLAY TAG URL OUTDIR: types "curl URL/typed-TAG; touch OUTDIR/typed-TAG".
w=$(DISPLAY=$1 xdotool search --class xterm 2>"$4/typist-$2.err" | head -n1)
[ -n "$w" ] || { echo "no window" >>"$4/typist-$2.err"; exit 1; }
DISPLAY=$1 xdotool windowfocus --sync "$w" type "curl -s $3/typed-$2; touch $4/typed-$2
" 2>>"$4/typist-$2.err"
SH
chmod 0755 "$O/typist.sh"

# The bed is right: from outside a session the typing runs the command.
# (The xterm's shell may not read its input yet when the window shows up: try 3 times.)
for i in 1 2 3; do
	tb_as_user "$TB_LAP" "$O/typist.sh" ":$N" bed "$URL" "$O"
	tb_wait 3 test -e "$O/typed-bed" && break
done
test -e "$O/typed-bed" ||
	bed_fail "bed: xdotool outside a session types into the xterm and its shell runs the command"
tb_pass "bed: xdotool outside a session types into the xterm and its shell runs the command"
base=$(typed)

tb_policy nox 'name = "nox";
allow = ( { proto = "tcp"; to = "loopback"; ports = "1-65535"; } );'
cat >"$TB_TMP/x11.conf" <<POL
name = "x11";
allow = ( { proto = "unix"; to = "$XSOCK"; comment = "the X display (X11: any window)"; } );
POL
have_unix=1
if "$CTL" check "$TB_TMP/x11.conf" >"$O/check.out" 2>"$O/check.err"; then
	tb_policy x11 "$(cat "$TB_TMP/x11.conf")"
else
	have_unix=0
fi
tb_start_daemon "$BUILD" || {
	tb_fail "daemon starts"
	tb_summary test_display
	exit 1
}

# 1. No X rule: plain xdotool from inside.
tb_as_user "$TB_LAP" env DISPLAY=":$N" "$RUN" --quiet --socket "$TB_SOCK" --policy nox -- \
	"$O/typist.sh" ":$N" plain "$URL" "$O"
# Not a synchronisation: what is tested is that the xterm runs nothing within this second.
sleep 1
tb_check "no X rule: xdotool from inside cannot type into the xterm outside ($(head -c 160 "$O/typist-plain.err"))" \
	test ! -e "$O/typed-plain"

# 2. No X rule: through a relay of the app's own (abstract @/tmp/.X11-unix/X$RELAY -> $XSOCK).
tb_as_user "$TB_LAP" env DISPLAY=":$N" "$RUN" --quiet --socket "$TB_SOCK" --policy nox -- \
	sh -c 'socat ABSTRACT-LISTEN:/tmp/.X11-unix/X$1,fork UNIX-CONNECT:$2 2>"$5/socat.err" &
i=0; until grep -q "@/tmp/.X11-unix/X$1\$" /proc/net/unix || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
"$5/typist.sh" ":$1" relay "$4" "$5"; kill $! 2>/dev/null; exit 0' _ "$RELAY" "$XSOCK" x "$URL" "$O"
# Not a synchronisation: what is tested is that the xterm runs nothing within this second.
sleep 1
if [ -e "$O/typed-relay" ]; then
	tb_fail "no X rule: xdotool through a relay of the app's own cannot type into the xterm [NEEDS the unix-socket mediation of ldm-run: in this build the relay reached $XSOCK and the xterm ran the command]"
else
	tb_pass "no X rule: xdotool through a relay of the app's own cannot type into the xterm ($(head -c 160 "$O/typist-relay.err"))"
	tb_check "log: the relay's connect to $XSOCK is a blocked unix record" \
		tb_wait 3 sh -c "grep '\"event\":\"blocked\"' '$TB_LOG' | grep '\"proto\":\"unix\"' | grep -qF '\"dst\":\"$XSOCK\"'"
fi
# Not a synchronisation: what is tested is that nothing arrives; stragglers get this long.
sleep 0.5
tb_check "no X rule: no typed command reached the internet host ($(($(typed) - base)) new)" \
	[ "$(typed)" = "$base" ]

# 3. An X rule: an X client works, and every tool says X11 is allowed.
if [ "$have_unix" = 0 ]; then
	tb_fail "X rule: the policy loads [NEEDS proto \"unix\" rules: $(head -n1 "$O/check.err")]"
else
	tb_check "X rule: ldmctl check warns that X11 lets the app type into every window" \
		grep -q "warning: the app may reach the X display '$XSOCK'" "$O/check.err"
	tb_as_user "$TB_LAP" env DISPLAY=":$N" "$RUN" --socket "$TB_SOCK" --policy x11 -- \
		sh -c 'xdpyinfo >"$1/xdpyinfo.out" 2>&1; echo $? >>"$1/xdpyinfo.out"' _ "$O" \
		2>"$O/run-x11.err"
	tb_check "X rule: xdpyinfo inside the session opens the display ($(head -n1 "$O/xdpyinfo.out"))" \
		[ "$(tail -n1 "$O/xdpyinfo.out")" = 0 ]
	tb_check "X rule: ldm-run warns on stderr" grep -q "warning: the policy lets the program reach the X display" "$O/run-x11.err"
	tb_check "X rule: the session_start record says X11 is allowed" \
		[ "$(tb_log_count '"event":"session_start"' '"policy":"x11"' 'X11 display allowed')" -ge 1 ]
fi

tb_summary test_display
