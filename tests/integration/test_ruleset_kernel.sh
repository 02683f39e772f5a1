#!/bin/bash
# The ruleset against the real kernel: ldm-ruleset's text is committed with
# iptables-restore --noflush / ip6tables-restore --noflush inside a network namespace of our
# own, read back with iptables-save and checked: chains, rule counts, jumps first, stale
# chains deleted, the removal text leaves nothing. A few UDP datagrams to loopback inside the
# namespace prove that the cgroup matches and the session chain's verdict paths work.
# Nothing here touches the host's network namespace or firewall.
#
# Usage: tests/integration/test_ruleset_kernel.sh [BUILD_DIR]   (root; exit 77 to skip)
# LDMT_KEEP=1 keeps the generated texts and iptables-save outputs for a look.
set -u

B=${1:-build}
. "$(dirname "$0")/lib.sh"
TOOL=$B/tests/tools/ldm-ruleset
# Named like lib.sh's test bed, so that tb_sweep_stale finds them after a kill -9.
NS=$TB_ID-rs
CGNAME=$TB_ID-rs

tb_require_root
tb_require_cmd ip nsenter iptables-restore ip6tables-restore iptables-save ip6tables-save
tb_sweep_stale
if [ ! -x "$TOOL" ]; then
	echo "ruleset_kernel: $TOOL missing: run make tools first"
	exit 1
fi

# The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid).
CG2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5;
	break } }' /proc/self/mountinfo | head -n 1)
[ -n "$CG2" ] || tb_skip "no cgroup2 mount"
ROOT=$CG2/$CGNAME
TMP=

