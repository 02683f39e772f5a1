#!/usr/bin/env bash
# The enforcer against the real kernel, in private namespaces: allowed aircraft traffic,
# blocked internet traffic (fast, logged, nothing on the wire), log folding, the daemon
# killed and restarted, tamper repair, refused policies and nested sessions.
# Usage: test_enforcer.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"

tb_init

tb_policy gcs 'name = "gcs";
allow = (
  { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" },
  { proto = "udp"; from = "lan"; direction = "in"; ports = "14550"; comment = "MAVLink in" },
  { proto = "tcp"; to = "lan"; ports = "5760" }
);
deny = ( { to = "192.168.144.99"; comment = "not this one" } );'
tb_policy broken 'allow = ( { proto = "udp"; to = "lan"; ports = "70000" } );'
tb_policy writable 'allow = ();'
chmod 0666 "$TB_TMP/policies/writable.conf"

tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary; exit 1; }

# run_app POLICY PROGRAM...: ldm-run as the test user in the laptop namespace.
run_app() {
	local policy=$1
	shift
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy "$policy" -- "$@"
}

# The aircraft: answers MAVLink-like datagrams for the whole test.
tb_spawn tb_in "$TB_DRN" "$NET" udp-echo :: 14550 120 >/dev/null
tb_spawn tb_in "$TB_DRN" "$NET" tcp-serve :: 5760 120 >/dev/null
tb_spawn tb_in "$TB_INET" "$NET" tcp-serve :: 443 120 >/dev/null
tb_spawn tb_in "$TB_INET" "$NET" udp-echo :: 9999 120 >/dev/null
tb_wait_listen "$TB_DRN" udp:14550 tcp:5760
tb_wait_listen "$TB_INET" tcp:443 udp:9999

tb_capture "$TB_INET" veth-rtr "$TB_TMP/inet.pcap"
cap=$TB_LAST

# 1. Allowed: UDP to the drone's 14550 is answered; TCP 5760 to the drone connects.
tb_check "udp to the drone is answered" run_app gcs "$NET" udp-ask "$DRONE4" 14550 3
tb_check "tcp to the drone connects" run_app gcs "$NET" tcp-connect "$DRONE4" 5760 3
tb_check "udp to the drone over IPv6 is answered" run_app gcs "$NET" udp-ask "$DRONE6" 14550 3

# 2. Blocked: TCP to the internet is refused fast (a reset, not a timeout) and logged.
start=$(date +%s%N)
run_app gcs "$NET" tcp-connect "$INET4" 443 5 2>/dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
tb_check "tcp to the internet is refused (rc $rc)" [ "$rc" = 1 ]
tb_check "and fast (${ms} ms < $(tb_ms_limit 2000))" [ "$ms" -lt "$(tb_ms_limit 2000)" ]
tb_check "and logged with its fields" [ "$(tb_log_count '"event":"blocked"' '"proto":"tcp"' \
	'"dst":"198.51.100.7"' '"dport":443' '"policy":"gcs"' '"user":"ldmtest"' \
	'"reason":"no rule allows it (default deny)"')" -ge 1 ]
run_app gcs "$NET" tcp-connect "$INET6" 443 5 2>/dev/null
tb_check "tcp to the internet over IPv6 is refused" [ "$?" = 1 ]
run_app gcs "$NET" udp-ask "$INET4" 9999 2 2>/dev/null
tb_check "udp to the internet gets no answer" [ "$?" != 0 ]
run_app gcs "$NET" udp-ask 192.168.144.99 14550 1 2>/dev/null
tb_check "a deny rule wins over the lan allow" [ "$?" != 0 ]
tb_check "and the deny is logged with its rule" [ "$(tb_log_count '"dst":"192.168.144.99"' \
	'"rule":4' '"comment":"not this one"')" -ge 1 ]

# 3. Inbound: the drone opens a flow to the app's 14550, the app answers; an internet host
# doing the same gets no answer, and the attempt to answer is logged.
tb_spawn run_app gcs "$NET" udp-answer 14550 5
pid=$TB_LAST
tb_wait_listen "$TB_LAP" udp:14550
tb_check "the app answers the drone's inbound MAVLink" \
	tb_in "$TB_DRN" "$NET" udp-ask 192.168.144.1 14550 3
