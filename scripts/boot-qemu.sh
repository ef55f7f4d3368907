#!/bin/bash
# Boot a kernel and initramfs in QEMU with a hard wall-clock limit, serial
# console to LOGFILE. Exit 0 when QEMU ended by itself (the guest powered off
# or panicked, see the log), 124 when the limit killed it, 125 when the
# guest printed nothing within SILENCE seconds, 126 when it did not power
# off within POWEROFF_WAIT (30) seconds after its runner finished.
# Usage: scripts/boot-qemu.sh ARCH IMAGE INITRD LOGFILE
# Env: SMP (2), MEM (MiB, 1024), ACCEL (auto|kvm|tcg), TIMEOUT (s, 900),
#      SILENCE (s, 120), APPEND (extra kernel command line), QEMU_CMD (where
#      the command is written, default LOGFILE's directory/qemu-cmd), DRYRUN
#      (1: write it, do not boot), POWEROFF_WAIT (s, 30)
set -eu
. "$(dirname "$0")/lib.sh"

arch=$1 image=$2 initrd=$3 logfile=$4
arch_conf "$arch"
command -v "$QEMU" >/dev/null || die "$QEMU not found (run scripts/deps.sh)"
mem=${MEM:-1024} accel=${ACCEL:-auto} limit=${TIMEOUT:-900}


# qemu_cmd ACCEL CPU: the guest's QEMU command, in the array cmd. The
# options and the command line a LAVA job gives the guest too
# (guest_qemu_options, guest_cmdline: scripts/lib.sh).
qemu_cmd() {
	cmd=("$QEMU" -machine "$QEMU_MACHINE" -cpu "$2" $(guest_qemu_options) $1 -m "$mem"
	     -display none -monitor none -serial stdio -kernel "$image" -initrd "$initrd"
	     -append "$(guest_cmdline)")
}

# KVM only after a short boot proves it works: on nested setups /dev/kvm can
# exist while guests never get past the firmware. The probe boots this
# guest under KVM for 20 s and looks for the kernel's or the runner's first
# words. The verdict is cached.
kvm_works() {
	local stamp=$CACHE/kvm-probe-$arch-$(uname -r)
	[ "$arch" = "$(uname -m | sed 's/aarch64/arm64/')" ] && [ -w /dev/kvm ] || return 1
	if [ ! -e "$stamp" ]; then
		log "probing KVM (20 s at most)"
		mkdir -p "$CACHE"
		qemu_cmd "-accel kvm" host
		if timeout --foreground 20 "${cmd[@]}" </dev/null 2>&1 | grep -a -q -m1 -e 'Linux version' -e 'TAP version'; then
			echo yes >"$stamp"
		else
			echo no >"$stamp"
		fi
		log "KVM: $(cat "$stamp")"
	fi
	[ "$(cat "$stamp")" = yes ]
}

case $accel in
kvm) accel_args="-accel kvm" ;;
tcg) accel_args="-accel tcg,thread=multi" ;;
auto) if kvm_works; then accel_args="-accel kvm"; else accel_args="-accel tcg,thread=multi"; fi ;;
*) die "ACCEL must be auto, kvm or tcg" ;;
esac
# Under KVM the guest gets the host's CPU, without the TCG-only properties
# of qemu/ARCH.conf's (pauth-impdef).
cpu=$QEMU_CPU
if [ "$accel_args" = "-accel kvm" ]; then
	case $cpu in max | max,*) cpu=host ;; esac
fi
qemu_cmd "$accel_args" "$cpu"
# The command as a runnable artifact (rcutorture's qemu-cmd): QEMU_CMD,
# default qemu-cmd beside the log. DRYRUN=1 stops here.
qcmd=${QEMU_CMD:-$(dirname "$logfile")/qemu-cmd}
{
	echo "#!/bin/sh"
	echo "# scripts/boot-qemu.sh: ARCH=$arch ACCEL=$accel SMP=${SMP:-2} MEM=$mem TIMEOUT=$limit"
	echo "# the serial console goes to stdout (here: $logfile)"
	printf '%q ' "${cmd[@]}"
	echo
} >"$qcmd.tmp"
chmod +x "$qcmd.tmp"
mv "$qcmd.tmp" "$qcmd"
if [ "${DRYRUN:-0}" = 1 ]; then
	log "DRYRUN=1: not booted; the command is in $qcmd"
	exit 0
fi
# A kernel that prints nothing at all within SILENCE seconds (not a kernel
# for this machine, or without a driver for $CONSOLE) is stopped then, not
# after the whole TIMEOUT: exit 125.
silence=${SILENCE:-120}
# --foreground: timeout(1) and QEMU stay in our process group, so that an
# interruption of the run (Ctrl-C, a kill of its process group) reaches
# QEMU too; without it timeout makes a group of its own, and a killed run
# left its guest running for up to TIMEOUT. A signal to this script alone
# stops QEMU as well.
timeout --foreground --kill-after=10 "$limit" "${cmd[@]}" </dev/null >"$logfile" 2>&1 &
qpid=$! t0=$SECONDS
trap 'die_of INT "$qpid"' INT
trap 'die_of TERM "$qpid"' TERM
trap 'die_of HUP "$qpid"' HUP
while kill -0 "$qpid" 2>/dev/null && [ ! -s "$logfile" ] && [ $((SECONDS - t0)) -lt "$silence" ]; do
	sleep 1
done
if kill -0 "$qpid" 2>/dev/null && [ ! -s "$logfile" ]; then
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	warn "the guest printed nothing on its console ($CONSOLE) within $silence s: not a kernel for $arch, or no console driver for $CONSOLE built in"
	exit 125
fi
# Once the runner has powered off, QEMU must end soon: a guest that does
# not (a CPU stuck for good, say after an oops) is killed after
# POWEROFF_WAIT seconds: exit 126.
off_wait=${POWEROFF_WAIT:-30} off=
while kill -0 "$qpid" 2>/dev/null; do
	sleep 1
	if [ -z "$off" ] && grep -a -q -E '^~[0-9a-f]{24} # runner: powering off' "$logfile"; then
		off=$SECONDS
	fi
	if [ -n "$off" ] && [ $((SECONDS - off)) -ge "$off_wait" ]; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
		warn "the guest did not power off within $off_wait s after its runner finished; QEMU killed"
		exit 126
	fi
done
rc=0
wait "$qpid" || rc=$?
exit "$rc"
