#!/usr/bin/env bash
# Runs every integration test (tests/integration/test_*.sh BUILD_DIR) and sums them up.
# A test that exits 77 was skipped (not root, a tool missing); in CI (CI=true) a skip is a
# failure. Each test gets LDMT_TEST_TIMEOUT seconds (900).
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.."
passed=0 failed=0 skipped=0
# What a test killed with SIGKILL left (namespaces, cgroups named by its pid) goes first.
[ "$(id -u)" = 0 ] && (. tests/integration/lib.sh && tb_sweep_stale)
# The sandboxed test user must reach the binaries under the build tree.
chmod o+x "$BUILD" "$BUILD/tests" "$BUILD/tests/tools" 2>/dev/null
for t in tests/integration/test_*.sh; do
	echo "== $t"
	# A test that hangs is stopped (TERM runs its cleanup trap; a KILL 30 s later leaves what
	# the next sweep removes) and counted as failed. --foreground: Ctrl-C still reaches it.
	timeout --foreground --kill-after=30 "${LDMT_TEST_TIMEOUT:-900}" bash "$t" "$BUILD"
	rc=$?
	[ "$rc" = 124 ] && echo "== $t: stopped after ${LDMT_TEST_TIMEOUT:-900} s"
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
	elif [ "$rc" = 77 ] && [ "${CI:-}" != true ]; then
		skipped=$((skipped + 1))
	else
		echo "== $t failed (exit $rc)"
		failed=$((failed + 1))
	fi
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
