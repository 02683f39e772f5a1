#!/usr/bin/env bash
# Sessions must not lend each other their approvals, and address rules must not reach more
# than the route they name. Each case is an attack judged from outside: a capture on the far
# side and the log, not the app's word.
#
#   1. Two sessions, two policies, one 5-tuple: session A's policy allows UDP to an internet
#      host:port, session B's allows nothing. B sends from the same source address and port
#      to the same destination while conntrack still holds A's approved connection: while A
#      runs (another slot), and after A ended (its slot may be B's now).
#   3. A literal CIDR rule ({ proto = "udp"; to = "192.168.144.0/24"; }) reaches what its
#      route reaches: (a) not the laptop's own 192.168.144.1, where a forwarder outside the
#      session listens on 0.0.0.0; (b) not the uplink, with SO_BINDTODEVICE on it.
#   4. The shipped qgroundcontrol policy's broadcasts stay off the uplink: the limited
#      broadcast reaches the aircraft link (sent through it), never the uplink; the uplink's
#      subnet broadcast is blocked; the kernel's looped-back copy of an allowed broadcast
#      reaches no listener outside the session.
#   4c. The uplink setting decides: a daemon told that the aircraft link is the uplink
#      (--uplink veth-drone, as a Herelink-style radio would need the other way round)
#      blocks the broadcast there and allows it on the other link.
#   5. Attempts the kernel drops while no daemon runs are counted per session slot and
#      logged by the next daemon: kill -9 of the daemon, 5 datagrams from a session, restart:
#      a blocked record with count 5 and reason "enforcer not running" for that session.
#   9. A rule of a session's chain edited in place (iptables -R: the rule count stays the
#      same) is noticed, repaired and logged as tamper.
#
# Usage: test_isolation.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
LAPWAN=203.0.113.2
SPORT=40444