tb_wait_pid 60 "$pid"
tb_spawn run_app gcs "$NET" udp-answer 14550 3
pid=$TB_LAST
tb_wait_listen "$TB_LAP" udp:14550
tb_in "$TB_INET" "$NET" udp-ask 203.0.113.2 14550 2
tb_check "the app cannot answer an internet host" [ "$?" != 0 ]
tb_wait_pid 60 "$pid"
tb_check "the blocked answer is logged as one to a flow the peer opened" \
	[ "$(tb_log_count '"dst":"198.51.100.7"' 'a flow the peer opened')" -ge 1 ]

# 4. Folding: 1,000 attempts (new flows) to one blocked destination, few records.
run_app gcs "$NET" udp-spray "$INET4" 7777 1000 >/dev/null
# Folded records are written when their window closes: wait until all 1000 are counted.
sum_is() { [ "$(tb_log_sum "$2")" = "$1" ]; }
tb_wait 5 sum_is 1000 '"dport":7777'
recs=$(tb_log_count '"dport":7777')
sum=$(grep -F '"dport":7777' "$TB_LOG" | sed -n 's/.*"count":\([0-9]*\).*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
tb_check "1000 identical attempts fold into $recs records" [ "$recs" -ge 1 -a "$recs" -le 3 ]
tb_check "whose counts add up to 1000 (got $sum)" [ "$sum" = 1000 ]

# 5. The daemon dies (kill -9) during a session: the aircraft stream goes on, internet
# attempts leak nothing; a new daemon takes the session up again. The app makes each
# attempt when told (a go file; it waits at most 10 s for each).
O5=$TB_TMP/out
(run_app gcs sh -c "$NET udp-stream $DRONE4 14550 7 >$O5/stream.out 2>&1 & : >$O5/ready5
	go() { i=0; while [ ! -e $O5/\$1 ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done; }
	go go1; $NET tcp-connect $INET4 443 1 >/dev/null 2>&1; echo \$? >$O5/c1.rc
	go go2; $NET tcp-connect $INET4 443 3 >/dev/null 2>&1; echo \$? >$O5/c2.rc; wait") \
	>"$TB_TMP/app5.out" 2>&1 &
app5=$!
tb_wait 10 test -e "$O5/ready5"
resumed() { [ "$(tb_log_count '"event":"session_start"' 'resumed after a daemon restart')" -ge 1 ]; }
kill -9 "$TB_DAEMON"
tb_wait_pid 10 "$TB_DAEMON" 2>/dev/null
touch "$O5/go1"
tb_wait 10 test -s "$O5/c1.rc"
tb_start_daemon "$BUILD" || tb_fail "the daemon restarts"
tb_wait 10 resumed
touch "$O5/go2"
tb_wait_pid 60 "$app5"
tb_check "the aircraft stream went on while the daemon was dead ($(cat "$TB_TMP/out/stream.out"))" \
	grep -q 'stream: sent' "$TB_TMP/out/stream.out"
tb_check "with at least 90% answered" \
	awk '/stream:/ { ok = ($5 + 0 >= $3 * 0.9) } END { exit !ok }' "$TB_TMP/out/stream.out"
c1=$(cat "$TB_TMP/out/c1.rc")
tb_check "an internet attempt with no daemon is dropped here (rc $c1: 5 EPERM or 2 timeout)" \
	[ "$c1" = 5 -o "$c1" = 2 ]
tb_check "after the restart it is refused again (rc $(cat "$TB_TMP/out/c2.rc"))" \
	[ "$(cat "$TB_TMP/out/c2.rc")" = 1 ]
tb_check "the restarted daemon resumed the session" \
	[ "$(tb_log_count '"event":"session_start"' 'resumed after a daemon restart')" -ge 1 ]

# 6. Tamper: none so far (sessions came and went: that is no tamper); then our jump removed
# by hand comes back first, and a tamper event is logged.
tb_check "no tamper event while only sessions changed" [ "$(tb_log_count '"event":"tamper"')" = 0 ]
tb_in "$TB_LAP" iptables -t mangle -D OUTPUT -j LDM-OUT
tb_check "the deleted jump is back" tb_wait 5 sh -c "nsenter --net=/run/netns/$TB_LAP iptables -t mangle \
	-S OUTPUT | sed -n 2p | grep -qx -- '-A OUTPUT -j LDM-OUT'"
tampers_over() { [ "$(tb_log_count '"event":"tamper"')" -gt "$1" ]; }
tb_check "a tamper event is logged" tb_wait 5 tampers_over 0
status_num() {
	"$BUILD/ldmctl" status --socket "$TB_SOCK" | sed -n "s/.*, $1 \([0-9]*\)[ ,].*/\1/p"
}
# The daemon answers status from its loop, so an answer counting one more commit means
# the repair is over (a rule changed while it runs would be taken for the repair's own).
commits_over() { [ "$(status_num 'rule commits')" -gt "$1" ]; }
commits=$(status_num 'rule commits')
tb_in "$TB_LAP" iptables -t filter -F OUTPUT
tb_check "a flushed filter OUTPUT gets its guard back" tb_wait 5 sh -c "nsenter \
	--net=/run/netns/$TB_LAP iptables -S OUTPUT | grep -qx -- '-A OUTPUT -j LDM-GUARD'"
tb_wait 5 commits_over "$commits"
# No commit of ours may run while the foreign rule goes in: a commit rewrites LDM-OUT whole
# and would remove it before any check sees it (a known gap: docs/threat-model.md). Wait
# until the spares are back and the commit count has settled.
settled() {
	local a
	a=$(status_num 'rule commits')
	"$BUILD/ldmctl" status --socket "$TB_SOCK" | grep -q ', spares ready 2,' || return 1
	sleep 0.5 # (the thing waited for: half a second without a commit)
	[ "$(status_num 'rule commits')" = "$a" ]
}
tb_wait 10 settled
# An ACCEPT with more words than any rule of ours (60 comment matches): removed, and logged.
before=$(tb_log_count '"event":"tamper"')
big=()
for i in $(seq 60); do big+=(-m comment --comment "c$i"); done
tb_in "$TB_LAP" iptables -t mangle -I LDM-OUT 1 "${big[@]}" -j ACCEPT
tb_check "an oversized ACCEPT put into LDM-OUT is gone" tb_wait 5 sh -c "! nsenter \
	--net=/run/netns/$TB_LAP iptables -t mangle -S LDM-OUT | grep -q 'c60'"
tb_check "and the oversized rule is a tamper event" tb_wait 5 tampers_over "$before"

# 7. Spares: two sessions' worth of cgroup and rules wait in the kernel, so that a session
# starts without a rule commit; the commit that compiles its policy's static rules follows in
# the background, and the one that removes them after its end too (then its cgroup goes).
cg_dirs() { find "$TB_CGROOT" -mindepth 1 -maxdepth 1 -type d -name 's*' | wc -l; }
rule_lines() { tb_in "$TB_LAP" iptables -t mangle -S | grep -c -- "$1"; }
cg_dirs_are() { [ "$(cg_dirs)" = "$1" ]; }
compiled_are() { [ "$(rule_lines 'ldm rule')" "$1" "$2" ]; }
tampers=$(tb_log_count '"event":"tamper"')
tb_check "while idle, two spare cgroups wait" tb_wait 3 cg_dirs_are 2
tb_check "each with its jump in LDM-OUT" [ "$(rule_lines '^-A LDM-OUT -m cgroup --path .*/s[0-9]')" = 2 ]
tb_check "and no compiled policy rule" [ "$(rule_lines 'ldm rule')" = 0 ]
tb_spawn run_app gcs sleep 3
app=$TB_LAST
tb_check "a session's static rules reach the kernel in the background" tb_wait 3 compiled_are -ge 1
tb_check "a new spare replaces the one taken" tb_wait 3 cg_dirs_are 3
tb_wait_pid 60 "$app"
tb_check "after the session, its rules go" tb_wait 3 compiled_are = 0
tb_check "and its cgroup" tb_wait 3 cg_dirs_are 2
# Our own commits are not checked as if another program had changed the rules (each
# nf_tables transaction names its committer): sessions one after another, each a commit
# at its start and one at its end, and no rule check but (perhaps) the 5-second poll.
checks=$(status_num 'rule checks')
commits=$(status_num 'rule commits')
for i in 1 2 3 4; do
	run_app gcs true >/dev/null 2>&1
	tb_wait 3 compiled_are = 0 # the session's end commit is done
done
checks=$(($(status_num 'rule checks') - checks))
commits=$(($(status_num 'rule commits') - commits))
tb_check "our own $commits commits caused no rule check ($checks: the 5 s poll)" \
	[ "$commits" -ge 6 -a "$checks" -le 1 ]
tb_check "status shows two spares ready" tb_wait 3 sh -c \
	"'$BUILD/ldmctl' status --socket '$TB_SOCK' | grep -q ', spares ready 2,'"
# More sessions at once than there are spares: the rest commit their rules first.
for i in 1 2 3 4 5; do
	run_app gcs "$NET" udp-ask "$DRONE4" 14550 3 >/dev/null 2>&1 &
	pids[i]=$!
done
ok=0
for i in 1 2 3 4 5; do
	tb_wait_pid 60 "${pids[i]}" && ok=$((ok + 1))
done
tb_check "five sessions started at once all reach the drone ($ok of 5)" [ "$ok" = 5 ]
tb_check "and all of them end, leaving the two spares" tb_wait 5 cg_dirs_are 2

tb_check "no tamper event from our own commits" [ "$(tb_log_count '"event":"tamper"')" = "$tampers" ]

# 8. Refusals: a policy with errors, a writable policy, a path, a nested session.
out=$(run_app broken /bin/true 2>&1)
tb_check "a policy with errors is refused with FILE:LINE ($out)" \
	sh -c "[ $? = 125 ] && printf '%s' \"\$1\" | grep -q 'broken.conf:1: ports'" _ "$out"
out=$(run_app writable /bin/true 2>&1)
tb_check "a world-writable policy is refused ($out)" \
	sh -c "[ $? = 125 ] && printf '%s' \"\$1\" | grep -q 'writable by group or others'" _ "$out"
out=$(run_app ../gcs /bin/true 2>&1)
tb_check "a policy name with ../ is refused" [ $? = 125 ]
out=$(run_app gcs "$RUN" --socket "$TB_SOCK" --policy gcs -- /bin/true 2>&1)
# The control socket is outside the session: ldm-run refuses the connect (a blocked unix
# record); were it allowed, the daemon would refuse a request from inside a session.
tb_check "a session cannot open a second session ($out)" \
	sh -c "printf '%s' \"\$1\" | grep -q 'inside a session\|Permission denied'" _ "$out"
tb_check "the nested session's connect is logged" \
	[ "$(tb_log_count '"proto":"unix"' "\"dst\":\"$TB_SOCK\"")" -ge 1 ]

# Nothing of the app reached the internet: the capture there holds no packet from the
# laptop (UDP/TCP/ICMP, IPv4 and IPv6).
n=$(tb_capture_count "$cap" "$TB_TMP/inet.pcap" 'src host 203.0.113.2 or src host 2001:db8:1::2')
tb_check "the internet saw no packet from the laptop (saw $n)" [ "$n" = 0 ]

# 9. --spares 0: no session waits ready; a launch commits its rules (compiled policy
# included) before it is ready, as docs/session.md's order has it.
tb_wait 5 cg_dirs_are 2
tb_stop_daemon
tb_start_daemon "$BUILD" --spares 0 || tb_fail "the daemon starts with --spares 0"
tb_check "with --spares 0 no spare cgroup is made" [ "$(cg_dirs)" = 0 ]
tb_spawn run_app gcs sleep 2
app=$TB_LAST
session_running() { "$BUILD/ldmctl" status --socket "$TB_SOCK" | grep -q '^session .*: running,'; }
tb_check "a session starts" tb_wait 3 session_running
tb_check "with its compiled rules in the kernel when it is ready" compiled_are -ge 1
tb_check "udp to the drone is answered (--spares 0)" run_app gcs "$NET" udp-ask "$DRONE4" 14550 3
tb_wait_pid 60 "$app"

# 10. A daemon stopped with no session leaves nothing: no LDM- rule, no cgroup (spares too).
# (The last session ends 300 ms after its processes.)
tb_wait 5 cg_dirs_are 0
tb_stop_daemon
tb_check "after a stop no LDM- rule is left" \
	[ "$(tb_in "$TB_LAP" iptables-save | grep -c LDM-)" = 0 ]
tb_check "nor an IPv6 one" [ "$(tb_in "$TB_LAP" ip6tables-save | grep -c LDM-)" = 0 ]
tb_check "nor a session or spare cgroup ($(cg_dirs))" [ "$(cg_dirs)" = 0 ]

tb_summary test_enforcer
