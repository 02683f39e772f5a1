# The namespace test bed: sourced by the integration tests.
#
# Builds a private topology of network namespaces with unique names, removed on exit by a
# trap whatever happens:
#
#   laptop  lo up; veth to the drone (192.168.144.1/24, 2001:db8:144::1/64) and to the
#           router (203.0.113.2/24, 2001:db8:1::2/64, default routes through it); the
#           daemon and the sandboxed apps run here
#   drone   192.168.144.10/24, 2001:db8:144::10/64: on-link, "lan"
#   router  203.0.113.1, 2001:db8:1::1 towards the laptop; 198.51.100.1, 2001:db8:100::1
#           towards the internet; forwards
#   inet    198.51.100.7/24, 2001:db8:100::7/64: "the internet"
#
# Nothing touches this machine's own interfaces, routes or firewall: every address is in a
# namespace made here, and every command that changes networking runs inside one.
# Processes are started with tb_spawn and stopped by pid; cgroups made here are removed.

set -u

TB_ID="ldmt$$"
TB_LAP="$TB_ID-lap"
TB_DRN="$TB_ID-drn"
TB_RTR="$TB_ID-rtr"
TB_INET="$TB_ID-inet"
TB_TMP=""
TB_PIDS=()
TB_CGROUPS=()
TB_PASS=0
TB_FAIL=0
TB_USER=ldmtest

DRONE4=192.168.144.10
DRONE6=2001:db8:144::10
LAPTOP4=192.168.144.1
INET4=198.51.100.7
INET6=2001:db8:100::7

# A factor for the tests' wall-clock limits ("fails fast") and tb_wait's timeouts, for slow
# machines: a VM under software emulation (tests/vm/guest.sh) sets it; 1 here.
TB_TIME_SCALE=${TB_TIME_SCALE:-1}
tb_ms_limit() { echo $(($1 * TB_TIME_SCALE)); }

tb_log() { printf '%s\n' "$*" >&2; }

tb_pass() { TB_PASS=$((TB_PASS + 1)); printf 'PASS %s\n' "$*"; }
tb_fail() { TB_FAIL=$((TB_FAIL + 1)); printf 'FAIL %s\n' "$*"; }

# tb_check NAME COMMAND...: passes when COMMAND succeeds.
tb_check() {
	local name=$1
	shift
	if "$@"; then tb_pass "$name"; else tb_fail "$name"; fi
}

# tb_skip REASON: this test cannot run here (not root, a tool or kernel feature missing).
# Says why, loudly, and exits 77; in CI (CI=true) a test that cannot run is a failure: it
# says so and exits 1. Never pass silently.
tb_skip() {
	if [ "${CI:-}" = true ]; then
		printf '%s: FAIL (CI=true): cannot run: %s\n' "$(basename "$0" .sh)" "$*"
		exit 1
	fi
	printf '%s: SKIP: %s\n' "$(basename "$0" .sh)" "$*"
	exit 77
}

# Root-only: see tb_skip.
tb_require_root() {
	[ "$(id -u)" = 0 ] || tb_skip "needs root (network namespaces, iptables, cgroups)"
}

# tb_require_cmd COMMAND...: tb_skip unless every COMMAND is installed.
tb_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || tb_skip "$c is not installed (make deps)"
	done
}

# tb_wait_pid SECONDS PID: waits (at most SECONDS times TB_TIME_SCALE) until child PID
# ends; returns its exit status. A child still running then is killed (SIGKILL), reaped,
# and 124 returned, so that no test hangs on a program that ignores its signal.
tb_wait_pid() {
	if ! tb_wait "$1" tb_all_gone "$2"; then
		tb_log "$(basename "$0" .sh): pid $2 still running after $1 s: killed"
		kill -KILL "$2" 2>/dev/null
		wait "$2" 2>/dev/null
		return 124
	fi
	wait "$2"
}

tb_cgroup2_mount() {
	awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo |
		awk '$0 == "/sys/fs/cgroup" { print; found = 1; exit }
		     $0 == "/sys/fs/cgroup/unified" { u = $0 }
		     NR == 1 { first = $0 }
		     END { if (!found) print (u != "" ? u : first) }'
}

# Runs a command inside namespace NS without remounting /sys (cgroups stay visible).
tb_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# Runs a command as the unprivileged test user, in NS. LeakSanitizer (sanitizer builds)
# stops the world with ptrace at exit, which the sandbox denies: it is off for these.
tb_as_user() {
	local ns=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
		nsenter --net="/run/netns/$ns" -- setpriv --reuid="$TB_USER" --regid="$TB_USER" \
		--clear-groups --inh-caps=-all --bounding-set=-all -- "$@"
}

