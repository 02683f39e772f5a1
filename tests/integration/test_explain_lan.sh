#!/usr/bin/env bash
# ldmctl explain says which `lan` it judged by: without --lan, the on-link networks of the
# machine's routes (here the test bed's laptop: the drone's network, not the uplink's), with
# --lan the networks given. Runs ldmctl in the laptop namespace only; no daemon.
# Usage: test_explain_lan.sh BUILD_DIR
set -u
BUILD=$(cd "${1:-build}" && pwd)
. "$(dirname "$0")/lib.sh"
CTL="$BUILD/ldmctl"
POLICIES="$(cd "$(dirname "$0")/../golden/policies" && pwd)"

tb_init
explain() { tb_in "$TB_LAP" "$CTL" explain --policy-dir "$POLICIES" gcs "$@"; }

out=$(explain udp "$DRONE4:14550" 2>&1)
rc=$?
printf '%s\n' "$out" >&2
tb_check "the drone's MAVLink is allowed by the routes' lan (rc $rc)" [ "$rc" = 0 ]
lan=$(printf '%s\n' "$out" | grep '^lan: ')
tb_check "a lan line names the machine's routes ($lan)" \
	sh -c 'printf "%s\n" "$1" | grep -q "this machine'"'"'s routes"' _ "$lan"
tb_check "it lists the drone's networks" \
	sh -c 'printf "%s\n" "$1" | grep -q "192.168.144.0/24" &&
		printf "%s\n" "$1" | grep -q "2001:db8:144::/64"' _ "$lan"
tb_check "not the uplink's (it has the default route)" \
	sh -c '! printf "%s\n" "$1" | grep -q "203.0.113.0/24"' _ "$lan"

out=$(explain udp "$DRONE4:14550" --lan 10.9.0.0/16 2>&1)
rc=$?
printf '%s\n' "$out" >&2
tb_check "with --lan 10.9.0.0/16 the drone is not lan: blocked (rc $rc)" [ "$rc" = 1 ]
tb_check "and the lan line says what was given" \
	sh -c 'printf "%s\n" "$1" | grep -qx "lan: 10.9.0.0/16 (given with --lan)"' _ "$out"

tb_summary test_explain_lan