tb_init
tb_install_policies
tb_policy cidr 'name = "cidr";
allow = ( { proto = "udp"; to = "192.168.144.0/24"; comment = "the aircraft subnet" } );'
tb_policy udp-out "name = \"udp-out\";
allow = ( { proto = \"udp\"; to = \"$INET4\"; ports = \"9999\"; comment = \"the one host\" } );"

# No spares: a session takes the lowest free slot, so B takes the slot A had in 1b.
tb_start_daemon "$BUILD" --spares 0 || { tb_fail "daemon starts"; tb_summary; exit 1; }

run_app() {
	local policy=$1
	shift
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --quiet --policy "$policy" -- "$@"
}

tb_spawn tb_in "$TB_INET" "$NET" udp-echo :: 9999 120 >/dev/null

# cap_start NS IFACE FILE: a capture that hands each packet over at once (tcpdump's default
# buffer holds packets up to a second, and a stopped tcpdump loses them); pid in TB_LAST.
cap_start() {
	nsenter --net="/run/netns/$1" -- tcpdump -i "$2" -n --immediate-mode -U -w "$3" \
		>/dev/null 2>"$3.err" &
	TB_LAST=$!
	TB_PIDS+=("$TB_LAST")
	tb_wait 5 grep -q 'listening on' "$3.err"
}

# cap_stop PID FILE FILTER: waits until the capture has seen the packets it got, stops it,
# prints how many match FILTER.
cap_stop() {
	# Not a synchronisation: packets still on their way get this long to reach the capture
	# (most callers count that none came).
	sleep 0.3
	kill -INT "$1" 2>/dev/null
	tb_wait_pid 60 "$1" 2>/dev/null
	tb_pcap_count "$2" "$3"
}

# blocked_count POLICY PAYLOAD-SPORT: blocked records of POLICY for UDP from SPORT to INET4.
blocked_count() {
	tb_log_count '"event":"blocked"' "\"policy\":\"$1\"" '"proto":"udp"' \
		"\"dst\":\"$INET4\"" "\"sport\":$SPORT"
}

# The session B datagrams carry "session-b" (17 bytes of UDP: length 17).
FROM_B="udp and src host $LAPWAN and src port $SPORT and dst host $INET4 and udp[4:2] = 17"
FROM_A="udp and src host $LAPWAN and src port $SPORT and dst host $INET4 and udp[4:2] = 16"

# --- 1a: A and B at the same time (two slots) ---
cap_start "$TB_INET" veth-rtr "$TB_TMP/iso1.pcap" || tb_fail "capture starts"
cap=$TB_LAST
# A stays (at most 10 s) until B is done: told by a file.
run_app udp-out sh -c "'$NET' udp-send-from $SPORT $INET4 9999 2 - ldm-test && i=0 &&
	while [ ! -e '$TB_TMP/out/a.end' ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done" \
	>"$TB_TMP/a.out" 2>&1 &
a_pid=$!
TB_PIDS+=("$a_pid")
tb_wait 5 grep -q "sent 2 of 2" "$TB_TMP/a.out"
run_app offline "$NET" udp-send-from "$SPORT" "$INET4" 9999 3 - session-b >"$TB_TMP/b.out" 2>&1
tb_check "1a: session B sent its datagrams ($(cat "$TB_TMP/b.out"))" grep -q "sent 3 of 3" \
	"$TB_TMP/b.out"
tb_wait 3 sh -c "[ \$(grep -cF '\"policy\":\"offline\"' '$TB_LOG') -ge 2 ]"
na=$(cap_stop "$cap" "$TB_TMP/iso1.pcap" "$FROM_A")
nb=$(tb_pcap_count "$TB_TMP/iso1.pcap" "$FROM_B")
tb_check "1a: session A's allowed datagrams reached the internet (saw $na of 2)" [ "$na" = 2 ]
tb_check "1a: nothing of session B (offline) reached the internet while A runs (saw $nb)" \
	[ "$nb" = 0 ]
tb_check "1a: session B's datagrams were logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"offline\"' |
	grep -F '\"dst\":\"$INET4\"' | grep -cF '\"sport\":$SPORT') -ge 1 ]"
touch "$TB_TMP/out/a.end"
tb_wait_pid 60 "$a_pid" 2>/dev/null

# --- 1b: A has ended; B comes next (the lowest free slot: A's, once its slot is freed) ---
# 1a's sessions first end and leave the ruleset (a shared conntrack entry deleted under a
# running flow is re-made from the peer's next answer, in the reply direction: A's next
# datagram would then be judged as an answer, and blocked).
# No session chain left (--spares 0: none waits either) means both are out of the ruleset.
no_session_chain() { ! tb_in "$TB_LAP" iptables-save -t mangle | grep -q '^:LDM-S[0-9]'; }
tb_wait 5 sh -c "[ \$(grep -cF '\"event\":\"session_end\"' '$TB_LOG') -ge 2 ]"
tb_wait 5 no_session_chain
cap_start "$TB_INET" veth-rtr "$TB_TMP/iso2.pcap" || tb_fail "capture starts"
cap=$TB_LAST
run_app udp-out "$NET" udp-send-from "$SPORT" "$INET4" 9999 2 - ldm-test >"$TB_TMP/a.out" 2>&1
before=$(blocked_count offline)
# Let the daemon free A's slot (it is freed by the commit that takes A's chain out).
tb_wait 5 no_session_chain
run_app offline "$NET" udp-send-from "$SPORT" "$INET4" 9999 3 - session-b >"$TB_TMP/b.out" 2>&1
tb_check "1b: session B sent its datagrams ($(cat "$TB_TMP/b.out"))" grep -q "sent 3 of 3" \
	"$TB_TMP/b.out"
tb_wait 3 sh -c "[ \$(grep -cF '\"policy\":\"offline\"' '$TB_LOG') -ge 4 ]"
na=$(cap_stop "$cap" "$TB_TMP/iso2.pcap" "$FROM_A")
nb=$(tb_pcap_count "$TB_TMP/iso2.pcap" "$FROM_B")
tb_check "1b: session A's allowed datagrams reached the internet (saw $na of 2)" [ "$na" = 2 ]
tb_check "1b: nothing of session B (offline) reached the internet after A ended (saw $nb)" \
	[ "$nb" = 0 ]
tb_check "1b: session B's datagrams were logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"offline\"' |
	grep -cF '\"sport\":$SPORT') -gt $before ]"