tb_cleanup() {
	local pid ns cg
	for pid in "${TB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# A moment to end on TERM (the daemon removes its rules), then KILL.
	tb_wait 1 tb_all_gone "${TB_PIDS[@]}"
	for pid in "${TB_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	# What is left in our namespaces was started here (a pid above may have been a
	# subshell around it): stop it by pid before the namespaces go.
	for ns in "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for pid in "${TB_PIDS[@]}"; do
		tb_wait_pid 5 "$pid" 2>/dev/null
	done
	tb_wait 5 tb_netns_empty "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"
	for ns in "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"; do
		ip netns del "$ns" 2>/dev/null
	done
	# Session cgroups first, then the roots; a cgroup still holding a process is left
	# (and reported) rather than forced.
	for cg in "${TB_CGROUPS[@]}"; do
		[ -d "$cg" ] || continue
		find "$cg" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
		rmdir "$cg" 2>/dev/null || tb_log "cleanup: cgroup $cg still busy"
	done
	if [ -n "${LDMT_KEEP:-}" ]; then
		: >"$TB_TMP/.kept" # tb_sweep_stale leaves it
		tb_log "kept $TB_TMP"
	elif [ -n "$TB_TMP" ]; then
		rm -rf "$TB_TMP"
	fi
}

# tb_all_gone PID...: true when none of the PIDs runs any more (a zombie counts as gone).
tb_all_gone() {
	local pid
	for pid in "$@"; do
		[ -e "/proc/$pid" ] || continue
		[ "$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null)" = Z ] ||
			return 1
	done
	return 0
}

# tb_netns_empty NS...: true when no process is left in any of the namespaces NS.
tb_netns_empty() {
	local ns
	for ns in "$@"; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || return 1
	done
}

tb_ensure_user() {
	id "$TB_USER" >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin "$TB_USER"
}

# Creates a veth pair between namespaces A and B (interface names are per namespace).
tb_link() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

tb_setup_net() {
	local ns
	for ns in "$TB_LAP" "$TB_DRN" "$TB_RTR" "$TB_INET"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		tb_in "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	tb_link "$TB_LAP" veth-drone "$TB_DRN" veth-lap
	tb_link "$TB_LAP" veth-wan "$TB_RTR" veth-lap
	tb_link "$TB_RTR" veth-inet "$TB_INET" veth-rtr
	ip -n "$TB_LAP" addr add 192.168.144.1/24 dev veth-drone
	ip -n "$TB_LAP" addr add 2001:db8:144::1/64 dev veth-drone nodad
	ip -n "$TB_DRN" addr add "$DRONE4/24" dev veth-lap
	ip -n "$TB_DRN" addr add "$DRONE6/64" dev veth-lap nodad
	ip -n "$TB_LAP" addr add 203.0.113.2/24 dev veth-wan
	ip -n "$TB_LAP" addr add 2001:db8:1::2/64 dev veth-wan nodad
	ip -n "$TB_RTR" addr add 203.0.113.1/24 dev veth-lap
	ip -n "$TB_RTR" addr add 2001:db8:1::1/64 dev veth-lap nodad
	ip -n "$TB_RTR" addr add 198.51.100.1/24 dev veth-inet
	ip -n "$TB_RTR" addr add 2001:db8:100::1/64 dev veth-inet nodad
	ip -n "$TB_INET" addr add "$INET4/24" dev veth-rtr
	ip -n "$TB_INET" addr add "$INET6/64" dev veth-rtr nodad
	ip -n "$TB_LAP" route add default via 203.0.113.1
	ip -n "$TB_LAP" -6 route add default via 2001:db8:1::1
	ip -n "$TB_INET" route add default via 198.51.100.1
	ip -n "$TB_INET" -6 route add default via 2001:db8:100::1
	tb_in "$TB_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# Starts a background command and remembers its pid for cleanup, also in TB_LAST.
tb_spawn() {
	"$@" &
	TB_LAST=$!
	TB_PIDS+=("$TB_LAST")
}

# tb_start_daemon BUILD [FLAG...]: a private daemon in the laptop namespace, with FLAGs
# added to its command line. Sets TB_SOCK, TB_LOG, TB_DAEMON (pid), TB_CGROOT.
tb_start_daemon() {
	local build=$1
	shift
	TB_SOCK="$TB_TMP/control.sock"
	TB_LOG="$TB_TMP/events.jsonl"
	TB_CGROOT="$(tb_cgroup2_mount)/$TB_ID"
	TB_CGROUPS+=("$TB_CGROOT")
	# A socket left by a daemon that was stopped or killed would pass the wait below
	# before the new one listens.
	rm -f "$TB_SOCK"
	# nsenter execs the daemon in place, so TB_DAEMON is the daemon's own pid.
	nsenter --net="/run/netns/$TB_LAP" -- "$build/ldm-enforcerd" --foreground --socket "$TB_SOCK" \
		--policy-dir "$TB_TMP/policies" --state-dir "$TB_TMP/state" \
		--persist-dir "$TB_TMP/persist" --log "$TB_LOG" \
		--cgroup-root "$TB_CGROOT" --queue 4242 "$@" >>"$TB_TMP/daemon.out" 2>&1 &
	TB_DAEMON=$!
	TB_PIDS+=("$TB_DAEMON")
	tb_wait 5 tb_listening_or_gone "$TB_SOCK" "$TB_DAEMON" && [ -S "$TB_SOCK" ] && return 0
	tb_log "daemon did not start:"
	cat "$TB_TMP/daemon.out" >&2
	return 1
}

# tb_listens NS PROTO:PORT...: true when something in namespace NS listens on each
# (tcp:5760, udp:14550), on any address.
tb_listens() {
	local ns=$1 p
	shift
	for p in "$@"; do
		case ${p%%:*} in tcp) ;; udp) ;; *) return 1 ;; esac
		tb_in "$ns" ss -Hln --"${p%%:*}" "sport = :${p#*:}" 2>/dev/null | grep -q . || return 1
	done
}

