#!/usr/bin/env bash
# npm run proof:vm — issue 14's "Done when", for real: on a fresh Debian 12 machine (a KVM guest
# booted with systemd as PID 1), the README's install section followed as written gives a running
# service that survives a reboot, an upgrade to a newer build and a restore from a backup.
#
#   tools     apt-get install the host tools it needs, if missing
#   image     debootstrap bookworm (systemd, udev, a kernel, the .deb's Depends; cached), then a
#             fresh ext4 disk made from it for this run (mkfs.ext4 -d: no loop device, no mount)
#   build     npm run release (-> lintel_<v>-1), LINTEL_DEB_REVISION=2 npm run release (the newer
#             build), and Node 20 for the guest: the host's NodeSource nodejs, dpkg-repack'ed
#   boot      qemu (KVM or TCG, 2 vCPUs, no network); the guest runs the host's jobs from a 9p share
#   install   the README's install block, line by line (scripts/vm-proof/guest-install.sh)
#   reboot    systemctl reboot; the gateway is active again with nobody starting it
#   upgrade   the README's upgrade block with the revision-2 .deb over the running gateway
#   restore   the README's backup and restore commands around a change that must be undone
# Each step prints PASS or FAIL with its time and its check:/deviation: lines; the first failure
# skips the rest and the script exits 1. The full logs: $LINTEL_VM_CACHE/run/logs/, the guest's
# serial console: run/serial.log.
#
# Needs root (debootstrap, apt-get) and Debian's archive. Not part of npm test: it takes tens of
# minutes (two release builds, then the guest; under TCG a boot is about 2 min). Environment:
#   LINTEL_VM_CACHE   cache and run directory, default .cache/vm (gitignored); delete it to start
#                     from a new debootstrap
#   LINTEL_VM_ACCEL   kvm or tcg; default kvm if /proc/cpuinfo shows vmx or svm, else tcg
#   LINTEL_VM_MIRROR  the Debian mirror, default http://deb.debian.org/debian
#   LINTEL_VM_KEEP_BUILD=1  reuse the .debs of the last build step (cache/build/) instead of
#                     building twice (minutes each): for iterating on the guest steps only
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=$(realpath -m "${LINTEL_VM_CACHE:-$repo/.cache/vm}")
mirror=${LINTEL_VM_MIRROR:-http://deb.debian.org/debian}
guest_dir=$repo/scripts/vm-proof
run=$cache/run
share=$run/share
# A minimal system with systemd as init, a kernel, sudo and curl for the README's commands, and
# what the two .debs depend on (nodejs: python3, ca-certificates; lintel: the natives' libraries).
include=systemd,systemd-sysv,udev,dbus,kmod,linux-image-amd64,initramfs-tools,sudo,curl,procps,python3,ca-certificates,libusb-1.0-0,libudev1,libstdc++6,libgcc-s1

[ "$(id -u)" -eq 0 ] || { echo "vm-proof: run as root (debootstrap, apt-get, qemu with KVM)" >&2; exit 2; }

step_tools() {
  local need=()
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  command -v qemu-img >/dev/null || need+=(qemu-utils)
  command -v dpkg-repack >/dev/null || need+=(dpkg-repack)
  command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"; }
  fi
  [ -w /dev/kvm ] || { echo "/dev/kvm is missing or not writable" >&2; return 1; }
  echo "check: $(qemu-system-x86_64 --version | head -1); debootstrap $(dpkg-query -W -f='${Version}' debootstrap)"
}

# The newest kernel in the guest tree and its initramfs (qemu boots them directly).
guest_kernel() { ls "$cache"/rootfs/boot/vmlinuz-* | sort -V | tail -1; }
guest_initrd() { local k; k=$(basename "$(guest_kernel)"); echo "$cache/rootfs/boot/initrd.img-${k#vmlinuz-}"; }

step_image() {
  local rootfs=$cache/rootfs
  if [ "$(cat "$cache/rootfs.done" 2>/dev/null)" != "$include" ]; then
    rm -rf "$rootfs" "$rootfs.tmp" "$cache/rootfs.done"
    debootstrap --variant=minbase --include="$include" bookworm "$rootfs.tmp" "$mirror"
    mv "$rootfs.tmp" "$rootfs"
    echo "$include" >"$cache/rootfs.done"
  else
    echo "check: debootstrap cached in $rootfs (delete $cache to redo it)"
  fi
  # The guest's own settings and the job runner, applied every run (so an edit here counts).
  echo lintel-vm >"$rootfs/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tlintel-vm\n' >"$rootfs/etc/hosts"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\nproof /proof 9p trans=virtio,version=9p2000.L,msize=524288 0 0\n' >"$rootfs/etc/fstab"
  mkdir -p "$rootfs/proof"
  install -m 755 "$guest_dir/guest-agent.sh" "$rootfs/usr/local/sbin/vm-proof-agent"
  install -m 644 "$guest_dir/agent.service" "$rootfs/etc/systemd/system/vm-proof-agent.service"
  mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
  ln -sf ../vm-proof-agent.service "$rootfs/etc/systemd/system/multi-user.target.wants/vm-proof-agent.service"
  # The same fresh disk every run: nothing of an earlier run's install is on it.
  mkfs.ext4 -q -F -L lintel-vm -d "$rootfs" "$run/disk.img" 4G
  ls "$(guest_kernel)" "$(guest_initrd)" >/dev/null
  echo "check: guest disk $(du -h --apparent-size "$run/disk.img" | cut -f1), kernel $(basename "$(guest_kernel)")"
}

step_build() {
  local arch nodever repack=$cache/offline
  arch=$(dpkg --print-architecture)
  mkdir -p "$share/release" "$share/upgrade/release" "$share/offline" "$share/lib" "$share/jobs" "$share/results"
  if [ "${LINTEL_VM_KEEP_BUILD:-}" = 1 ] && ls "$cache"/build/1/*.deb "$cache"/build/2/*.deb >/dev/null 2>&1; then
    echo "deviation: LINTEL_VM_KEEP_BUILD=1: the two .debs of an earlier run's build step, not rebuilt"
  else
    rm -rf "$cache/build" && mkdir -p "$cache/build/1" "$cache/build/2"
    npm run release
    cp release/lintel_*-1_"$arch".deb "$cache/build/1/"
    LINTEL_DEB_REVISION=2 npm run release
    cp release/lintel_*-2_"$arch".deb "$cache/build/2/"
  fi
  cp "$cache"/build/1/*.deb "$share/release/"
  cp "$cache"/build/2/*.deb "$share/upgrade/release/"
  # Node for the guest: the README's route is NodeSource, which this network cannot reach; the
  # host's installed nodejs, packed back into a .deb, is the same bits (cached per version).
  nodever=$(dpkg-query -W -f='${Version}' nodejs)
  if ! ls "$repack"/nodejs_"${nodever//:/%3a}"_*.deb >/dev/null 2>&1; then
    rm -rf "$repack" && mkdir -p "$repack"
    # gzip -1: xz of Node takes minutes on a busy box, for a file that only crosses to the guest.
    (cd "$repack" && dpkg-repack --deb-option=-Zgzip --deb-option=-z1 nodejs)
  fi
  cp "$repack"/nodejs_*.deb "$share/offline/"
  cp README.md examples/cards.csv "$guest_dir/site.yaml" "$share/"
  { cat examples/cards.csv; echo 'vm@example.com,VM Proof,5005,decimal,active,front,,'; } >"$share/cards-changed.csv"
  cp "$guest_dir"/guest-*.sh "$share/lib/"
  echo "check: $(cd "$share" && ls release/*.deb upgrade/release/*.deb offline/*.deb | paste -sd' ')"
}

qemu_pid() { cat "$run/qemu.pid" 2>/dev/null; }
# Only the qemu this script started: a stale pid file must not name another process.
qemu_alive() { local p; p=$(qemu_pid) && [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ]; }

# guest NAME SCRIPT [TIMEOUT]: runs SCRIPT in the guest as job NAME (names sort in run order) and
# prints its output; its exit status is the job's.
guest() {
  local name=$1 script=$2 timeout=${3:-900} deadline
  cp "$script" "$share/jobs/.$name.tmp"
  mv "$share/jobs/.$name.tmp" "$share/jobs/$name.sh"
  deadline=$((SECONDS + timeout))
  while [ ! -e "$share/results/$name.rc" ]; do
    if ! qemu_alive; then echo "qemu is gone; serial console:" >&2; tail -30 "$run/serial.log" >&2; return 1; fi
    if [ $SECONDS -ge $deadline ]; then
      echo "job $name: no result after ${timeout}s; its output so far, then the serial console:" >&2
      cat "$share/results/$name.out" 2>/dev/null >&2 || true
      tail -30 "$run/serial.log" >&2
      return 1
    fi
    sleep 0.5
  done
  cat "$share/results/$name.out"
  return "$(cat "$share/results/$name.rc")"
}

# KVM where the CPU shows its virtualization flag; without it /dev/kvm is a nested one that, on the
# machine this was first run on, accepts the guest and then never runs it (no -cpu host either:
# an MSR write fails). TCG boots anywhere, a few times slower.
vm_accel() {
  if [ -n "${LINTEL_VM_ACCEL:-}" ]; then echo "$LINTEL_VM_ACCEL"
  elif grep -qwE 'vmx|svm' /proc/cpuinfo; then echo kvm
  else echo tcg
  fi
}

step_boot() {
  local accel
  case $(vm_accel) in
  kvm) accel=(-accel kvm -cpu host) ;;
  tcg) accel=(-accel tcg,thread=multi -cpu max) ;;
  *) echo "LINTEL_VM_ACCEL must be kvm or tcg" >&2; return 1 ;;
  esac
  echo "check: accelerator $(vm_accel)"
  qemu-system-x86_64 -machine q35 "${accel[@]}" -smp 2 -m 2048 \
    -display none -monitor none -serial "file:$run/serial.log" -nic none \
    -kernel "$(guest_kernel)" -initrd "$(guest_initrd)" \
    -append 'root=/dev/vda rw console=ttyS0' \
    -drive "file=$run/disk.img,format=raw,if=virtio" \
    -virtfs "local,path=$share,mount_tag=proof,security_model=none,id=proof" \
    -pidfile "$run/qemu.pid" -daemonize
  printf '%s\n' 'echo "check: $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), PID 1 $(cat /proc/1/comm), $(systemctl --version | head -1)"' >"$run/hello.sh"
  guest 00-hello "$run/hello.sh" 900
}

step_install() { guest 10-install "$guest_dir/guest-install.sh"; }
step_reboot() {
  guest 20-reboot "$guest_dir/guest-reboot.sh" 120 || true # the reboot may cut it short
  guest 21-after-reboot "$guest_dir/guest-after-reboot.sh" 900
}
step_upgrade() { guest 30-upgrade "$guest_dir/guest-upgrade.sh"; }
step_restore() { guest 40-restore "$guest_dir/guest-restore.sh"; }

stop_vm() {
  if qemu_alive; then
    echo 'systemctl poweroff' >"$run/poweroff.sh"
    cp "$run/poweroff.sh" "$share/jobs/90-poweroff.sh"
    for _ in $(seq 1 60); do qemu_alive || return 0; sleep 0.5; done
    kill "$(qemu_pid)" 2>/dev/null || true
  fi
}
trap stop_vm EXIT

# One step: its output to run/logs/NAME.log, then PASS/FAIL, time, and the check:/deviation:
# lines. Run as a background job and waited for, so `set -e` holds inside (an `if` would drop it).
failed=
summary=()
step() {
  local name=$1 fn=$2 log=$run/logs/$1.log t0 status secs
  if [ -n "$failed" ]; then summary+=("$(printf 'SKIP  %-8s' "$name")"); return 0; fi
  t0=$(date +%s%N)
  (set -e; "$fn") >"$log" 2>&1 &
  if wait $!; then status=PASS; else status=FAIL; failed=$name; fi
  secs=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
  printf '%s  %-8s %6ss\n' "$status" "$name" "$secs"
  grep -E '^(check|deviation):' "$log" | sed 's/^/      /' || true
  [ "$status" = PASS ] || tail -40 "$log" | sed 's/^/    | /'
  summary+=("$(printf '%s  %-8s %6ss' "$status" "$name" "$secs")")
}

stop_vm
rm -rf "$run"
mkdir -p "$run/logs" "$share"
started=$SECONDS
step tools step_tools
step image step_image
step build step_build
step boot step_boot
step install step_install
step reboot step_reboot
step upgrade step_upgrade
step restore step_restore

echo "== install proof in a VM: $((SECONDS - started)) s; logs in $run/logs"
printf '%s\n' "${summary[@]}"
[ -z "$failed" ] || { echo "FAIL at $failed"; exit 1; }
echo PASS