# --- 3a: the laptop's own address under a CIDR rule ---
tb_spawn_in "$TB_LAP" "$NET" udp-echo 0.0.0.0 7777 5
fwd=$TB_LAST
tb_wait_listen "$TB_LAP" udp:7777
run_app cidr "$NET" udp-send-from 40555 "$LAPTOP4" 7777 3 >"$TB_TMP/3a.out" 2>&1
tb_check "3a: the session sent to $LAPTOP4:7777 ($(cat "$TB_TMP/3a.out"))" grep -q "sent 3 of 3" \
	"$TB_TMP/3a.out"
tb_wait_pid 60 "$fwd" 2>/dev/null
fwd_rc=$?
tb_check "3a: the forwarder outside the session got nothing (exit $fwd_rc: 2 = nothing)" \
	[ "$fwd_rc" = 2 ]
tb_check "3a: logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"cidr\"' |
	grep -F '\"dst\":\"$LAPTOP4\"' | grep -cF '\"dport\":7777') -ge 1 ]"

# --- 3b: SO_BINDTODEVICE on the uplink, to the aircraft's subnet ---
cap_start "$TB_RTR" veth-lap "$TB_TMP/3b.pcap" || tb_fail "capture starts"
cap=$TB_LAST
run_app cidr "$NET" udp-send-from 40556 "$DRONE4" 14550 3 veth-wan >"$TB_TMP/3b.out" 2>&1
tb_check "3b: the session sent through veth-wan ($(cat "$TB_TMP/3b.out"))" \
	grep -q "sent 3 of 3" "$TB_TMP/3b.out"
tb_wait 3 sh -c "grep -F '\"policy\":\"cidr\"' '$TB_LOG' | grep -qF '\"sport\":40556'"
n=$(cap_stop "$cap" "$TB_TMP/3b.pcap" "udp and dst host $DRONE4")
tb_check "3b: nothing for the aircraft's subnet on the uplink (saw $n)" [ "$n" = 0 ]
tb_check "3b: logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"cidr\"' |
	grep -F '\"dst\":\"$DRONE4\"' | grep -cF '\"sport\":40556') -ge 1 ]"
# The same rule still reaches the aircraft the normal way.
cap_start "$TB_DRN" veth-lap "$TB_TMP/3c.pcap" || tb_fail "capture starts"
cap=$TB_LAST
run_app cidr "$NET" udp-send-from 40557 "$DRONE4" 14550 2 >/dev/null 2>&1
n=$(cap_stop "$cap" "$TB_TMP/3c.pcap" "udp and dst host $DRONE4 and src port 40557")
tb_check "3c: the CIDR rule still reaches the aircraft on its link (saw $n of 2)" [ "$n" = 2 ]

# --- 4: qgroundcontrol's broadcasts ---
# A program outside the session listens on 0.0.0.0:14551: the kernel's looped-back copy of
# the allowed broadcast must not reach it.
tb_spawn_in "$TB_LAP" "$NET" udp-echo 0.0.0.0 14551 6
lis=$TB_LAST
cap_start "$TB_DRN" veth-lap "$TB_TMP/4d.pcap" || tb_fail "capture starts"
dcap=$TB_LAST
cap_start "$TB_RTR" veth-lap "$TB_TMP/4u.pcap" || tb_fail "capture starts"
ucap=$TB_LAST
run_app qgroundcontrol sh -c "'$NET' udp-send-from 40561 255.255.255.255 14551 2 veth-drone;
	'$NET' udp-send-from 40562 255.255.255.255 14551 2;
	'$NET' udp-send-from 40563 203.0.113.255 14551 2" >"$TB_TMP/4.out" 2>&1
