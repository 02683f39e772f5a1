#!/usr/bin/env bash
# make vm-check: the Debian package on a stock Debian 12 laptop with systemd, in a VM.
#
# Builds or reuses the cached image (tests/vm/image.sh), makes a payload disk from this tree
# (the tracked files as they are in the work tree, the .deb, the test tools of
# build/tests/tools), boots the image under QEMU with software emulation and no network
# device, lets the image's runner install the package and run tests/vm/guest.sh, reads the
# results from a virtio serial port, prints them and a closing "vm-check: N passed, N failed"
# line, and exits non-zero on any failure (or when the guest did not run to its end).
#
# Usage: tests/vm/run.sh [DEB]   (root; DEB defaults to the newest dist/ldm-enforcer_*_amd64.deb)
# Environment: VM_CACHE (image cache, default build/vm), VM_TIMEOUT (seconds for the whole
# boot-to-poweroff, default 1500), VM_SMP (2), VM_MEM (MiB, 1536), VM_GROUPS (the guest's
# check groups to run, default all: boot unit session logout integration hardening ipc
# removal), VM_TESTS (the integration tests run in the VM, default in tests/vm/guest.sh;
# "all" for every one), VM_KEEP=1 (keep the run directory).
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
VM_TIMEOUT=${VM_TIMEOUT:-1500}
VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-1536}
VM_GROUPS=${VM_GROUPS:-}
TOOLS=$ROOT/build/tests/tools
QPID=""
TAILPID=""
RUN=""

say() { printf 'vm-check: %s\n' "$*"; }
die() {
	say "$*"
	say "0 passed, 1 failed"
	exit 1
}
now() { date +%s; }

cleanup() {
	[ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -TERM "$QPID" 2>/dev/null
		sleep 1
		kill -KILL "$QPID" 2>/dev/null
	fi
	if [ -n "$RUN" ]; then
		cp "$RUN/console.log" "$VM_CACHE/last-console.log" 2>/dev/null
		cp "$RUN/results.log" "$VM_CACHE/last-results.log" 2>/dev/null
		if [ -n "${VM_KEEP:-}" ]; then say "kept $RUN"; else rm -rf "$RUN"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (debootstrap builds the image)"
for t in qemu-system-x86_64 qemu-img mkfs.ext4 debootstrap; do
	command -v $t >/dev/null || die "$t is missing (make deps)"
done
DEB=${1:-$(ls -t dist/ldm-enforcer_*_amd64.deb 2>/dev/null | grep -v dbgsym | head -n 1)}
[ -f "$DEB" ] || die "no package: run make deb (or make vm-check, which builds it)"
for t in ldm-net ldm-hostile ldm-ruleset; do
	[ -x "$TOOLS/$t" ] || die "$TOOLS/$t is missing (make tools)"
done

t0=$(now)
IMG=$(tests/vm/image.sh "$VM_CACHE") || die "the image could not be built"
t_image=$(($(now) - t0))
say "image $IMG ($t_image s)"

t0=$(now)
mkdir -p "$VM_CACHE"
RUN=$(mktemp -d "$VM_CACHE/run.XXXXXX")
P=$RUN/payload
mkdir -p "$P/build/tests/tools"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$P" 2>/dev/null ||
	die "cannot copy the tree into the payload"
cp "$DEB" "$P/ldm-enforcer.deb"
cp "$TOOLS"/ldm-net "$TOOLS"/ldm-hostile "$TOOLS"/ldm-ruleset "$P/build/tests/tools/"
printf 'VM_GROUPS="%s"\nVM_TESTS="%s"\nCI="%s"\n' "$VM_GROUPS" "${VM_TESTS:-}" "${CI:-}" >"$P/vm.env"
chmod -R a+rX "$P"
mkfs.ext4 -q -L ldmpayload -d "$P" "$RUN/payload.img" 256M >/dev/null || die "mkfs of the payload disk"
qemu-img create -q -f qcow2 -b "$IMG/root.img" -F raw "$RUN/root.qcow2" ||
	die "qemu-img create of the overlay"
: >"$RUN/results.log"
t_payload=$(($(now) - t0))

t0=$(now)
# No network device at all (-nic none): nothing in the VM can reach a network.
qemu-system-x86_64 -name ldm-vm -machine pc,accel=tcg -cpu max -smp "$VM_SMP" -m "$VM_MEM" \
	-display none -monitor none -serial "file:$RUN/console.log" -nic none -no-reboot \
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 quiet loglevel=4 panic=-1" \
	-drive "file=$RUN/root.qcow2,if=virtio,format=qcow2" \
	-drive "file=$RUN/payload.img,if=virtio,format=raw,readonly=on" \
	-device virtio-serial-pci -chardev "file,id=res,path=$RUN/results.log" \
	-device virtserialport,chardev=res,name=ldm.results \
	-device virtio-rng-pci >"$RUN/qemu.out" 2>&1 &
QPID=$!
say "booting (qemu pid $QPID, TCG, $VM_SMP vCPUs, $VM_MEM MiB, at most $VM_TIMEOUT s)"
tail -n +1 -f --pid="$QPID" "$RUN/results.log" &
TAILPID=$!
timed_out=""
while kill -0 "$QPID" 2>/dev/null; do
	if [ $(($(now) - t0)) -ge "$VM_TIMEOUT" ]; then
		timed_out=1
		kill -TERM "$QPID" 2>/dev/null
		sleep 2
		kill -KILL "$QPID" 2>/dev/null
		break
	fi
	sleep 1
done
wait "$QPID" 2>/dev/null
qrc=$?
QPID=""
sleep 0.5
kill "$TAILPID" 2>/dev/null
wait "$TAILPID" 2>/dev/null
TAILPID=""
t_vm=$(($(now) - t0))

R=$RUN/results.log
echo
say "phases: image $t_image s, payload $t_payload s, boot to poweroff $t_vm s"
grep '^TIME ' "$R" | sed 's/^TIME /vm-check: guest phase /'
if ! grep -q '^vm-guest: finished' "$R"; then
	if [ -n "$timed_out" ]; then
		echo "FAIL the VM powered off within $VM_TIMEOUT s" >>"$R"
	else
		echo "FAIL the guest ran its checks to the end (qemu exit $qrc)" >>"$R"
	fi
	say "last lines of the serial console:"
	tail -n 40 "$RUN/console.log" | sed 's/^/    /'
	[ -s "$RUN/qemu.out" ] && sed 's/^/    qemu: /' "$RUN/qemu.out"
fi
passed=$(grep -c '^PASS ' "$R")
failed=$(grep -c '^FAIL ' "$R")
if [ "$failed" != 0 ]; then
	if grep '^FAIL ' "$R" | grep -qv '^FAIL \[ipc\]'; then
		say "failed checks:"
		grep '^FAIL ' "$R" | grep -v '^FAIL \[ipc\]' | sed 's/^/    /'
	fi
	if grep -q '^FAIL \[ipc\]' "$R"; then
		say "failed [ipc] checks (a session's local IPC to the user's systemd and other" \
			"helpers outside it; the connect() mediation of ldm-run should have stopped these):"
		grep '^FAIL \[ipc\]' "$R" | sed 's/^/    /'
	fi
fi
say "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
