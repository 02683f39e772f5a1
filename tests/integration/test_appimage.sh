#!/usr/bin/env bash
# AppImages under ldm-run, as the unprivileged test user: a type-2 AppImage (the test's
# stand-in runtime + a squashfs image made here with mksquashfs) runs inside the session,
# its traffic judged like any other (the drone reached, the internet refused and logged,
# nothing on the internet side); its extraction is cached and reused while the file is
# unchanged, made again when it changes; a type-1 AppImage and a damaged one are refused
# with exit 125, the program never run.
# Usage: test_appimage.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
NET="$BUILD/tests/tools/ldm-net"
RUN="$BUILD/ldm-run"
RUNTIME="$BUILD/tests/tools/ldm-appimage-runtime"

tb_require_cmd mksquashfs unsquashfs

tb_init
tb_policy t 'name = "t";
allow = ( { proto = "udp"; to = "lan"; ports = "14550"; comment = "MAVLink" } );'
tb_start_daemon "$BUILD" || { tb_fail "daemon starts"; tb_summary test_appimage; exit 1; }

# The AppDir: AppRun says where it runs, talks to the drone, tries to phone home.
APP="$TB_TMP/app"
mkdir -p "$APP/AppDir" "$TB_TMP/cache"
cat >"$APP/AppDir/AppRun" <<EOS
#!/bin/sh
echo "ran: APPDIR=\$APPDIR APPIMAGE=\$APPIMAGE ARGV0=\$ARGV0 args=\$*" >"$TB_TMP/out/ran"
cat /proc/self/cgroup >"$TB_TMP/out/cgroup"
$NET udp-send $DRONE4 14550 3 && echo drone-ok >>"$TB_TMP/out/ran"
$NET tcp-connect $INET4 443 2 || echo "internet-refused \$?" >>"$TB_TMP/out/ran"
exit 0
EOS
chmod 0755 "$APP/AppDir/AppRun"
make_appimage() { # OUT TYPE
	mksquashfs "$APP/AppDir" "$APP/image.sqfs" -quiet -noappend -all-root >/dev/null &&
		cat "$RUNTIME" "$APP/image.sqfs" >"$1" &&
		printf "AI\\x0$2" | dd of="$1" bs=1 seek=8 conv=notrunc status=none &&
		chmod 0755 "$1"
}
make_appimage "$APP/Ground.AppImage" 2
mkdir -p "$TB_TMP/out"
chown -R "$TB_USER" "$TB_TMP/out" "$TB_TMP/cache"
chmod o+rx "$APP"

run_appimage() {
	tb_as_user "$TB_LAP" env XDG_CACHE_HOME="$TB_TMP/cache" "$RUN" --socket "$TB_SOCK" \
		--policy t --quiet -- "$@"
}

tb_check "the stand-in is a type-2 AppImage (AI 02 at byte 8)" \
	bash -c "[ \"\$(od -An -tx1 -j8 -N3 '$APP/Ground.AppImage' | tr -d ' ')\" = 414902 ]"
tb_capture_ready "$TB_INET" veth-rtr "$TB_TMP/inet.pcap" || tb_fail "capture starts"
cap=$TB_LAST
run_appimage "$APP/Ground.AppImage" one two >"$TB_TMP/run1.out" 2>&1
tb_check "the AppImage runs under ldm-run (exit 0)" [ "$?" = 0 ]
tb_check "its AppRun ran with the runtime's environment and the arguments" \
	grep -q "^ran: APPDIR=$TB_TMP/cache/ldm/appimage/[0-9a-f]*/root APPIMAGE=$APP/Ground.AppImage ARGV0=$APP/Ground.AppImage args=one two" \
	"$TB_TMP/out/ran"
tb_check "it ran inside the session's cgroup" grep -q "^0::/.*/s[0-9]*-" "$TB_TMP/out/cgroup"
tb_check "it reached the drone" grep -q drone-ok "$TB_TMP/out/ran"
tb_check "its connection to the internet was refused" grep -q "internet-refused 1" "$TB_TMP/out/ran"
tb_check "the refusal is logged for the AppImage" \
	tb_wait 3 bash -c "grep '\"event\":\"blocked\"' '$TB_LOG' | grep -q '\"dst\":\"$INET4\",\"dport\":443'"
tb_capture_stop "$cap"
tb_check "nothing of it reached the internet side" \
	[ "$(tb_pcap_count "$TB_TMP/inet.pcap" "host 203.0.113.2 and tcp port 443")" = 0 ]