# tb_wait_listen NS PROTO:PORT...: waits (at most 5 s) until tb_listens; says which did not.
tb_wait_listen() {
	tb_wait 5 tb_listens "$@" || { tb_log "not listening in $1: ${*:2}"; return 1; }
}

# tb_listening_or_gone SOCKET PID: the socket is there, or PID has ended (no use waiting).
tb_listening_or_gone() {
	[ -S "$1" ] || tb_all_gone "$2"
}

# Installs policy files (root-owned, 0644) for the daemon: tb_policy NAME TEXT.
tb_policy() {
	install -m 0644 -o root -g root /dev/null "$TB_TMP/policies/$1.conf"
	printf '%s\n' "$2" >"$TB_TMP/policies/$1.conf"
}

# Starts a capture in namespace NS on IFACE into FILE and returns once tcpdump listens
# (tb_capture_ready; a capture that did not start within 5 s is logged); its pid is in
# TB_LAST. Stop it with tb_capture_count.
tb_capture() {
	tb_capture_ready "$@" || tb_log "capture on $1 $2 did not start: $(cat "$3.err")"
}

# Stops capture PID and prints how many packets of FILE match FILTER.
tb_capture_count() {
	local pid=$1 file=$2 filter=$3
	# Not a synchronisation: packets still on their way (veth, a forwarding hop) get this
	# long to reach the capture, since "none arrived" is what most callers count.
	sleep 0.3
	tb_capture_stop "$pid"
	tcpdump -n -r "$file" "$filter" 2>/dev/null | wc -l
}

