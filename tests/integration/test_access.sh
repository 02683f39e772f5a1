#!/usr/bin/env bash
# Who may use which policy (`users`, `groups`), enforced by the real daemon with the uid it
# authenticated: a user named, or in a group named, gets a session; anyone else is refused
# with exit 125 and a message naming who may, and the program never runs.
# Usage: test_access.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
RUN="$BUILD/ldm-run"
GROUP="ldmt$$g"

tb_init
groupadd "$GROUP" || { tb_fail "groupadd $GROUP"; tb_summary test_access; exit 1; }
trap 'groupdel "$GROUP" 2>/dev/null; tb_cleanup' EXIT
tb_policy byname "name = \"byname\"; users = [ \"$TB_USER\" ];"
tb_policy bygroup "name = \"bygroup\"; groups = [ \"$GROUP\" ];"
tb_policy admins 'name = "admins"; users = [ "nobody" ]; groups = [ "ldm-admin-test" ];'
tb_policy nobody 'name = "nobody"; users = [ ];'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_access; exit 1; }

run() {
	rm -f "$TB_TMP/ran"
	tb_as_user "$TB_LAP" "$RUN" --socket "$TB_SOCK" --policy "$1" --quiet -- \
		/usr/bin/touch "$TB_TMP/ran" >"$TB_TMP/run.out" 2>&1
}
chmod 0777 "$TB_TMP"

run byname
tb_check "a user named in users gets a session" [ "$?" = 0 ]
tb_check "... and the program ran" test -e "$TB_TMP/ran"
run bygroup
tb_check "a user outside the group is refused with exit 125" [ "$?" = 125 ]
tb_check "... told which group may use it" \
	grep -q "policy 'bygroup' may be used only by group $GROUP; user $TB_USER is none of them" \
	"$TB_TMP/run.out"
tb_check "... and the program never ran" test ! -e "$TB_TMP/ran"
usermod -a -G "$GROUP" "$TB_USER"
run bygroup
tb_check "once a member of the group, the user gets a session" [ "$?" = 0 ]
gpasswd -d "$TB_USER" "$GROUP" >/dev/null
run admins
tb_check "users and groups: neither matches, refused" [ "$?" = 125 ]
tb_check "... naming both" grep -q "user nobody, group ldm-admin-test" "$TB_TMP/run.out"
run nobody
tb_check "users = [ ]: nobody may use it" [ "$?" = 125 ]
run bynme
tb_check "a misspelt policy is refused with exit 125" [ "$?" = 125 ]
tb_check "... with a suggestion and the list of policies" \
	grep -q "did you mean 'byname'? Available: admins, bygroup, byname, nobody" "$TB_TMP/run.out"
tb_check "the refusals are logged by the daemon" \
	grep -q "may be used only by" "$TB_TMP/daemon.out"

tb_summary test_access
