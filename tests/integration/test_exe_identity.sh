#!/usr/bin/env bash
# exe_sha256 names the file ldm-run hashed and ran. A "#!" script runs by its path (its
# interpreter opens it by name), so ldm-run checks the path still names the hashed inode:
# gdb stops ldm-run between the hash and the exec (at the session request) and a same-user
# process renames another script over the path. The log must name what ran, or ldm-run
# refuses. (An ELF on 6.14+ runs from the hashed descriptor; AppImages: test_appimage.sh.)
set -u
BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
RUN="$BUILD/ldm-run"
command -v gdb >/dev/null || tb_skip "gdb is not installed"
# The installed package's ldm-run is stripped: gdb cannot stop it, and the check would pass
# without testing anything. test_deb's run of this file says so and leaves it to the build
# tree's run (CI makes both).
if ! nm "$RUN" 2>/dev/null | grep -q ' ldm_run_session_request$'; then
	echo "test_exe_identity: SKIP: $RUN has no symbols (an installed, stripped build); the build tree's run covers it"
	exit 0
fi
tb_init
chmod o+x "$BUILD" 2>/dev/null
tb_policy closed 'name = "closed";
allow = ( { proto = "tcp"; to = "loopback"; ports = "1-65535"; } );'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_exe_identity; exit 1; }
D="$TB_TMP/app"
install -d -m 0755 -o "$TB_USER" "$D"
printf '#!/bin/sh\necho ORIGINAL\n' >"$D/app.sh"
printf '#!/bin/sh\necho REPLACED\n' >"$D/other.sh"
chown "$TB_USER" "$D/app.sh" "$D/other.sh"
chmod 0755 "$D/app.sh" "$D/other.sh"
want=$(sha256sum "$D/app.sh" | cut -d' ' -f1)
tb_as_user "$TB_LAP" gdb -q -batch -ex 'set pagination off' -ex 'set follow-fork-mode parent' \
	-ex 'break ldm_run_session_request' -ex run -ex "shell mv $D/other.sh $D/app.sh" \
	-ex continue --args "$RUN" --no-notify --socket "$TB_SOCK" --policy closed -- "$D/app.sh" \
	</dev/null >"$TB_TMP/out.txt" 2>&1
got=$(grep '"event":"session_start"' "$TB_LOG" | tail -n1 | sed 's/.*"exe_sha256":"\([0-9a-f]*\)".*/\1/')
tb_log "exe_sha256 in the log: $got (the original: $want)"
grep -E 'ORIGINAL|REPLACED|ldm-run:' "$TB_TMP/out.txt" >&2
tb_check "the log names the hashed script" [ "$got" = "$want" ]
tb_check "what ran is what the log names, or ldm-run refused" \
	sh -c "! grep -q REPLACED '$TB_TMP/out.txt'"
tb_summary test_exe_identity