tb_wait 3 sh -c "grep -F '\"policy\":\"qgroundcontrol\"' '$TB_LOG' | grep -qF '\"sport\":40563'"
nd=$(cap_stop "$dcap" "$TB_TMP/4d.pcap" "udp and dst host 255.255.255.255 and dst port 14551")
nu=$(cap_stop "$ucap" "$TB_TMP/4u.pcap" "udp and dst port 14551")
tb_check "4: the aircraft link saw the limited broadcast (saw $nd of 2)" [ "$nd" = 2 ]
tb_check "4: the uplink saw no broadcast (saw $nu)" [ "$nu" = 0 ]
tb_check "4: the limited broadcast out the uplink was logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"qgroundcontrol\"' |
	grep -F '\"dst\":\"255.255.255.255\"' | grep -cF '\"sport\":40562') -ge 1 ]"
tb_check "4: the uplink's subnet broadcast was logged as blocked" tb_wait 3 sh -c \
	"[ \$(grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"policy\":\"qgroundcontrol\"' |
	grep -F '\"dst\":\"203.0.113.255\"' | grep -cF '\"sport\":40563') -ge 1 ]"
tb_wait_pid 60 "$lis" 2>/dev/null
lis_rc=$?
tb_check "4: a listener outside the session got no looped-back copy (exit $lis_rc: 2 = nothing)" \
	[ "$lis_rc" = 2 ]

# --- 5: blocked while no daemon runs ---
O=$TB_TMP/out
run_app offline sh -c "while [ ! -e $O/go ]; do sleep 0.05; done
	'$NET' udp-send-from 40600 $INET4 9999 5 >$O/5.out 2>&1; touch $O/sent
	while [ ! -e $O/end ]; do sleep 0.05; done" >/dev/null 2>&1 &
app5=$!
TB_PIDS+=("$app5")
tb_wait 5 sh -c "[ \$(grep -F '\"event\":\"session_start\"' '$TB_LOG' |
	grep -cF '\"policy\":\"offline\"') -ge 3 ]"
sid=$(grep -F '"event":"session_start"' "$TB_LOG" | tail -n1 | sed -n 's/.*"session":\([0-9]*\).*/\1/p')
kill -9 "$TB_DAEMON"
tb_wait_pid 60 "$TB_DAEMON" 2>/dev/null
cap_start "$TB_INET" veth-rtr "$TB_TMP/5.pcap" || tb_fail "capture starts"
cap=$TB_LAST
touch "$O/go"
tb_wait 5 test -e "$O/sent"
tb_log "5: the app said: $(cat "$O/5.out" 2>/dev/null | tail -n1)"
n=$(cap_stop "$cap" "$TB_TMP/5.pcap" "udp and src port 40600")
tb_check "5: nothing left while no daemon ran (saw $n)" [ "$n" = 0 ]
rm -f "$TB_SOCK"
tb_start_daemon "$BUILD" --spares 0 || tb_fail "the daemon restarts"
tb_check "5: the restarted daemon logged the 5 dropped datagrams for session $sid" tb_wait 5 \
	sh -c "grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"session\":$sid,' |
	grep -F '\"reason\":\"enforcer not running\"' | grep -qF '\"count\":5'"
touch "$O/end"
tb_wait_pid 60 "$app5" 2>/dev/null
tb_check "5: its session_end counts them" tb_wait 5 sh -c \
	"grep -F '\"event\":\"session_end\"' '$TB_LOG' | grep -F '\"session\":$sid,' |
	grep -qE '\"blocked\":([5-9]|[1-9][0-9])'"

