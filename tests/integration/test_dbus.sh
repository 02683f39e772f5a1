#!/usr/bin/env bash
# D-Bus through a filter: an app under ldm-run reaches a session bus only through the
# xdg-dbus-proxy ldm-run starts when the policy names bus names, and only those names.
#
# The bed: a private `dbus-daemon --session` of the test user (our own config file, its
# socket at $XDG_RUNTIME_DIR/bus in the test's directory), outside any session, with
#   - org.example.PhoneHome, an activatable service whose Exec= line fetches a URL from the
#     test's "internet" host: asking the bus for it makes the bus run curl outside the
#     session, where no rule holds it (the hole this closes);
#   - org.freedesktop.Notifications, a stub notification daemon (python3-gi) that records
#     each Notify call: the name the allowing policy names.
# Judged from outside: the internet host's HTTP log and a capture on its interface, the
# stub's record, the process table (no proxy left), the app's environment.
#
# The direct connect to the real bus socket (case 5) is refused by the unix-socket
# mediation of ldm-run (proto "unix" rules); in a build without it that case FAILS and says
# so.
# Usage: test_dbus.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
RUN="$BUILD/ldm-run"
HTTP_PORT=8080
PY=/usr/bin/python3 # Debian's, with python3-gi

tb_require_cmd dbus-daemon dbus-send gdbus curl xdg-dbus-proxy tcpdump
$PY -c 'from gi.repository import Gio' 2>/dev/null || tb_skip "python3-gi is not installed"

tb_init
chmod o+x "$BUILD" 2>/dev/null
RT="$TB_TMP/rt" # the test user's XDG_RUNTIME_DIR
install -d -m 0700 -o "$TB_USER" -g "$TB_USER" "$RT" "$TB_TMP/bus" "$TB_TMP/bus/services"
REAL="$RT/bus"
URL="http://$INET4:$HTTP_PORT"

cat >"$TB_TMP/bus/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$REAL</listen>
  <auth>EXTERNAL</auth>
  <limit name="service_start_timeout">5000</limit>
  <servicedir>$TB_TMP/bus/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
# Exits 1 after the fetch, so the bus answers the activation at once (it fails: the
# service never takes its name; the request has left all the same).
cat >"$TB_TMP/bus/services/org.example.PhoneHome.service" <<SVC
[D-BUS Service]
Name=org.example.PhoneHome
Exec=/bin/sh -c "/usr/bin/curl -s -m 3 -o /dev/null $URL/phonehome-activation; exit 1"
SVC
chown -R "$TB_USER:$TB_USER" "$TB_TMP/bus"

bus_env=(env XDG_RUNTIME_DIR="$RT" DBUS_SESSION_BUS_ADDRESS="unix:path=$REAL")
# A second bus, standing in for the system bus (DBUS_SYSTEM_BUS_ADDRESS), with a stub too.
SYS="$TB_TMP/bus/system-socket"
sed -e "s|<type>session</type>|<type>system</type>|" -e "s|unix:path=$REAL|unix:path=$SYS|" \
	-e "/servicedir/d" "$TB_TMP/bus/bus.conf" >"$TB_TMP/bus/system.conf"
chown "$TB_USER:$TB_USER" "$TB_TMP/bus/system.conf"

# The internet: an HTTP server whose log shows every request that arrived.
tb_spawn_in "$TB_INET" $PY -u -m http.server --bind "$INET4" "$HTTP_PORT" \
	>"$TB_TMP/http.log" 2>&1
tb_wait 5 grep -q "Serving HTTP" "$TB_TMP/http.log" || tb_fail "the HTTP server starts"
requests() { grep -c "GET /phonehome" "$TB_TMP/http.log"; }

# The bus and the stub, as the test user, outside any session.
tb_spawn tb_as_user "$TB_LAP" dbus-daemon --config-file="$TB_TMP/bus/bus.conf" --nofork \
	--nopidfile
