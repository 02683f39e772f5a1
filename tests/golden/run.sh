#!/bin/bash
# Golden tests of ldmctl's output: runs each tests/golden/NAME.args (one line: the arguments,
# split on blanks, never evaluated) from the repository root, and compares stdout, stderr and
# the exit status with tests/golden/NAME.out. --update rewrites the .out files instead
# (`make update-golden`); review the diff before committing it.
#
# Usage: tests/golden/run.sh [--update] LDMCTL
set -u

update=0
if [ "${1-}" = --update ]; then
	update=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: tests/golden/run.sh [--update] LDMCTL" >&2
	exit 2
fi
ldmctl=$(realpath -e -- "$1") || exit 2
root=$(cd -- "$(dirname -- "$0")/../.." && pwd) || exit 2
cd -- "$root" || exit 2
# The same messages everywhere (strerror, getopt).
export LC_ALL=C
unset LDM_SOCKET XDG_RUNTIME_DIR

# Git keeps no group-write bit: the refused-file case makes its file group-writable here.
chmod g+w tests/golden/policydir/access.conf || exit 2

tmp=$(mktemp -d) || exit 2
trap 'rm -rf -- "$tmp"' EXIT

shopt -s nullglob
cases=(tests/golden/*.args)
if [ ${#cases[@]} -eq 0 ]; then
	echo "golden: no tests/golden/*.args found" >&2
	exit 1
fi

pass=0
fail=0
for argsfile in "${cases[@]}"; do
	name=${argsfile##*/}
	name=${name%.args}
	want=tests/golden/$name.out
	args=()
	read -r -a args <"$argsfile"
	# argv[0] is "ldmctl" whatever the build directory, so getopt's messages match too.
	(exec -a ldmctl "$ldmctl" "${args[@]}") >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
	rc=$?
	{
		printf '$ ldmctl %s\n' "${args[*]}"
		echo "--- stdout"
		cat "$tmp/stdout"
		echo "--- stderr"
		cat "$tmp/stderr"
		echo "--- exit $rc"
	} >"$tmp/got"
	if [ $update -eq 1 ]; then
		cp -- "$tmp/got" "$want"
		echo "UPDATED $name"
		pass=$((pass + 1))
	elif [ -f "$want" ] && cmp -s -- "$want" "$tmp/got"; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		if [ -f "$want" ]; then
			diff -u -- "$want" "$tmp/got" | sed 's/^/    /'
		else
			echo "    $want is missing: run tests/golden/run.sh --update LDMCTL"
		fi
		fail=$((fail + 1))
	fi
done
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