# Counts JSON log records that contain every one of the given fixed strings.
tb_log_count() {
	local lines s
	lines=$(cat "$TB_LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -F -- "$s")
	done
	if [ -z "$lines" ]; then echo 0; else printf '%s\n' "$lines" | wc -l; fi
}

# tb_stale_pid NAME: for a name the tests give by pid (ldmt<PID>, ldmt<PID>-..., ldmt<PID>g),
# true when that test is gone (no process PID: all tests share this pid namespace).
tb_stale_pid() {
	local pid=${1#ldmt}
	pid=${pid%%[!0-9]*}
	[ -n "$pid" ] && [ "$1" != "ldmt$$" ] && [ ! -e "/proc/$pid" ]
}

# tb_sweep_stale: removes what a test killed with SIGKILL left behind, found by the tests'
# own naming only: network namespaces ldmt<pid>-* (the processes in them first, by pid),
# cgroups ldmt<pid> and ldmt<pid>-* under the cgroup2 mount (their processes killed with
# cgroup.kill), /etc/netns/ldmt<pid>-*, groups ldmt<pid>g and temporary directories
# /tmp/ldm-it.ldmt<pid>.* (but one LDMT_KEEP kept), each where no process <pid> runs any more. Each removal is
# logged.
tb_sweep_stale() {
	local ns pid cg mnt d g
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ldmt[0-9]+-/ { print $1 }'); do
		tb_stale_pid "$ns" || continue
		tb_log "sweep: stale network namespace $ns"
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		tb_wait 5 tb_netns_empty "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	mnt=$(tb_cgroup2_mount)
	for cg in "$mnt"/ldmt[0-9]*; do
		[[ ${cg##*/} =~ ^ldmt[0-9]+(-.*)?$ ]] && [ -d "$cg" ] || continue
		tb_stale_pid "${cg##*/}" || continue
		tb_log "sweep: stale cgroup $cg"
		[ -e "$cg/cgroup.kill" ] && echo 1 >"$cg/cgroup.kill" 2>/dev/null
		tb_wait 5 sh -c '! grep -qs . $(find "$1" -name cgroup.procs)' _ "$cg"
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for d in /etc/netns/ldmt[0-9]*-*; do
		[ -d "$d" ] && tb_stale_pid "${d##*/}" || continue
		tb_log "sweep: stale $d"
		rm -f "$d/resolv.conf" && rmdir "$d" 2>/dev/null
	done
	for d in /tmp/ldm-it.ldmt[0-9]*.*; do
		[ -d "$d" ] && [ ! -e "$d/.kept" ] || continue
		d=${d#/tmp/ldm-it.}
		tb_stale_pid "${d%%.*}" || continue
		tb_log "sweep: stale /tmp/ldm-it.$d"
		rm -rf -- "/tmp/ldm-it.$d"
	done
	for g in $(awk -F: '$1 ~ /^ldmt[0-9]+g$/ { print $1 }' /etc/group); do
		tb_stale_pid "$g" || continue
		tb_log "sweep: stale group $g"
		groupdel "$g" 2>/dev/null
	done
	return 0
}

tb_init() {
	tb_require_root
	tb_sweep_stale
	trap tb_cleanup EXIT
	trap 'exit 130' INT TERM
	TB_TMP=$(mktemp -d "/tmp/ldm-it.$TB_ID.XXXXXX") # named by pid for tb_sweep_stale
	chmod 0755 "$TB_TMP"
	mkdir -m 0755 "$TB_TMP/policies" "$TB_TMP/state" "$TB_TMP/persist"
	mkdir -m 1777 "$TB_TMP/out" # where sandboxed programs may write
	tb_ensure_user
	tb_setup_net
}

tb_summary() {
	printf '%s: %d passed, %d failed\n' "${1:-$(basename "$0" .sh)}" "$TB_PASS" "$TB_FAIL"
	[ "$TB_FAIL" = 0 ]
}

# tb_wait SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds (0) or SECONDS
# (times TB_TIME_SCALE) have passed (1).
tb_wait() {
	local end=$(($(date +%s%N) + $1 * TB_TIME_SCALE * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# tb_capture_ready NS IFACE FILE: like tb_capture, but returns as soon as tcpdump says it
# is listening (1 if it did not within 5 s). TB_LAST is tcpdump's own pid; stop it with
# tb_capture_stop.
tb_capture_ready() {
	local ns=$1 iface=$2 file=$3
	nsenter --net="/run/netns/$ns" -- tcpdump -i "$iface" -n -U -w "$file" \
		>/dev/null 2>"$file.err" &
	TB_LAST=$!
	TB_PIDS+=("$TB_LAST")
	tb_wait 5 grep -q 'listening on' "$file.err"
}

# tb_capture_stop PID: stops a capture started by tb_capture_ready.
tb_capture_stop() {
	kill -TERM "$1" 2>/dev/null
	tb_wait_pid 10 "$1" 2>/dev/null
	return 0
}

# tb_pcap_count FILE FILTER: how many packets of FILE match FILTER.
tb_pcap_count() {
	tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l
}

# tb_spawn_in NS COMMAND...: like tb_spawn tb_in NS COMMAND..., but nsenter execs COMMAND
# in place, so TB_LAST (and the pid cleanup stops) is COMMAND's own pid.
tb_spawn_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@" &
	TB_LAST=$!
	TB_PIDS+=("$TB_LAST")
}

# --- helpers added for test_hostile.sh and test_scenarios.sh (append only) ---

# Installs the shipped policy files (policies/*.conf) for the daemon, root-owned 0644.
tb_install_policies() {
	local f
	for f in "$(dirname "${BASH_SOURCE[0]}")/../../policies"/*.conf; do
		install -m 0644 -o root -g root "$f" "$TB_TMP/policies/"
	done
}

# Sets sysctls in namespace NS: tb_sysctl NS KEY=VALUE...
tb_sysctl() {
	local ns=$1
	shift
	tb_in "$ns" sysctl -qw "$@"
}

# The laptop's resolver for programs started with tb_as_user_etc (ip netns exec bind-mounts
# /etc/netns/NAME/resolv.conf over /etc/resolv.conf). Removed by tb_cleanup via the trap.
TB_ETC_NETNS=""
tb_resolv_conf() {
	local ns=$1
	shift
	mkdir -p "/etc/netns/$ns"
	TB_ETC_NETNS="/etc/netns/$ns"
	printf 'nameserver %s\n' "$@" >"/etc/netns/$ns/resolv.conf"
	trap 'tb_cleanup; tb_cleanup_etc' EXIT
}

tb_cleanup_etc() {
	[ -n "$TB_ETC_NETNS" ] || return 0
	rm -f "$TB_ETC_NETNS/resolv.conf"
	rmdir "$TB_ETC_NETNS" 2>/dev/null
	return 0
}

# Like tb_as_user, but in a private mount namespace with NS's /etc/netns files bound over
# /etc (as `ip netns exec` does), keeping /sys and the cgroup file system as they are.
tb_as_user_etc() {
	local ns=$1 f
	shift
	local binds=()
	for f in /etc/netns/"$ns"/*; do
		[ -e "$f" ] && binds+=("mount --bind '$f' '/etc/${f##*/}' &&")
	done
	ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
		nsenter --net="/run/netns/$ns" -- unshare -m --propagation slave -- sh -c \
		"${binds[*]} exec setpriv --reuid='$TB_USER' --regid='$TB_USER' --clear-groups \
		--inh-caps=-all --bounding-set=-all -- \"\$@\"" sh "$@"
}

# Elapsed milliseconds since a `date +%s%N` stamp.
tb_ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# Sums the "count" of the JSON log records that contain every one of the given strings.
tb_log_sum() {
	local lines s
	lines=$(cat "$TB_LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(printf '%s\n' "$lines" | grep -F -- "$s")
	done
	printf '%s\n' "$lines" | sed -n 's/.*"count":\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# --- helpers added for the benchmarks in tests/bench (append only) ---

# tb_app_shell RUN POLICY: a long-lived session under `RUN --policy POLICY` (ldm-run) as the
# test user in the laptop namespace: a shell that runs the command lines tb_app_cmd sends
# it, so one session (and one daemon commit) serves many measurements.
tb_app_shell() {
	local run=$1 policy=$2
	TB_APP_FIFO="$TB_TMP/out/app.fifo"
	TB_APP_SEQ=0
	rm -f "$TB_APP_FIFO"
	mkfifo -m 0644 "$TB_APP_FIFO"
	exec {TB_APP_FD}<>"$TB_APP_FIFO"
	tb_spawn tb_as_user "$TB_LAP" "$run" --socket "$TB_SOCK" --quiet --policy "$policy" -- \
		sh -c 'exec <"$0"; while read -r line; do eval "$line"; done' "$TB_APP_FIFO"
	tb_app_cmd true
}

# tb_app_cmd COMMAND-LINE: runs it (sh syntax) in the session of tb_app_shell and waits (at
# most 300 s) until it ends; its status is tb_app_cmd's.
tb_app_cmd() {
	TB_APP_SEQ=$((TB_APP_SEQ + 1))
	local done="$TB_TMP/out/done.$TB_APP_SEQ"
	printf '%s\n' "( $1 ); echo \$? >$done" >&"$TB_APP_FD"
	tb_wait 300 test -s "$done" || return 1
	return "$(cat "$done")"
}

# tb_stop_daemon: SIGTERM to TB_DAEMON and wait for it (with no live session it removes
# every LDM- rule on the way out).
tb_stop_daemon() {
	kill -TERM "$TB_DAEMON" 2>/dev/null
	tb_wait_pid 30 "$TB_DAEMON" 2>/dev/null
	return 0
}

# tb_proc_cpu_ms PID: user + system CPU time of PID so far, in milliseconds.
tb_proc_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
		"/proc/$1/stat"
}

# tb_proc_status PID FIELD: a /proc/PID/status value in kB (VmHWM, VmRSS).
tb_proc_status() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}