cleanup() {
	ip netns del "$NS" 2>/dev/null
	for d in "$ROOT/s2" "$ROOT/s1" "$ROOT"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	if [ -n "$TMP" ] && [ -n "${LDMT_KEEP:-}" ]; then
		echo "ruleset_kernel: texts and saves kept in $TMP"
	elif [ -n "$TMP" ]; then
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$NS" || tb_skip "cannot create a network namespace"
mkdir "$ROOT" "$ROOT/s1" "$ROOT/s2" || tb_skip "cannot create cgroups under $CG2"
TMP=$(mktemp -d) || exit 1

N() {
	nsenter --net="/run/netns/$NS" "$@"
}

check() { tb_check "$@"; }

N ip link set lo up || tb_skip "cannot bring up lo in $NS"

cat >"$TMP/p.conf" <<'EOF'
name = "ruleset-kernel";
allow = (
  { proto = "udp"; to = "lan"; ports = "14550-14560"; comment = "MAVLink" },
  { proto = "udp"; from = "lan"; direction = "in"; ports = "14550" },
  { proto = "tcp"; to = "192.168.42.1";
    ports = "1,2,3,4,5,6,7,8,10-11,12-13,20-30,40,41,42,43,44,45" },
  { proto = "udp"; to = "loopback"; ports = "9" },
  { proto = "icmp"; to = "private" },
  { proto = "any"; to = "broadcast"; ports = "6000" },
  { proto = "tcp"; host = "tiles.example.org"; ports = "443" }
);
deny = ( { to = "192.168.1.1"; comment = "the hotel router" },
         { proto = "udp"; to = "2001:db8::/32" } );
EOF

# The lines of table $1 in iptables-save or iptables-restore text on stdin.
table_of() {
	awk -v t="*$1" '$0 == t { on = 1; next } /^COMMIT/ { on = 0 } on'
}

# The LDM- chains a restore text leaves: those declared and not deleted with -X.
text_chains() {
	local decl del
	decl=$(table_of "$1" <"$2" | sed -n 's/^:\(LDM-[^ ]*\) .*/\1/p' | sort)
	del=$(table_of "$1" <"$2" | sed -n 's/^-X \(LDM-[^ ]*\)$/\1/p' | sort)
	comm -23 <(echo "$decl") <(echo "$del") | sed '/^$/d'
}

save_chains() {
	table_of "$1" <"$2" | sed -n 's/^:\(LDM-[^ ]*\) .*/\1/p' | sort
}

# "count chain" per LDM- chain with rules.
rule_counts() {
	table_of "$1" <"$2" | sed -n 's/^-A \(LDM-[^ ]*\) .*/\1/p' | sort | uniq -c
}

# Is "-A BUILTIN -j CHAIN" the first rule of BUILTIN, and there once?
jump_first() { # save-file table builtin chain
	local first n
	first=$(table_of "$2" <"$1" | grep "^-A $3 " | head -n 1)
	n=$(table_of "$2" <"$1" | grep -c -x -- "-A $3 -j $4")
	[ "$first" = "-A $3 -j $4" ] && [ "$n" -eq 1 ]
}

no_jump() { # save-file table builtin chain
	! table_of "$2" <"$1" | grep -q -- "-j $4\$"
}

# Does the committed state in $2 (save) match what text $1 says, table by table?
matches_text() {
	local t
	for t in mangle filter; do
		[ "$(text_chains $t "$1")" = "$(save_chains $t "$2")" ] || return 1
		[ "$(rule_counts $t "$1")" = "$(rule_counts $t "$2")" ] || return 1
	done
}

jumps_first() {
	jump_first "$1" mangle OUTPUT LDM-OUT && jump_first "$1" mangle POSTROUTING LDM-POST &&
		jump_first "$1" filter OUTPUT LDM-GUARD
}

# The LDM- chain names in save file $2's table $1, as --old-$1 options.
old_opts() {
	save_chains "$1" "$2" | sed "s/^/--old-$1 /"
}

# pkts of rule $3 (1-based) of chain $2 in mangle, family $1.
pkts() {
	N "$1" -w -t mangle -L "$2" -v -n -x | awk -v r="$3" 'NR == r + 2 { print $1 }'
}

# Sends one UDP datagram to loopback port $3 from a process in cgroup $2, family $1.
send_from() {
	local dst=127.0.0.1
	[ "$1" = 6 ] && dst=::1
	bash -c 'echo $$ >"$1/cgroup.procs" && exec nsenter --net="/run/netns/$2" \
		bash -c "echo x >/dev/udp/$3/$4" 2>/dev/null' _ "$2" "$NS" "$dst" "$3"
	return 0
}

increased() { # before after
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" -gt "$1" ]
}

traffic_checks() { # family iptables
	local f=$1 ipt=$2 a q d
	a=$(pkts "$ipt" LDM-A1 1)
	q=$(pkts "$ipt" LDM-Q1 1)
	d=$(pkts "$ipt" LDM-OUT 2)
	send_from "$f" "$ROOT/s1" 9
	check "v$f: allowed loopback datagram from the session cgroup reaches LDM-A1" \
		increased "$a" "$(pkts "$ipt" LDM-A1 1)"
	send_from "$f" "$ROOT/s1" 10
	check "v$f: other datagram from the session cgroup is queued (LDM-Q1)" \
		increased "$q" "$(pkts "$ipt" LDM-Q1 1)"
	send_from "$f" "$ROOT" 9
	check "v$f: datagram from the sandbox root cgroup hits LDM-OUT's DROP" \
		increased "$d" "$(pkts "$ipt" LDM-OUT 2)"
}

gen() { # family out-file args...
	local f=$1 out=$2
	shift 2
	"$TOOL" --family "$f" --root "$CGNAME" --lan 192.168.144.0/24@veth-drone \
		--lan 2001:db8:144::/64@veth-drone --queue 7 "$@" >"$out"
}

commit() { # restore-command text-file
	N "$1" --noflush <"$2"
}

foreign_rules() { # iptables: rules of someone else, first in each built-in chain
	N "$1" -w -t mangle -I OUTPUT 1 -m comment --comment ldmt-foreign &&
		N "$1" -w -t mangle -I POSTROUTING 1 -m comment --comment ldmt-foreign &&
		N "$1" -w -t filter -I OUTPUT 1 -m comment --comment ldmt-foreign
}

foreign_kept() { # save-file
	[ "$(grep -c -- '--comment ldmt-foreign' "$1")" -eq 3 ]
}

run_family() { # 4|6
	local f=$1 ipt=iptables d=$TMP/v$1
	[ "$f" = 6 ] && ipt=ip6tables
	mkdir -p "$d"

	check "v$f: session state generated" \
		gen "$f" "$d/1.rules" --policy "$TMP/p.conf" --cgroup "$CGNAME/s1" --slot 1
	check "v$f: session state committed" commit "$ipt-restore" "$d/1.rules"
	N "$ipt-save" >"$d/1.save"
	check "v$f: chains and rule counts as generated" matches_text "$d/1.rules" "$d/1.save"
	check "v$f: jumps inserted first" jumps_first "$d/1.save"

	gen "$f" "$d/1b.rules" --policy "$TMP/p.conf" --cgroup "$CGNAME/s1" --jump ok \
		$(old_opts mangle "$d/1.save") $(old_opts filter "$d/1.save")
	check "v$f: same state committed again" commit "$ipt-restore" "$d/1b.rules"
	N "$ipt-save" >"$d/1b.save"
	check "v$f: declaring a chain flushes it (no duplicate rules)" \
		matches_text "$d/1b.rules" "$d/1b.save"
	check "v$f: jumps still first and single" jumps_first "$d/1b.save"

	traffic_checks "$f" "$ipt"

	check "v$f: foreign rules inserted before ours" foreign_rules "$ipt"
	gen "$f" "$d/2.rules" --policy "$TMP/p.conf" --cgroup "$CGNAME/s2" --slot 2 \
		--jump not-first $(old_opts mangle "$d/1b.save") $(old_opts filter "$d/1b.save")
	check "v$f: new session, jumps not first, committed" commit "$ipt-restore" "$d/2.rules"
	N "$ipt-save" >"$d/2.save"
	check "v$f: ended session's chains deleted, new session's there" \
		matches_text "$d/2.rules" "$d/2.save"
	check "v$f: no LDM-S1 left" no_jump "$d/2.save" mangle LDM-OUT LDM-S1
	check "v$f: jumps first again" jumps_first "$d/2.save"
	check "v$f: foreign rules kept" foreign_kept "$d/2.save"

	gen "$f" "$d/3.rules" --jump ok $(old_opts mangle "$d/2.save") \
		$(old_opts filter "$d/2.save")
	check "v$f: empty state committed" commit "$ipt-restore" "$d/3.rules"
	N "$ipt-save" >"$d/3.save"
	check "v$f: only LDM-OUT, LDM-POST, LDM-GUARD left" matches_text "$d/3.rules" "$d/3.save"
	check "v$f: empty state keeps LDM-OUT's root DROP" \
		grep -q -x -- "-A LDM-OUT -m cgroup --path $CGNAME -j DROP" "$d/3.save"

	"$TOOL" --family "$f" --remove --jump ok $(old_opts mangle "$d/3.save") \
		$(old_opts filter "$d/3.save") >"$d/rm.rules"
	check "v$f: removal committed" commit "$ipt-restore" "$d/rm.rules"
	N "$ipt-save" >"$d/rm.save"
	check "v$f: no LDM- chain or jump left" eval "! grep -q LDM- '$d/rm.save'"
	check "v$f: foreign rules kept after removal" foreign_kept "$d/rm.save"

	check "v$f: a cgroup path with a blank is refused, no text" eval \
		"! gen $f '$d/bad.rules' --policy '$TMP/p.conf' --cgroup '$CGNAME/s1 -j ACCEPT' \
		2>/dev/null && [ ! -s '$d/bad.rules' ]"
}

run_family 4
run_family 6

tb_summary ruleset_kernel
