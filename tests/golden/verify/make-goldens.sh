#!/bin/bash
# Regenerates tests/golden/verify/mixed-v4.commit/.save and mixed-v6.commit/.save: the text
# ldm-ruleset writes for mixed.conf, committed in a private network namespace and read back
# with iptables-save / ip6tables-save (the tamper check's unit test compares the two).
# Root only; makes and removes a cgroup "ldmt-gold" at the cgroup2 root.
# Usage: tests/golden/verify/make-goldens.sh [BUILD_DIR]
set -eu
B=${1:-build}
D=$(dirname "$0")
NS=ldmt-gold-$$
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
trap 'ip netns del "$NS" 2>/dev/null; rmdir "$CG2/ldmt-gold/s1" "$CG2/ldmt-gold" 2>/dev/null' EXIT
ip netns add "$NS"
mkdir -p "$CG2/ldmt-gold/s1"
for f in 4 6; do
	lan=(--lan 192.168.144.0/24@veth-drone --lan 2001:db8:144::/64@veth-drone
		--lan default:0.0.0.0/0@veth-wan --lan default:::/0@veth-wan
		--lan uplink:203.0.113.0/24@veth-wan --lan local:192.168.144.1/32@
		--lan 10.9.9.0/31@wg0)
	"$B/tests/tools/ldm-ruleset" --family "$f" --root ldmt-gold --policy "$D/mixed.conf" \
		--cgroup ldmt-gold/s1 --slot 5 --queue 4242 "${lan[@]}" >"$D/mixed-v$f.commit"
	tool=iptables
	[ "$f" = 6 ] && tool=ip6tables
	ip netns exec "$NS" "$tool-restore" --noflush <"$D/mixed-v$f.commit"
	{ ip netns exec "$NS" "$tool-save" -t mangle; ip netns exec "$NS" "$tool-save" -t filter; } |
		sed -e 's/^# \(Generated\|Completed\) .*/# \1 (time removed)/' >"$D/mixed-v$f.save"
done