# --- 9: a rule edited in place ---
run_app udp-out sh -c "while [ ! -e $O/end9 ]; do sleep 0.05; done" >/dev/null 2>&1 &
app9=$!
TB_PIDS+=("$app9")
rule_line() {
	tb_in "$TB_LAP" iptables-save -t mangle | grep -E -- '^-A LDM-S[0-9]+ .*"ldm rule 1"'
}
# rule_says PORT: the compiled rule 1 names that port, and no other.
rule_says() {
	local l
	l=$(rule_line)
	[ "$(printf '%s\n' "$l" | grep -c .)" = 1 ] && printf '%s\n' "$l" | grep -q -- "--dport $1 "
}
tb_wait 5 rule_says 9999
line=$(rule_line | head -n1)
chain=$(printf '%s\n' "$line" | awk '{ print $2 }')
pos=$(tb_in "$TB_LAP" iptables-save -t mangle | grep -E -- "^-A $chain " | grep -nF -- "$line" |
	cut -d: -f1)
before=$(tb_log_count '"event":"tamper"')
edited=${line/--dport 9999/--dport 9998}
read -r -a args <<<"${edited#-A $chain }"
# iptables-save quotes the comment: the words between the quotes are one argument.
args_fixed=()
for ((k = 0; k < ${#args[@]}; k++)); do
	if [ "${args[k]}" = '"ldm' ]; then
		args_fixed+=("ldm ${args[k + 1]} ${args[k + 2]%\"}")
		k=$((k + 2))
	else
		args_fixed+=("${args[k]}")
	fi
done
tb_check "9: $chain rule $pos edited in place (iptables -R, same rule count)" \
	tb_in "$TB_LAP" iptables -t mangle -R "$chain" "$pos" "${args_fixed[@]}"
tb_check "9: the edit is logged as tamper" tb_wait 5 sh -c \
	"[ \$(grep -cF '\"event\":\"tamper\"' '$TB_LOG') -gt $before ]"
tb_check "9: the tamper record names the changed rule" \
	sh -c "grep -F '\"event\":\"tamper\"' '$TB_LOG' | tail -n1 | grep -q \"$chain.*9998\""
tb_check "9: and it is repaired (rule 1 says 9999 again)" tb_wait 5 rule_says 9999
touch "$O/end9"
tb_wait_pid 60 "$app9" 2>/dev/null

# --- 4c: the uplink named in the configuration ---
kill -TERM "$TB_DAEMON"
tb_wait_pid 60 "$TB_DAEMON" 2>/dev/null
rm -f "$TB_SOCK"
tb_start_daemon "$BUILD" --spares 0 --uplink veth-drone || tb_fail "the daemon restarts"
cap_start "$TB_DRN" veth-lap "$TB_TMP/4cd.pcap" || tb_fail "capture starts"
dcap=$TB_LAST
cap_start "$TB_RTR" veth-lap "$TB_TMP/4cu.pcap" || tb_fail "capture starts"
ucap=$TB_LAST
run_app qgroundcontrol sh -c "'$NET' udp-send-from 40571 192.168.144.255 14551 2;
	'$NET' udp-send-from 40572 203.0.113.255 14551 2" >/dev/null 2>&1
tb_wait 3 sh -c "grep -F '\"policy\":\"qgroundcontrol\"' '$TB_LOG' | grep -qF '\"sport\":40571'"
nd=$(cap_stop "$dcap" "$TB_TMP/4cd.pcap" "udp and dst port 14551")
nu=$(cap_stop "$ucap" "$TB_TMP/4cu.pcap" "udp and dst host 203.0.113.255 and dst port 14551")
tb_check "4c: with --uplink veth-drone, nothing broadcast on the aircraft link (saw $nd)" \
	[ "$nd" = 0 ]
tb_check "4c: and the other link's subnet broadcast is lan now (saw $nu of 2)" [ "$nu" = 2 ]
tb_check "4c: the broadcast on the named uplink was logged as blocked" tb_wait 3 sh -c \
	"grep -F '\"event\":\"blocked\"' '$TB_LOG' | grep -F '\"dst\":\"192.168.144.255\"' |
	grep -qF '\"sport\":40571'"

tb_summary test_isolation