tb_wait 5 test -S "$REAL" || tb_fail "the private session bus starts"
tb_spawn tb_as_user "$TB_LAP" "${bus_env[@]}" $PY "$HERE/dbus/notify-stub.py" \
	"$TB_TMP/out/notified"
tb_wait 10 test -e "$TB_TMP/out/notified.ready" || tb_fail "the stub notification service starts"
tb_spawn tb_as_user "$TB_LAP" dbus-daemon --config-file="$TB_TMP/bus/system.conf" --nofork \
	--nopidfile
tb_wait 5 test -S "$SYS" || tb_fail "the stand-in system bus starts"
tb_spawn tb_as_user "$TB_LAP" env DBUS_SESSION_BUS_ADDRESS="unix:path=$SYS" $PY \
	"$HERE/dbus/notify-stub.py" "$TB_TMP/out/notified-system"
tb_wait 10 test -e "$TB_TMP/out/notified-system.ready" ||
	tb_fail "the stub service on the stand-in system bus starts"

tb_policy nobus 'name = "nobus";
allow = ( { proto = "tcp"; to = "loopback"; ports = "1-65535"; } );'
tb_policy notify 'name = "notify";
allow = ( { proto = "dbus"; bus = "session"; name = "org.freedesktop.Notifications";
            comment = "desktop notifications"; } );'
tb_policy twobus 'name = "twobus";
allow = ( { proto = "dbus"; bus = "session"; name = "org.freedesktop.Notifications"; },
          { proto = "dbus"; bus = "system"; name = "org.freedesktop.*"; } );'
tb_start_daemon "$BUILD" || {
	tb_fail "daemon starts"
	tb_summary test_dbus
	exit 1
}

phonehome='dbus-send --session --print-reply --dest=org.example.PhoneHome /x org.example.PhoneHome.Ping'
# last_rc FILE: the exit status each step appended as the file's last line.
last_rc() { tail -n1 "$1"; }
first() { head -n1 "$1" | cut -c1-160; }

# 0. The bed is right: from outside a session the activation does phone home.
tb_as_user "$TB_LAP" "${bus_env[@]}" sh -c "$phonehome" >"$TB_TMP/bed.out" 2>&1
tb_check "bed: outside a session, activating org.example.PhoneHome reaches the internet" \
	tb_wait 5 sh -c "[ \$(grep -c 'GET /phonehome' '$TB_TMP/http.log') -ge 1 ]"
base=$(requests)

tb_capture_ready "$TB_INET" veth-rtr "$TB_TMP/inet.pcap" || tb_fail "capture starts"
cap=$TB_LAST

# 1. No dbus rule, the real address in ldm-run's environment: the app gets none.
O="$TB_TMP/out"
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --quiet --socket "$TB_SOCK" --policy nobus -- \
	sh -c 'env >"$1/env-nobus"; '"$phonehome"' >"$1/nobus.out" 2>&1; echo $? >>"$1/nobus.out"' \
	_ "$O"
tb_check "no dbus rule: the app's environment does not hold the real bus address" \
	sh -c "! grep -qF '$REAL' '$O/env-nobus'"
tb_check "no dbus rule: DBUS_SESSION_BUS_ADDRESS points at nothing" \
	grep -qx 'DBUS_SESSION_BUS_ADDRESS=unix:path=/dev/null/ldm-run-no-session-bus' "$O/env-nobus"
tb_check "no dbus rule: DBUS_SYSTEM_BUS_ADDRESS points at nothing" \
	grep -qx 'DBUS_SYSTEM_BUS_ADDRESS=unix:path=/dev/null/ldm-run-no-system-bus' "$O/env-nobus"
tb_check "no dbus rule: dbus-send --session to org.example.PhoneHome fails ($(first "$O/nobus.out"))" \
	[ "$(last_rc "$O/nobus.out")" != 0 ]