entries() { find "$TB_TMP/cache/ldm/appimage" -mindepth 1 -maxdepth 1 -type d | wc -l; }
tb_check "one cache entry, owned by the user" \
	bash -c "[ $(entries) = 1 ] && [ \"\$(stat -c %U '$TB_TMP/cache/ldm/appimage')\" = $TB_USER ]"
entry=$(find "$TB_TMP/cache/ldm/appimage" -mindepth 1 -maxdepth 1 -type d)
ino=$(stat -c %i "$entry/root/AppRun")
run_appimage "$APP/Ground.AppImage" >/dev/null 2>&1
tb_check "an unchanged AppImage is not extracted again" \
	bash -c "[ $(entries) = 1 ] && [ \"\$(stat -c %i '$entry/root/AppRun')\" = $ino ]"
touch -d '2 minutes ago' "$APP/Ground.AppImage"
run_appimage "$APP/Ground.AppImage" >/dev/null 2>&1
tb_check "a changed AppImage is extracted again" [ "$(entries)" = 2 ]

# Refusals: the program never runs.
rm -f "$TB_TMP/out/ran"
make_appimage "$APP/Old.AppImage" 1
run_appimage "$APP/Old.AppImage" >"$TB_TMP/type1.out" 2>&1
tb_check "a type-1 AppImage is refused with exit 125" [ "$?" = 125 ]
tb_check "... saying why" grep -q "type-1 AppImage" "$TB_TMP/type1.out"
head -c 200000 "$APP/Ground.AppImage" >"$APP/Cut.AppImage"
chmod 0755 "$APP/Cut.AppImage"
run_appimage "$APP/Cut.AppImage" >"$TB_TMP/cut.out" 2>&1
tb_check "a damaged AppImage is refused with exit 125" [ "$?" = 125 ]
tb_check "none of them ran" test ! -e "$TB_TMP/out/ran"

# exe_sha256 names the AppImage ldm-run hashed: gdb stops ldm-run between the hash and the
# extraction (at the session request) and another AppImage is renamed over the path. ldm-run
# refuses (125, saying so); the other one never runs.
# (The installed package's ldm-run is stripped: gdb cannot stop it there; test_deb's run of
# this file then leaves the check to the build tree's run, which CI makes too.)
if ! nm "$RUN" 2>/dev/null | grep -q ' ldm_run_session_request$'; then
	tb_log "SKIP: $RUN has no symbols (an installed, stripped build): the replaced-AppImage check runs against the build tree"
elif command -v gdb >/dev/null; then
	mkdir -p "$APP/Other"
	printf '#!/bin/sh\necho OTHER-RAN >"%s/out/other"\n' "$TB_TMP" >"$APP/Other/AppRun"
	chmod 0755 "$APP/Other/AppRun"
	mksquashfs "$APP/Other" "$APP/other.sqfs" -quiet -noappend -all-root >/dev/null
	cat "$RUNTIME" "$APP/other.sqfs" >"$APP/Other.AppImage"
	printf 'AI\x02' | dd of="$APP/Other.AppImage" bs=1 seek=8 conv=notrunc status=none
	cp "$APP/Ground.AppImage" "$APP/Swap.AppImage"
	chmod 0755 "$APP/Other.AppImage" "$APP/Swap.AppImage"
	chmod o+w "$APP"
	tb_as_user "$TB_LAP" env XDG_CACHE_HOME="$TB_TMP/cache" gdb -q -batch \
		-ex 'set pagination off' -ex 'set follow-fork-mode parent' \
		-ex 'break ldm_run_session_request' -ex run \
		-ex "shell mv $APP/Other.AppImage $APP/Swap.AppImage" -ex continue \
		--args "$RUN" --socket "$TB_SOCK" --policy t --quiet -- "$APP/Swap.AppImage" \
		</dev/null >"$TB_TMP/swap.out" 2>&1
	chmod o-w "$APP"
	tb_check "an AppImage replaced after it was hashed is refused, saying so" \
		grep -q "Swap.AppImage was replaced after ldm-run hashed it" "$TB_TMP/swap.out"
	tb_check "... and the replacement never ran" test ! -e "$TB_TMP/out/other"
elif [ "${CI:-}" = true ]; then
	tb_fail "gdb is not installed (deps.txt): the replaced-AppImage check cannot run"
else
	tb_log "SKIP: gdb is not installed: the replaced-AppImage check is skipped"
fi

tb_summary test_appimage
