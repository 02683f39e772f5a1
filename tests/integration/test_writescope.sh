#!/bin/bash
# The write scope and fds 0-2, attacked from inside a session as a hostile app would: an
# unprivileged user with a real home directory (ldmpilot, made here; its home is seeded
# anew each run and removed on exit) tries to plant hooks that would run outside any
# session (~/.bashrc, ~/.profile, autostart entries, user units, menu entries), to move or
# link files out of its allowed directories, to truncate files outside its scope. Each
# attack is judged from outside: a checksum of the target before and after, and the log.
# Also: what is allowed still works (the policy's directories, /tmp, /dev/null, reading),
# a socket on stdin makes ldm-run refuse (exit 125, the program never runs), and so does a
# kernel without Landlock (forced with the LDM_RUN_TEST_LANDLOCK_ABI test hook).
#
# Usage: tests/integration/test_writescope.sh [BUILD_DIR]. Needs root.
set -u

B=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case $B in /*) ;; *) B=$ROOT/$B ;; esac
. "$ROOT/tests/integration/lib.sh"

PILOT=ldmpilot
PHOME=/home/$PILOT
MADE_USER=

ws_cleanup() {
	# Only what this test made: the pilot's home, and the user if it was made here.
	rm -rf -- "$PHOME"
	[ -n "$MADE_USER" ] && userdel "$PILOT" 2>/dev/null
	tb_cleanup
}

tb_init
trap ws_cleanup EXIT
# The system's python: a root-only shim (pyenv) earlier in PATH is out of the pilot's reach.
PY=/usr/bin/python3
for t in setpriv useradd unshare $PY sha256sum truncate; do
	command -v $t >/dev/null || { tb_log "$t is missing"; exit 1; }
done
if ! id "$PILOT" >/dev/null 2>&1; then
	useradd --system --home-dir "$PHOME" --no-create-home --shell /bin/sh "$PILOT" || exit 1
	MADE_USER=1
fi
[ "$(getent passwd "$PILOT" | cut -d: -f6)" = "$PHOME" ] || {
	tb_log "$PILOT exists with another home directory"
	exit 1
}

# The pilot's home as a desktop session leaves it.
seed_home() {
	rm -rf -- "$PHOME"
	mkdir -p "$PHOME"/.config/autostart "$PHOME"/.config/systemd/user \
		"$PHOME"/.local/share/applications "$PHOME"/.config/QGroundControl.org
	printf '# bashrc\nalias ll="ls -l"\n' >"$PHOME/.bashrc"
	printf '# profile\n' >"$PHOME/.profile"
	printf '[General]\nkey=1\n' >"$PHOME/.config/QGroundControl.org/QGroundControl.ini"
	printf 'precious\n' >"$PHOME/.config/QGroundControl.org/keep.txt"
	chown -R "$PILOT:$PILOT" "$PHOME"
	chmod 0750 "$PHOME"
}

# A checksum of every file below the home directory, with names: any change shows.
home_sum() {
	(cd "$PHOME" && find . -path ./Documents -prune -o -path ./.config/QGroundControl.org \
		-prune -o -print0 | sort -z | xargs -0 -r stat -c '%n %F %s %i' &&
		find . -path ./Documents -prune -o -path ./.config/QGroundControl.org -prune -o \
			-type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum
}

# as_pilot ENV... -- COMMAND...: runs COMMAND as the pilot in the laptop namespace, in
# the home directory.
as_pilot() {
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	(cd "$PHOME" && env ASAN_OPTIONS="detect_leaks=0" HOME="$PHOME" "${envs[@]}" \
		nsenter --net="/run/netns/$TB_LAP" -- setpriv --reuid="$PILOT" --regid="$PILOT" \
		--clear-groups --inh-caps=-all --bounding-set=-all -- "$@")
}

# in_session POLICY SCRIPT [ENV...]: runs sh -c SCRIPT under ldm-run as the pilot; its
# exit code is ldm-run's.
in_session() {
	local policy=$1 script=$2
	shift 2
	as_pilot "$@" -- "$B/ldm-run" --socket "$TB_SOCK" --quiet --policy "$policy" -- \
		sh -c "$script"
}

tb_policy pilot 'description = "write scope test";
write = [ "%h/.config/QGroundControl.org", "%h/Documents/QGroundControl", "/tmp" ];'
tb_policy pilotdefault 'description = "no write setting: the default scope";'
# An entry nested in another: the app can redirect it with a symlink inside the outer one.
tb_policy pilotnest 'write = [ "%h/Documents/QGroundControl",
	"%h/Documents/QGroundControl/Cache/systemd" ];'
tb_start_daemon "$B" || exit 1

# attack NAME SCRIPT: SCRIPT (run in a session of each policy) must fail, the home must be
# byte-identical afterwards, and the policy's own files too.
attack() {
	local name=$1 script=$2 policy before after kb ka
	for policy in pilot pilotdefault; do
		seed_home
		before=$(home_sum)
		kb=$(sha256sum "$PHOME/.config/QGroundControl.org/keep.txt")
		in_session "$policy" "$script" >"$TB_TMP/attack.out" 2>&1
		local rc=$?
		after=$(home_sum)
		ka=$(sha256sum "$PHOME/.config/QGroundControl.org/keep.txt" 2>&1)
		if [ "$rc" != 0 ] && [ "$before" = "$after" ] && [ "$kb" = "$ka" ]; then
			tb_pass "$name ($policy): refused, files unchanged"
		else
			tb_fail "$name ($policy): rc $rc, home $([ "$before" = "$after" ] && echo same ||
				echo CHANGED), keep.txt $([ "$kb" = "$ka" ] && echo same || echo CHANGED)"
			sed 's/^/    /' "$TB_TMP/attack.out"
		fi
	done
}

attack "append to ~/.bashrc" 'echo "curl http://198.51.100.82/x" >>"$HOME/.bashrc"'
attack "append to ~/.profile" 'echo "export LD_PRELOAD=$HOME/.cache/h.so" >>"$HOME/.profile"'
attack "create ~/.config/autostart/x.desktop" \
	'printf "[Desktop Entry]\nExec=sh\n" >"$HOME/.config/autostart/x.desktop"'
attack "create ~/.config/systemd/user/x.service" \
	'printf "[Service]\nExecStart=/bin/sh\n" >"$HOME/.config/systemd/user/x.service"'
attack "create ~/.local/share/applications/x.desktop" \
	'printf "[Desktop Entry]\nExec=QGroundControl\n" >"$HOME/.local/share/applications/x.desktop"'
attack "mkdir ~/.config/environment.d" 'mkdir "$HOME/.config/environment.d"'
attack "rename a file of the allowed directory out of it" \
	'mv -f "$HOME/.config/QGroundControl.org/keep.txt" "$HOME/keep.txt"'
attack "rename ~/.bashrc away" 'mv -f "$HOME/.bashrc" /tmp/bashrc.$$'
attack "rename a /tmp file over ~/.profile" \
	'echo evil >/tmp/p.$$ && mv -f /tmp/p.$$ "$HOME/.profile"'
attack "truncate(1) of ~/.bashrc" 'truncate -s 0 "$HOME/.bashrc"'
attack "truncate(2) of ~/.bashrc" \
	'/usr/bin/python3 -c "import os,sys; os.truncate(sys.argv[1], 0)" "$HOME/.bashrc"'
attack "open(O_RDONLY|O_TRUNC) of ~/.bashrc" \
	'/usr/bin/python3 -c "import os,sys; os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC)" "$HOME/.bashrc"'
attack "open(O_WRONLY|O_RDWR|O_TRUNC) (access mode 3) of ~/.bashrc" \
	'/usr/bin/python3 -c "import os,sys; os.open(sys.argv[1], os.O_WRONLY | os.O_RDWR | os.O_TRUNC)" "$HOME/.bashrc"'
attack "openat2(O_RDONLY|O_TRUNC) of ~/.bashrc" \
	'/usr/bin/python3 -c "import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
how = ctypes.create_string_buffer(struct.pack(\"QQQ\", os.O_RDONLY | os.O_TRUNC, 0, 0))
sys.exit(0 if libc.syscall(437, -100, sys.argv[1].encode(), how, 24) >= 0 else 1)" "$HOME/.bashrc"'
attack "truncate(2) through a symlink in /tmp" \
	'ln -sf "$HOME/.bashrc" /tmp/t.$$ &&
	 /usr/bin/python3 -c "import os,sys; os.truncate(sys.argv[1], 0)" /tmp/t.$$'
attack "unlink ~/.profile" 'rm -f "$HOME/.profile" && test ! -e "$HOME/.profile"'
attack "hard link out of the allowed directory" \
	'ln "$HOME/.config/QGroundControl.org/keep.txt" "$HOME/.config/autostart/k"'
attack "hard link ~/.bashrc into the allowed directory, then write" \
	'ln "$HOME/.bashrc" "$HOME/.config/QGroundControl.org/b" &&
	 echo evil >>"$HOME/.config/QGroundControl.org/b"'
attack "hard link ~/.bashrc into /tmp, then write" \
	'ln "$HOME/.bashrc" /tmp/b.$$ && echo evil >>/tmp/b.$$'
attack "symlink into autostart" 'ln -s /tmp/x.desktop "$HOME/.config/autostart/x.desktop"'
attack "write through a symlink planted in /tmp" \
	'ln -sf "$HOME/.bashrc" /tmp/s.$$ && echo evil >>/tmp/s.$$'

# A symlink planted in one session must not widen the next: the app replaces a directory
# inside its scope by a link to ~/.config, so that the nested entry .../Cache/systemd
# would mean ~/.config/systemd, where user units live.
seed_home
mkdir -p "$PHOME/Documents/QGroundControl/Cache/systemd"
chown -R "$PILOT:$PILOT" "$PHOME/Documents"
before=$(home_sum)
in_session pilotnest 'rm -rf "$HOME/Documents/QGroundControl/Cache" &&
	ln -s "$HOME/.config" "$HOME/Documents/QGroundControl/Cache"' >/dev/null 2>&1
in_session pilotnest 'mkdir -p "$HOME/Documents/QGroundControl/Cache/systemd/user" &&
	printf "[Service]\nExecStart=/bin/sh\n" \
	>"$HOME/Documents/QGroundControl/Cache/systemd/user/x.service"' >"$TB_TMP/nest.out" 2>&1
rc=$?
tb_check "a nested entry redirected by a planted symlink grants nothing (rc $rc)" \
	test "$rc" != 0 -a ! -e "$PHOME/.config/systemd/user/x.service" -a "$before" = "$(home_sum)"

# Refused writes are in the log, with their paths (the supervisor names them; Landlock
# refuses them).
logged() { [ "$(tb_log_count '"event":"syscall_denied"' "\"path\":\"$1\"" "$2")" -ge 1 ]; }
tb_check "log: append to ~/.bashrc" tb_wait 3 logged "$PHOME/.bashrc" '"syscall":"open'
tb_check "log: ~/.config/autostart/x.desktop" \
	tb_wait 3 logged "$PHOME/.config/autostart/x.desktop" '"errno":13'
tb_check "log: rename out of the allowed directory" \
	tb_wait 3 logged "$PHOME/keep.txt" '"syscall":"rename'
tb_check "log: truncate(2)" tb_wait 3 logged "$PHOME/.bashrc" '"syscall":"truncate"'
tb_check "log: the records name the session's policy" \
	tb_wait 3 logged "$PHOME/.profile" '"policy":"pilotdefault"'

# What the scope allows.
seed_home
before=$(home_sum)
tb_check "the policy's directories, /tmp and /dev/null are writable" in_session pilot '
	set -e
	echo x >"$HOME/.config/QGroundControl.org/new.ini"
	mkdir -p "$HOME/Documents/QGroundControl/Missions"
	echo m >"$HOME/Documents/QGroundControl/Missions/a.plan"
	mv "$HOME/Documents/QGroundControl/Missions/a.plan" "$HOME/.config/QGroundControl.org/a"
	rm "$HOME/.config/QGroundControl.org/a"
	echo t >/tmp/ws.$$ && rm /tmp/ws.$$
	echo n >/dev/null'
tb_check "... and the home outside them is unchanged" test "$before" = "$(home_sum)"
tb_check "log: no record for writes inside the scope" \
	test "$(tb_log_count '"event":"syscall_denied"' "QGroundControl.org/new.ini")" = 0
tb_check "ldm-run created the missing policy directory, owned by the user" \
	test "$(stat -c %U "$PHOME/Documents/QGroundControl")" = "$PILOT"
tb_check "the default scope: /tmp, /var/tmp, /dev/shm, /dev/null writable" \
	in_session pilotdefault 'set -e; for d in /tmp /var/tmp /dev/shm; do
		echo t >$d/ws.$$; rm $d/ws.$$; done; echo n >/dev/null'
tb_check "reading is unaffected: cat" in_session pilot 'cat "$HOME/.bashrc" /etc/passwd >/dev/null'
tb_check "reading is unaffected: python3 -c 'import json'" \
	in_session pilot 'python3 -c "import json, sys; json.dumps(sys.path)"'

# A process the program leaves behind: its writes still work where allowed, and are
# still logged where refused (a keeper serves the listener after ldm-run returns).
seed_home
before=$(home_sum)
rm -f /tmp/ws-bg.$$
# (The 1 s sleep is what is tested: the process writes after ldm-run has returned.)
tb_check "a background process outlives the program: ldm-run returns" \
	in_session pilot "(sleep 1; echo bg >/tmp/ws-bg.$$; echo evil >>\$HOME/.tmux.conf) \
		>/dev/null 2>&1 &"
tb_check "... its write to /tmp works afterwards" tb_wait 5 test -s /tmp/ws-bg.$$
tb_check "... its write to the home is refused and logged" \
	tb_wait 5 logged "$PHOME/.tmux.conf" '"syscall":"open'
tb_check "... and the home is unchanged" test "$before" = "$(home_sum)"
rm -f /tmp/ws-bg.$$

# Older kernels' domains, forced down with the test hook (it can only lower the ABI).
for abi in 1 2; do
	seed_home
	before=$(home_sum)
	in_session pilot 'echo x >>"$HOME/.bashrc"; /usr/bin/python3 -c "import os, sys
os.truncate(sys.argv[1], 0)" "$HOME/.profile"; echo y >"$HOME/.config/QGroundControl.org/n"' \
		LDM_RUN_TEST_LANDLOCK_ABI=$abi >/dev/null 2>&1
	tb_check "ABI $abi domain: append, truncate(2) refused, allowed directory written" \
		test "$before" = "$(home_sum)" -a -s "$PHOME/.config/QGroundControl.org/n"
done

# No Landlock: refused, never a silent downgrade.
seed_home
rm -f "$TB_TMP/out/ran"
out=$(in_session pilotdefault "touch $TB_TMP/out/ran" LDM_RUN_TEST_LANDLOCK_ABI=0 2>&1)
rc=$?
tb_check "no Landlock: exit 125" test "$rc" = 125
tb_check "no Landlock: the program never ran" test ! -e "$TB_TMP/out/ran"
tb_check "no Landlock: one line saying why" \
	sh -c 'printf "%s\n" "$1" | grep -q "no Landlock" && [ "$(printf "%s\n" "$1" | wc -l)" = 1 ]' \
	_ "$out"
out=$(in_session pilot true LDM_RUN_TEST_LANDLOCK_ABI=99 2>&1)
tb_check "the test hook cannot raise the ABI" test $? = 0

# fds 0-2: sockets made outside the session.
stdio_case() {
	local name=$1 redir=$2
	rm -f "$TB_TMP/out/ran"
	as_pilot -- bash -c "$redir
		exec '$B/ldm-run' --socket '$TB_SOCK' --quiet --policy pilotdefault -- touch '$TB_TMP/out/ran'" \
		>"$TB_TMP/stdio.out" 2>"$TB_TMP/stdio.err"
	local rc=$?
	# With stderr on the socket, the reason goes there: the one line is checked elsewhere.
	if [ "$rc" = 125 ] && [ ! -e "$TB_TMP/out/ran" ] &&
		[ "$(wc -l <"$TB_TMP/stdio.err")" = "${3:-1}" ] &&
		{ [ "${3:-1}" = 0 ] || grep -q "(fd [0-2]) is a" "$TB_TMP/stdio.err"; }; then
		tb_pass "$name: exit 125, not run ($(cat "$TB_TMP/stdio.err"))"
	else
		tb_fail "$name: rc $rc, ran: $([ -e "$TB_TMP/out/ran" ] && echo yes || echo no)"
		sed 's/^/    /' "$TB_TMP/stdio.err"
	fi
}
tb_in "$TB_LAP" $PY -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 47001)); s.listen(8)
time.sleep(60)' &
TB_PIDS+=($!)
tb_wait 5 tb_in "$TB_LAP" sh -c 'ss -ltn | grep -q 47001'
stdio_case "TCP socket on stdin" 'exec 0<>/dev/tcp/127.0.0.1/47001'
stdio_case "UDP socket on stdout" 'exec 1<>/dev/udp/127.0.0.1/9'
stdio_case "TCP socket on stderr" 'exec 2<>/dev/tcp/127.0.0.1/47001' 0
rm -f "$TB_TMP/out/ran"
as_pilot -- $PY -c '
import os, socket, sys
a, b = socket.socketpair()
os.dup2(a.fileno(), 0)
os.execv(sys.argv[1], sys.argv[1:])' "$B/ldm-run" --socket "$TB_SOCK" --quiet --policy pilotdefault \
	-- touch "$TB_TMP/out/ran" 2>"$TB_TMP/stdio.err"
rc=$?
tb_check "AF_UNIX socketpair on stdin: exit 125, not run" \
	test "$rc" = 125 -a ! -e "$TB_TMP/out/ran" || sed 's/^/    /' "$TB_TMP/stdio.err"
tb_check "pipe, file, /dev/null on 0-2 are fine" as_pilot -- sh -c "echo hi |
	'$B/ldm-run' --socket '$TB_SOCK' --quiet --policy pilot -- cat >/tmp/ws-out.\$\$ 2>/dev/null &&
	rm /tmp/ws-out.\$\$"

# journald's stream socket: in a private mount namespace, a listener at the path systemd
# uses; ldm-run's stdout and stderr connected to it.
rm -f "$TB_TMP/out/ran"
nsenter --net="/run/netns/$TB_LAP" -- unshare --mount --propagation private -- sh -c '
	mount -t tmpfs -o mode=0755 none /run || exit 3
	mkdir -p /run/systemd/journal
	/usr/bin/python3 -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(\"/run/systemd/journal/stdout\"); s.listen(4)
os.chmod(\"/run/systemd/journal/stdout\", 0o666)
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX); c.connect(\"/run/systemd/journal/stdout\")
    os.dup2(c.fileno(), 1); os.dup2(c.fileno(), 2)
    os.execvp(sys.argv[1], sys.argv[1:])
conn, _ = s.accept()
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
" "$@"' _ env ASAN_OPTIONS=detect_leaks=0 setpriv --reuid="$PILOT" --regid="$PILOT" --clear-groups --inh-caps=-all \
	--bounding-set=-all -- "$B/ldm-run" --socket "$TB_SOCK" --quiet --policy pilot -- \
	touch "$TB_TMP/out/ran" 2>"$TB_TMP/journal.err"
rc=$?
[ "$rc" = 0 ] || sed 's/^/    /' "$TB_TMP/journal.err"
tb_check "journald's stream socket on stdout/stderr is accepted (rc $rc)" \
	test "$rc" = 0 -a -e "$TB_TMP/out/ran"

tb_summary test_writescope
