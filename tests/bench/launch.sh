#!/usr/bin/env bash
# Launch cost: `ldm-run --policy offline -- /bin/true` vs bare /bin/true (both as the test
# user in the laptop namespace) vs `bwrap --unshare-net --ro-bind / / /bin/true` and
# `firejail --noprofile --net=none /bin/true` (as root; each is skipped, and said so, when
# the tool is not installed: Debian packages bubblewrap and firejail). Runs are interleaved;
# medians are reported. Target: ldm-run's added time <= 2x bwrap's. Then where the time
# goes: one cold cgroup migration (what the daemon's move of ldm-run into the session
# costs; bwrap and firejail pay none), and the daemon traced (strace -f) over a few
# launches with the time of the iptables tools it runs (in the background) summed.
# Usage (root): launch.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
NL="$BUILD/bench/netload"
RUN="$BUILD/ldm-run"
N=${LDM_BENCH_LAUNCHES:-20}

tb_init
tb_install_policies
tb_start_daemon "$BUILD" || exit 1
O="$TB_TMP/out"
: >"$O/times"
have_bwrap=$(command -v bwrap)
have_firejail=$(command -v firejail)
[ -n "$have_bwrap" ] || echo "launch: bwrap not installed (apt-get install bubblewrap): skipped"
[ -n "$have_firejail" ] || echo "launch: firejail not installed (apt-get install firejail): skipped"
for i in $(seq 1 "$N"); do
	echo "bare $(tb_as_user "$TB_LAP" "$NL" time /bin/true | awk '{ print $3 }')" >>"$O/times"
	echo "ldm $(tb_as_user "$TB_LAP" "$NL" time "$RUN" --socket "$TB_SOCK" --quiet --policy offline -- /bin/true | awk '{ print $3 }')" >>"$O/times"
	[ -n "$have_bwrap" ] && echo "bwrap $(tb_in "$TB_LAP" "$NL" time bwrap --unshare-net --ro-bind / / /bin/true | awk '{ print $3 }')" >>"$O/times"
	[ -n "$have_firejail" ] && echo "firejail $(tb_in "$TB_LAP" "$NL" time firejail --quiet --noprofile --net=none /bin/true 2>/dev/null | awk '{ print $3 }')" >>"$O/times"
done
med() { awk -v k="$1" '$1 == k { print $2 / 1000 }' "$O/times" | bench_median; }
bare=$(med bare)
ldm=$(med ldm)
printf 'launch: median ms: bare %s, ldm-run %s' "$bare" "$ldm"
[ -n "$have_bwrap" ] && printf ', bwrap %s' "$(med bwrap)"
[ -n "$have_firejail" ] && printf ', firejail %s' "$(med firejail)"
echo
bench_result launch "bare /bin/true, ms" "$bare" - -
bench_result launch "ldm-run --policy offline, ms (added $(bench_calc "$ldm - $bare"))" "$ldm" - -
if [ -n "$have_bwrap" ]; then
	bw=$(med bwrap)
	bench_result launch "bwrap, ms (added $(bench_calc "$bw - $bare"))" "$bw" - -
	bench_result launch "ldm-run added / bwrap added" \
		"$(bench_calc "($ldm - $bare) / ($bw - $bare)")" "<= 2" "v <= 2"
fi
[ -n "$have_firejail" ] && bench_result launch "firejail, ms" "$(med firejail)" - -

# One cgroup migration, as ldm-enforcerd does for every launch (ldm-run into the session
# cgroup): a kernel cost bwrap and firejail do not pay (they use no cgroup). Two cgroups of
# our own under the test root, 100 ms between moves so each is "cold" as a launch's is.
mkdir -p "$TB_CGROOT/bench-a" "$TB_CGROOT/bench-b"
mv_ms=$(sh -c 'exec "$0" cg-move "$1" "$2" 15 100' "$NL" "$TB_CGROOT/bench-a" "$TB_CGROOT/bench-b" |
	awk '{ print $4 / 1000 }')
rmdir "$TB_CGROOT/bench-a" "$TB_CGROOT/bench-b" 2>/dev/null
if [ -n "$mv_ms" ]; then
	bench_result launch "one cgroup migration (write to cgroup.procs), ms" "$mv_ms" - -
	[ -n "$have_bwrap" ] && bench_result launch \
		"ldm-run added without the migration / bwrap added" \
		"$(bench_calc "($ldm - $bare - $mv_ms) / ($bw - $bare)")" - -
fi

# The daemon's children (iptables-restore) over 5 launches: with spares they run in the
# background, after ready, so this is CPU the host spends, not launch time.
if command -v strace >/dev/null; then
	strace -f -ttt -e trace=execve,accept4 -e signal=none -o "$O/strace" -p "$TB_DAEMON" 2>/dev/null &
	st=$!
	sleep 0.5
	for i in 1 2 3 4 5; do
		tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --quiet --policy offline -- /bin/true
		sleep 0.3 # the session's end commit, outside ldm-run's time
	done
	kill -INT "$st"
	wait "$st" 2>/dev/null
	# Per child: its execve'd tool and its lifetime (execve to exit).
	awk '/execve\(/ && !/resumed/ { match($0, /execve\("[^"]*"/); t = substr($0, RSTART + 8, RLENGTH - 9);
			n = split(t, p, "/"); tool[$1] = p[n]; start[$1] = $2 }
		/\+\+\+ exited/ && ($1 in tool) { d = $2 - start[$1]; sum[tool[$1]] += d; cnt[tool[$1]]++ }
		END { for (k in sum) printf "launch: strace: %-18s %3d runs, %6.2f ms each, %6.2f ms per launch (start+end)\n",
			k, cnt[k], sum[k] / cnt[k] * 1000, sum[k] / 5 * 1000 }' "$O/strace"
	per=$(awk '/execve\(/ && !/resumed/ { start[$1] = $2; c[$1] = 1 }
		/\+\+\+ exited/ && ($1 in c) { s += $2 - start[$1] } END { printf "%.2f", s / 5 * 1000 }' "$O/strace")
	bench_result launch "iptables tools per session start+end (strace; off the launch path), ms" "$per" - -
fi
