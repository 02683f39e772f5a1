#!/usr/bin/env bash
# What the write scope costs an ordinary program: the same workloads as the test user,
# bare and inside one long-lived ldm-run session (tb_app_shell: no launch cost in the
# numbers), interleaved A B A B..., median of the pairwise ratios.
#   import-json  4 x `python3 -c 'import json'` (start-up: hundreds of opens for reading,
#                stat calls, mmaps; no write call: nothing reaches the supervisor)
#   read-loop    open + read + close of 2,000 files (reads stay in the kernel)
#   write-loop   a build-like loop in /tmp: 100 x (create, write, rename, stat, unlink) =
#                3 notified calls per file (openat with O_CREAT, rename, unlink), each a
#                round trip to the supervisor, which reads the path and lets it run
# Each is timed 5 times per run and the fastest kept; runs are interleaved bare / session.
# The session's costs: seccomp (BPF on every syscall), Landlock (path checks on writes),
# and the write calls' notifications. Target: reads <= 1.10x.
# Usage (root): writescope.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.bash"
RUN="$BUILD/ldm-run"
ROUNDS=${LDM_BENCH_ROUNDS:-5}
PY=/usr/bin/python3

tb_init
# No write setting: the default scope (/tmp among it); an older build runs it too.
tb_policy bench 'description = "write scope benchmark";'
tb_start_daemon "$BUILD" || exit 1
O="$TB_TMP/out"
mkdir -m 0777 "$O/files"
for i in $(seq 1 2000); do echo "data $i" >"$O/files/$i"; done
chmod -R a+rX "$O/files"
cat >"$O/work.py" <<'PY'
# Each workload is timed 5 times in this process; the fastest counts (the noise of a
# shared machine only ever adds time).
import os, subprocess, sys, time
what, out = sys.argv[1], sys.argv[2]
d = os.path.join(os.path.dirname(out), "files")
def import_json():
    for _ in range(4):
        subprocess.run([sys.executable, "-c", "import json"], check=True)
def read_loop():
    for i in range(1, 2001):
        with open(os.path.join(d, str(i)), "rb") as f:
            f.read()
def write_loop():
    w = "/tmp/ldm-bench-w.%d" % os.getpid()
    os.mkdir(w)
    for i in range(100):
        p = os.path.join(w, "o%d" % i)
        with open(p + ".tmp", "wb") as f:
            f.write(b"x" * 4096)
        os.rename(p + ".tmp", p)
        os.stat(p)
        os.unlink(p)
    os.rmdir(w)
f = {"import-json": import_json, "read-loop": read_loop, "write-loop": write_loop}[what]
best = None
for _ in range(5):
    t0 = time.perf_counter()
    f()
    t = time.perf_counter() - t0
    best = t if best is None or t < best else best
with open(out, "a") as o:
    o.write("%s %.6f\n" % (what, best))
PY
chmod 0644 "$O/work.py"
tb_app_shell "$RUN" bench
for r in $(seq 1 "$ROUNDS"); do
	for w in import-json read-loop write-loop; do
		tb_as_user "$TB_LAP" $PY "$O/work.py" "$w" "$O/bare.$r"
		tb_app_cmd "$PY $O/work.py $w $O/ldm.$r" || echo "writescope: $w failed in the session"
	done
done
for w in import-json read-loop write-loop; do
	ratio=$(for r in $(seq 1 "$ROUNDS"); do
		b=$(awk -v w="$w" '$1 == w { print $2 }' "$O/bare.$r")
		l=$(awk -v w="$w" '$1 == w { print $2 }' "$O/ldm.$r")
		bench_calc "$l / $b"
		echo
	done | bench_median)
	bare_ms=$(cat "$O"/bare.* | awk -v w="$w" '$1 == w { print $2 * 1000 }' | bench_median)
	ldm_ms=$(cat "$O"/ldm.* | awk -v w="$w" '$1 == w { print $2 * 1000 }' | bench_median)
	echo "writescope: $w: bare $bare_ms ms, in a session $ldm_ms ms, ratio $ratio"
	case $w in
	write-loop) bench_result writescope "$w in a session / bare (300 notified calls)" \
		"$ratio" - - ;;
	*) bench_result writescope "$w in a session / bare" "$ratio" "<= 1.10" "v <= 1.10" ;;
	esac
done