# A withheld bus is a block like any other: the attempt is a record naming the bus.
tb_check "no dbus rule: the attempt on the withheld session bus is logged" \
	tb_wait 3 sh -c "grep '\"event\":\"blocked\"' '$TB_LOG' | grep '\"proto\":\"unix\"' |
		grep -F '\"dst\":\"/dev/null/ldm-run-no-session-bus\"' | grep -qF 'D-Bus'"
# Not a synchronisation: what is tested is that nothing arrives; stragglers get this long.
sleep 0.3
tb_check "no dbus rule: the activation request did not reach the internet ($(($(requests) - base)) new)" \
	[ "$(requests)" = "$base" ]

# 3. The notify policy, no DBUS_SESSION_BUS_ADDRESS: the proxy finds $XDG_RUNTIME_DIR/bus.
tb_as_user "$TB_LAP" env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$RT" "$RUN" --quiet \
	--socket "$TB_SOCK" --policy notify -- sh -c 'env >"$1/env-notify"
stat -c %a "$(dirname "${DBUS_SESSION_BUS_ADDRESS#unix:path=}")" >"$1/dirmode"
gdbus call --session --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications --method org.freedesktop.Notifications.Notify ldm 0 "" "Battery low" "land now" "[]" "{}" 5000 >"$1/notify.out" 2>&1
echo $? >>"$1/notify.out"
'"$phonehome"' >"$1/phone.out" 2>&1; echo $? >>"$1/phone.out"
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.StartServiceByName string:org.example.PhoneHome uint32:0 >"$1/start.out" 2>&1; echo $? >>"$1/start.out"
gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.UpdateActivationEnvironment "{\"PATH\": \"/tmp/evil\"}" >"$1/uae.out" 2>&1; echo $? >>"$1/uae.out"
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.Monitoring.BecomeMonitor array:string: uint32:0 >"$1/mon.out" 2>&1; echo $? >>"$1/mon.out"
' _ "$O"
addr=$(sed -n 's/^DBUS_SESSION_BUS_ADDRESS=//p' "$O/env-notify")
tb_check "notify: the app's bus address is the proxy's private socket ($addr)" \
	sh -c "case '$addr' in unix:path=$RT/ldm/dbus-*/session-bus) exit 0;; *) exit 1;; esac"
tb_check "notify: the proxy's directory is private (mode $(cat "$O/dirmode"))" \
	grep -qx 700 "$O/dirmode"
tb_check "notify: the allowed Notify call reached the stub ($(first "$O/notify.out"))" \
	grep -qx 'Battery low' "$O/notified"
tb_check "notify: the app got the stub's answer" grep -q '(uint32 42,)' "$O/notify.out"
tb_check "notify: a call to org.example.PhoneHome through the proxy fails ($(first "$O/phone.out"))" \
	[ "$(last_rc "$O/phone.out")" != 0 ]
tb_check "notify: StartServiceByName org.example.PhoneHome is refused ($(first "$O/start.out"))" \
	[ "$(last_rc "$O/start.out")" != 0 ]
tb_check "notify: UpdateActivationEnvironment is refused ($(first "$O/uae.out"))" \
	grep -q 'AccessDenied' "$O/uae.out"
tb_check "notify: BecomeMonitor is refused ($(first "$O/mon.out"))" \
	grep -q 'AccessDenied' "$O/mon.out"
tb_check "notify: no proxy is left once the session ended" \
	sh -c "! pgrep -f 'xdg-dbus-prox[y] .*$RT/ldm/dbus-' >/dev/null"
tb_check "notify: the proxy's private directory is removed" \
	sh -c "[ -z \"\$(ls -A '$RT/ldm' 2>/dev/null)\" ]"

# 3b. Eavesdropping through the proxy: the bus allows it to the same user (BecomeMonitor,
#     then eavesdrop match rules); a client outside broadcasts a secret meanwhile.
tb_as_user "$TB_LAP" env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$RT" "$RUN" --quiet \
	--socket "$TB_SOCK" --policy notify -- sh -c 'timeout 4 dbus-monitor --session >"$1/monitor.out" 2>&1' \
	_ "$O" &
mon=$!
tb_as_user "$TB_LAP" "${bus_env[@]}" timeout 4 dbus-monitor --session >"$O/monitor-bed.out" 2>&1 &
bedmon=$!
tb_wait 5 grep -q "NameAcquired" "$O/monitor.out" 2>/dev/null
tb_wait 5 grep -q "NameAcquired" "$O/monitor-bed.out" 2>/dev/null
for i in 1 2 3; do
	tb_as_user "$TB_LAP" "${bus_env[@]}" dbus-send --session --type=signal /secret \
		org.example.Secret.Leak string:"pilot-password-$i"
done
tb_wait_pid 60 "$mon"; tb_wait_pid 60 "$bedmon"
tb_check "bed: a monitor outside a session sees the broadcast secret" \
	grep -q pilot-password "$O/monitor-bed.out"
tb_check "notify: the app saw bus traffic of its own only, not a secret broadcast by another client" \
	sh -c "grep -q NameAcquired '$O/monitor.out' && ! grep -q pilot-password '$O/monitor.out'"

# 3c. Both buses through one proxy: each stub gets the call made on its own bus.
notify_call='gdbus call --$2 --dest org.freedesktop.Notifications --object-path /org/freedesktop/Notifications --method org.freedesktop.Notifications.Notify ldm 0 "" "$3" "" "[]" "{}" 1000'
tb_as_user "$TB_LAP" "${bus_env[@]}" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$SYS" "$RUN" --quiet \
	--socket "$TB_SOCK" --policy twobus -- sh -c 'env >"$1/env-twobus"
set -- "$1" system "via system proxy"; '"$notify_call"' >"$1/two-system.out" 2>&1; echo $? >>"$1/two-system.out"
set -- "$1" session "via session proxy"; '"$notify_call"' >"$1/two-session.out" 2>&1; echo $? >>"$1/two-session.out"
' _ "$O"
tb_check "two buses: the system bus address is the proxy's ($(sed -n 's/^DBUS_SYSTEM_BUS_ADDRESS=//p' "$O/env-twobus"))" \
	grep -q "^DBUS_SYSTEM_BUS_ADDRESS=unix:path=$RT/ldm/dbus-.*/system-bus$" "$O/env-twobus"
tb_check "two buses: the call on the system bus reached its stub ($(first "$O/two-system.out"))" \
	grep -qx 'via system proxy' "$O/notified-system"
tb_check "two buses: the call on the session bus reached its stub ($(first "$O/two-session.out"))" \
	grep -qx 'via session proxy' "$O/notified"
tb_check "two buses: neither stub got the other's call" \
	sh -c "! grep -q 'via session' '$O/notified-system' && ! grep -q 'via system' '$O/notified'"

# 3d. An XDG_RUNTIME_DIR with bytes a D-Bus address must escape (',' ends a key's value).
RT2="$TB_TMP/rt2,x y"
install -d -m 0700 -o "$TB_USER" -g "$TB_USER" "$RT2"
tb_as_user "$TB_LAP" env XDG_RUNTIME_DIR="$RT2" DBUS_SESSION_BUS_ADDRESS="unix:path=$REAL" \
	"$RUN" --quiet --socket "$TB_SOCK" --policy notify -- sh -c 'env >"$1/env-rt2"
set -- "$1" session "odd runtime dir"; '"$notify_call"' >"$1/rt2.out" 2>&1' _ "$O"
tb_check "odd XDG_RUNTIME_DIR: the address is escaped ($(sed -n 's/^DBUS_SESSION_BUS_ADDRESS=//p' "$O/env-rt2"))" \
	grep -q '^DBUS_SESSION_BUS_ADDRESS=unix:path=.*/rt2%2cx%20y/ldm/dbus-.*/session-bus$' "$O/env-rt2"
tb_check "odd XDG_RUNTIME_DIR: the call went through ($(first "$O/rt2.out"))" \
	grep -qx 'odd runtime dir' "$O/notified"

# 4. ldm-run killed (SIGKILL): its proxy dies with it.
tb_spawn tb_as_user "$TB_LAP" env XDG_RUNTIME_DIR="$RT" "$RUN" --quiet --socket "$TB_SOCK" \
	--policy notify -- sleep 60 2>/dev/null
tb_wait 10 pgrep -f "xdg-dbus-prox[y] .*$RT/ldm/dbus-" >/dev/null || tb_fail "killed: the proxy starts"
# Every ldm-run process of that session (a build may split it into a waiter and a supervisor).
runpids=$(pgrep -u "$TB_USER" -f "^$RUN --quiet --socket $TB_SOCK --policy notify -- sleep 60")
if [ -n "$runpids" ]; then
	# shellcheck disable=SC2086 # one pid per word
	kill -KILL $runpids
	tb_check "killed: no proxy is left after ldm-run was killed with SIGKILL" \
		tb_wait 5 sh -c "! pgrep -f 'xdg-dbus-prox[y] .*$RT/ldm/dbus-' >/dev/null"
else
	tb_fail "killed: ldm-run's pid found"
fi

# What the proxy costs a launch (printed, not judged): ldm-run -- true, 5 runs each.
launch_ms() {
	local i s t=()
	for i in 1 2 3 4 5; do
		s=$(date +%s%N)
		tb_as_user "$TB_LAP" env XDG_RUNTIME_DIR="$RT" "$RUN" --quiet --socket "$TB_SOCK" \
			--policy "$1" -- true
		t+=($(tb_ms_since "$s"))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n 3p
}
tb_log "launch of 'true', median of 5: $(launch_ms nobus) ms without a dbus rule, $(launch_ms notify) ms with the proxy"

# Nothing of cases 1-4 reached the internet.
# Not a synchronisation: what is tested is that nothing arrives; stragglers get this long.
sleep 0.5
tb_check "no request from inside a session reached the internet host ($(($(requests) - base)) new)" \
	[ "$(requests)" = "$base" ]
tb_capture_stop "$cap"
tb_check "the capture on the internet side holds no HTTP packet from a session" \
	[ "$(tb_pcap_count "$TB_TMP/inet.pcap" "tcp port $HTTP_PORT")" = 0 ]

# 5. No dbus rule, the app connects to the real bus socket itself: the unix-socket mediation
#    must refuse it and log it. ListNames answers on any bus the app reaches; an activation
#    request follows it. Without the mediation in this build this case fails, loudly.
tb_as_user "$TB_LAP" "${bus_env[@]}" "$RUN" --quiet --socket "$TB_SOCK" --policy nobus -- \
	sh -c 'dbus-send --bus="unix:path=$2" --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames >"$1/direct.out" 2>&1; echo $? >>"$1/direct.out"
dbus-send --bus="unix:path=$2" --print-reply --dest=org.example.PhoneHome /x org.example.PhoneHome.Ping >/dev/null 2>&1' \
	_ "$O" "$REAL"
if [ "$(last_rc "$O/direct.out")" != 0 ]; then
	tb_pass "direct: a connect to the real bus socket fails ($(first "$O/direct.out"))"
	tb_check "log: the direct connect to the real bus is a blocked unix record" \
		tb_wait 3 sh -c "grep '\"event\":\"blocked\"' '$TB_LOG' | grep '\"proto\":\"unix\"' | grep -qF '\"dst\":\"$REAL\"'"
else
	tb_fail "direct: a connect to the real bus socket fails [NEEDS the unix-socket mediation of ldm-run (proto \"unix\" rules): in this build the app reached $REAL and listed its names]"
fi
# Not a synchronisation: what is tested is that nothing arrives; stragglers get this long.
sleep 0.5
tb_check "direct: no request reached the internet host ($(($(requests) - base)) new)" \
	[ "$(requests)" = "$base" ]

tb_summary test_dbus
