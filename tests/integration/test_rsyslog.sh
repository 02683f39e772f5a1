#!/usr/bin/env bash
# The shipped rsyslog configuration (packaging/rsyslog/) forwards the event log from the
# laptop namespace to a collector in the "internet" namespace over RELP: the records arrive
# unchanged (the collector verifies the laptop's hash chain), and nothing is lost while the
# collector is down, nor across a restart of the laptop's rsyslog while it is down (the
# disk queue of an offline flight).
# Usage: test_rsyslog.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
CTL="$BUILD/ldmctl"
SRC=$(cd "$(dirname "$0")/../../packaging/rsyslog" && pwd)

tb_require_cmd rsyslogd
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so ] || tb_skip "rsyslog-relp is not installed"

tb_init
tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_rsyslog; exit 1; }

LAP_DIR="$TB_TMP/rsyslog-laptop"
COL_DIR="$TB_TMP/rsyslog-collector"
FLEET="$COL_DIR/fleet"
mkdir -p "$LAP_DIR" "$COL_DIR"

# The shipped files, pointed at the test bed: the log, the collector's address, private
# work directories (the queue) and the fleet directory; nothing else changes.
{
	echo "global(workDirectory=\"$LAP_DIR\")"
	sed -e "s|/var/log/ldm/events.jsonl|$TB_LOG|" -e "s|\"COLLECTOR\"|\"$INET4\"|" \
		"$SRC/ldm-forward.conf"
} >"$LAP_DIR/rsyslog.conf"
{
	echo "global(workDirectory=\"$COL_DIR\")"
	sed -e "s|/var/log/ldm-fleet|$FLEET|" "$SRC/ldm-collector.conf"
} >"$COL_DIR/rsyslog.conf"

check_conf() { rsyslogd -N1 -f "$1" >"$1.check" 2>&1; }
tb_check "the shipped forwarder configuration is valid (rsyslogd -N1)" check_conf "$LAP_DIR/rsyslog.conf"
tb_check "the shipped collector configuration is valid" check_conf "$COL_DIR/rsyslog.conf"

# rsyslogd in the foreground (-n), no pid file, only this configuration; nsenter execs it
# in place, so the pid is rsyslogd's own.
start_rsyslogd() {
	nsenter --net="/run/netns/$1" -- rsyslogd -n -iNONE -f "$2" >>"$2.out" 2>&1 &
	TB_LAST=$!
	TB_PIDS+=("$TB_LAST")
}
start_collector() {
	start_rsyslogd "$TB_INET" "$COL_DIR/rsyslog.conf"
	COLLECTOR=$TB_LAST
}
start_forwarder() {
	start_rsyslogd "$TB_LAP" "$LAP_DIR/rsyslog.conf"
	FORWARDER=$TB_LAST
}
stop() { kill -TERM "$1" 2>/dev/null; tb_wait 10 bash -c "! kill -0 $1 2>/dev/null"; }

blocked_session() {
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy t --quiet -- \
		"$NET" tcp-connect "$INET4" 443 2 >/dev/null 2>&1
}
ends() { grep -c '"event":"session_end"' "$1" 2>/dev/null || true; }
# Waits until the collector holds exactly the laptop's log.
same_log() { cmp -s "$TB_LOG" "$(ls "$FLEET"/*/events.jsonl 2>/dev/null | head -n1)"; }

start_collector
start_forwarder
blocked_session
blocked_session
tb_wait 5 [ "$(ends "$TB_LOG")" -ge 2 ]
tb_check "records reach the collector, byte for byte" tb_wait 20 same_log
got=$(ls "$FLEET"/*/events.jsonl 2>/dev/null | head -n1)
tb_check "the collector files them under the laptop's hostname" \
	test "$got" = "$FLEET/$(hostname)/events.jsonl"
tb_check "the collector's copy verifies (ldmctl verify)" "$CTL" verify --log "$got"

# The collector goes down; records written meanwhile wait and arrive when it is back.
stop "$COLLECTOR"
blocked_session
blocked_session
tb_wait 5 [ "$(ends "$TB_LOG")" -ge 4 ]
start_collector
tb_check "records written while the collector was down arrive after it is back" \
	tb_wait 40 same_log

# An offline flight: collector down, records written, the laptop's rsyslog restarted (its
# disk queue kept), then the collector back. rsyslog loses the records its suspended action
# holds when it is stopped (a known rsyslog limitation, docs/fleet.md): at most those, and
# the collector's chain check names the gap, so the loss cannot pass unnoticed; the records
# are still in the laptop's own log.
stop "$COLLECTOR"
blocked_session
tb_wait 5 [ "$(ends "$TB_LOG")" -ge 5 ]
# imfile reads them into the queue before the forwarder stops: kept, since rsyslog shows
# nothing that says it has (its state file is written at shutdown).
sleep 1
stop "$FORWARDER"
blocked_session
tb_wait 5 [ "$(ends "$TB_LOG")" -ge 6 ]
start_forwarder
start_collector
last=$(tail -n1 "$TB_LOG")
has_last() { grep -qxF -- "$last" "$got"; }
tb_check "records queued on disk across a forwarder restart arrive" tb_wait 60 has_last
sent=$(wc -l <"$TB_LOG")
arrived=$(sort -u "$got" | wc -l)
# What rsyslog loses is at most what it held for the suspended action when it stopped:
# records of the session sent while the collector was down (three: start, block, end).
tb_check "at most the records in flight at the restart are lost ($arrived of $sent)" \
	[ "$arrived" -ge $((sent - 3)) ]
# The same restart may deliver a record twice (RELP re-sends what it saw no ack for,
# docs/fleet.md): at most the ones in flight, exact copies (sort -u counted them once).
tb_check "records arriving twice are at most those in flight ($(($(wc -l <"$got") - arrived)))" \
	[ "$(($(wc -l <"$got") - arrived))" -le 3 ]
awk '!seen[$0]++' "$got" >"$TB_TMP/dedup"
tb_check "with exact duplicates dropped, the collector holds the laptop's records only" \
	sh -c "! grep -vxFf '$TB_LOG' '$TB_TMP/dedup' >/dev/null"
if [ "$arrived" = "$sent" ]; then
	tb_check "the collector's copy verifies" "$CTL" verify --log "$TB_TMP/dedup"
else
	"$CTL" verify --log "$TB_TMP/dedup" >"$TB_TMP/fleet-verify.out" 2>&1
	tb_check "the lost record is named by the collector's chain check" \
		grep -q 'records missing before it' "$TB_TMP/fleet-verify.out"
fi

stop "$FORWARDER"
stop "$COLLECTOR"
tb_summary test_rsyslog
