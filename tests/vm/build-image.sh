#!/usr/bin/env bash
# Build (or return from cache) a Debian VM image for the cowstack.docker_storage VM test bench.
#
#   tests/vm/build-image.sh [--quiet] debian12|debian13|debiansid
#
# Output directory (printed as the last line of stdout):
#   ${COWSTACK_VM_CACHE:-/var/cache/cowstack-vm}/<image>-<recipe hash>/
#     base.qcow2  vmlinuz  initrd.img  id_ed25519  id_ed25519.pub  manifest.json  manifest.env
# A symlink <cache>/<image> points at the newest complete build.
#
# The recipe hash covers this script's content, the suite and the package list, so editing
# the recipe rebuilds and an unchanged recipe returns in seconds.
#
# Environment:
#   COWSTACK_VM_CACHE        cache directory (default /var/cache/cowstack-vm)
#   COWSTACK_DEBIAN_MIRROR   Debian mirror URL (default: the host's apt configuration)
#   COWSTACK_VM_DISK_SIZE    size of the guest root filesystem (default 12G)
#   COWSTACK_VM_KEEP_FAILED  set to 1 to keep the work directory of a failed build for debugging
set -euo pipefail

PROG=build-image
QUIET=0
if [[ ${1:-} == --quiet ]]; then QUIET=1; shift; fi
if [[ $# -ne 1 ]]; then
    echo "usage: $0 [--quiet] debian12|debian13|debiansid" >&2
    exit 2
fi
IMAGE=$1
case $IMAGE in
    debian12) SUITE=bookworm ;;
    debian13) SUITE=trixie ;;
    # Debian unstable: Docker 28 (the containerd image store opt-in), containerd 2, the newest OpenZFS. A moving
    # target: the packages it got are printed and kept in the manifest, and a build that fails names its step.
    debiansid) SUITE=${COWSTACK_SID_SUITE:-sid} ;;
    *) echo "$PROG: unknown image '$IMAGE' (expected debian12, debian13 or debiansid)" >&2; exit 2 ;;
esac

if [[ $(id -u) -ne 0 ]]; then
    echo "$PROG: must run as root (debootstrap, chroot, mounts)" >&2
    exit 1
fi

need() {  # need COMMAND DEBIAN-PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "$PROG: '$1' not found: install the Debian package '$2' (apt-get install $2)" >&2
        exit 1
    fi
}
need debootstrap debootstrap
need qemu-img qemu-utils
need mkfs.ext4 e2fsprogs
need ssh-keygen openssh-client
need flock util-linux
need sha256sum coreutils

# Packages installed in the guest. Part of the recipe hash.
BASE_PKGS=(systemd systemd-sysv dbus udev kmod iproute2 procps ca-certificates e2fsprogs
           openssh-server python3 sudo cron btrfs-progs xfsprogs apparmor iptables pigz
           linux-image-amd64 linux-headers-amd64 initramfs-tools)
ZFS_PKGS=(zfs-dkms zfsutils-linux zfs-zed)
DOCKER_PKGS=(docker.io)
case $SUITE in
    bookworm) : ;;
    *) DOCKER_PKGS+=(docker-cli containerd) ;;
esac
# Trixie split networkd out of systemd into its own package on some versions; installed when it exists.
OPTIONAL_PKGS=(systemd-networkd)

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
RECIPE_HASH=$( { cat "$SCRIPT_PATH"; echo "suite=$SUITE"; echo "pkgs=${BASE_PKGS[*]} ${ZFS_PKGS[*]} ${DOCKER_PKGS[*]} ${OPTIONAL_PKGS[*]}"; } \
               | sha256sum | cut -c1-16)
CACHE=${COWSTACK_VM_CACHE:-/var/cache/cowstack-vm}
DISK_SIZE=${COWSTACK_VM_DISK_SIZE:-12G}
OUT=$CACHE/$IMAGE-$RECIPE_HASH

# fd 3: the caller's stderr, also from inside a step whose output goes to the log.
exec 3>&2
log() { [[ $QUIET -eq 1 ]] || echo "[$PROG $IMAGE] $*" >&3; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.$IMAGE.lock"
if ! flock -n 9; then
    log "another build of $IMAGE is running; waiting for its lock"
    flock 9
fi

if [[ -f $OUT/manifest.json ]]; then
    log "cached: $OUT"
    ln -sfn "$(basename "$OUT")" "$CACHE/$IMAGE"
    echo "$OUT"
    exit 0
fi

# --- mirror: env var, else the host's apt configuration -------------------------------------------
host_mirror() {
    local f uri="" line
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do
        uri=""
        while IFS= read -r line; do
            case $line in
                URIs:*) uri=$(awk '{print $2}' <<<"$line") ;;
                Suites:*) if [[ -n $uri && $line != *-security* && $uri == */debian ]]; then echo "$uri"; return 0; fi ;;
                "") uri="" ;;
            esac
        done <"$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        # deb [options] URI suite components...
        uri=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+[^[:space:]]*[[:space:]].*/\2/p' "$f" \
              | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)
        if [[ -n $uri ]]; then echo "${uri%/}"; return 0; fi
    done
    return 1
}
MIRROR=${COWSTACK_DEBIAN_MIRROR:-}
if [[ -z $MIRROR ]]; then
    if ! MIRROR=$(host_mirror); then
        echo "$PROG: no Debian mirror found in /etc/apt/sources.list{,.d}; set COWSTACK_DEBIAN_MIRROR" >&2
        exit 1
    fi
fi
MIRROR=${MIRROR%/}

# --- build ------------------------------------------------------------------------------------------
WORK=$(mktemp -d "$CACHE/.build-$IMAGE-$RECIPE_HASH.XXXXXX")
ROOT=$WORK/root
LOGDIR=$CACHE/logs
mkdir -p "$LOGDIR"
LOG=$LOGDIR/$IMAGE-$RECIPE_HASH.log
: >"$LOG"
START=$(date +%s)
STEP="start"
STEP_START=$START

elapsed() { echo $(( $(date +%s) - ${1:-$START} )); }

step() {
    if [[ $STEP != start ]]; then
        log "  done: $STEP ($(elapsed "$STEP_START")s)"
    fi
    STEP=$1
    STEP_START=$(date +%s)
    log "step: $STEP (t=$(elapsed)s)"
    echo "===== $(date -u +%FT%TZ) step: $STEP" >>"$LOG"
}

unmount_chroot() {
    # Everything mounted at or below $ROOT, deepest first.
    local mp
    [[ -n ${ROOT:-} ]] || return 0
    while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || echo "$PROG: could not unmount $mp" >&3
    done < <(awk -v r="$ROOT" '{ gsub(/\\040/, " ", $2); if ($2 == r || index($2, r "/") == 1) print $2 }' /proc/self/mounts | sort -r)
}

# Run a command as a child and wait for it: a trapped INT/TERM interrupts `wait` at once (bash
# defers traps while a foreground command runs), so cleanup never waits for a long step.
run() {
    "$@" &
    wait "$!"
}

descendants() {  # every process below pid $1, deepest first
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$c"
        echo "$c"
    done
}

kill_children() {  # the processes this script started (debootstrap, apt, dkms...)
    local p
    for p in $(descendants $$); do kill -TERM "$p" 2>/dev/null || true; done
}

kill_chroot_procs() {
    # Processes this build started inside the chroot (dpkg, dkms, gpg-agent...): their root is $ROOT.
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        if [[ $r == "$ROOT" ]]; then kill -TERM "${p#/proc/}" 2>/dev/null || true; fi
    done
    sleep 1
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        if [[ $r == "$ROOT" ]]; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
    done
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $rc -ne 0 ]]; then
        echo "$PROG $IMAGE: FAILED in step '$STEP' after $(elapsed)s (exit $rc)" >&3
        echo "$PROG $IMAGE: last lines of $LOG:" >&3
        tail -n 40 "$LOG" | sed 's/^/    /' >&3 || true
    fi
    kill_children
    kill_chroot_procs
    unmount_chroot
    if [[ $rc -ne 0 && ${COWSTACK_VM_KEEP_FAILED:-0} == 1 ]]; then
        echo "$PROG $IMAGE: keeping $WORK (COWSTACK_VM_KEEP_FAILED=1)" >&3
    else
        # Only remove when nothing is mounted below it any more (never delete through a bind mount).
        if ! awk -v r="$WORK" 'index($2, r "/") == 1 { found=1 } END { exit !found }' /proc/self/mounts; then
            rm -rf --one-file-system "$WORK"
        else
            echo "$PROG $IMAGE: mounts remain below $WORK; not removing it" >&3
        fi
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_chroot() {
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true "$@"
}
apt_install() {
    run in_chroot apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        install --no-install-recommends "$@" >>"$LOG" 2>&1
}

log "building $IMAGE ($SUITE) from $MIRROR into $OUT (log: $LOG)"

step "debootstrap $SUITE"
run debootstrap --variant=minbase --components=main,contrib --include=ca-certificates,gnupg \
    "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1

step "prepare chroot"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
# Mounts below the bind must never propagate back to the host's /dev.
mount --make-rslave "$ROOT/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
mount -t tmpfs tmpfs "$ROOT/run"
mkdir -p "$ROOT/run/lock"
printf '#!/bin/sh\n# no services start inside the image build chroot\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main contrib
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOT/etc/apt/apt.conf.d/90cowstack"
# A mirror that serves unstable as a dated copy has a Release file past its Valid-Until date; accept it for sid.
if [[ $IMAGE == debiansid ]]; then
    printf 'Acquire::Check-Valid-Until "false";\n' >>"$ROOT/etc/apt/apt.conf.d/90cowstack"
fi
run in_chroot apt-get -q update >>"$LOG" 2>&1

step "install kernel, systemd, ssh, tools"
extra=()
for p in "${OPTIONAL_PKGS[@]}"; do
    if in_chroot apt-cache show "$p" >/dev/null 2>&1; then extra+=("$p"); fi
done
apt_install "${BASE_PKGS[@]}" "${extra[@]}"
mapfile -t KVERS < <(ls "$ROOT/lib/modules")
if [[ ${#KVERS[@]} -ne 1 ]]; then
    echo "$PROG: expected one kernel in the image, found: ${KVERS[*]:-none}" >>"$LOG"
    false
fi
KVER=${KVERS[0]}
log "  guest kernel $KVER"

step "install and build zfs-dkms for $KVER"
apt_install "${ZFS_PKGS[@]}"
if ! ls "$ROOT/lib/modules/$KVER/updates/dkms/"zfs.ko* >/dev/null 2>&1; then
    zfsver=$(in_chroot dpkg-query -W -f='${Version}' zfs-dkms | sed -E 's/^[0-9]+://; s/-[^-]*$//')
    run in_chroot dkms install "zfs/$zfsver" -k "$KVER" >>"$LOG" 2>&1
fi
if ! ls "$ROOT/lib/modules/$KVER/updates/dkms/"zfs.ko* >>"$LOG" 2>&1; then
    echo "$PROG $IMAGE: zfs-dkms $(in_chroot dpkg-query -W -f='${Version}' zfs-dkms) did not build for kernel $KVER" \
         "(see $LOG); this image is not made, the other platforms are unaffected" >&3
    false
fi
in_chroot depmod "$KVER"

step "install docker"
apt_install "${DOCKER_PKGS[@]}"

step "configure guest"
echo "cowstack-$IMAGE" >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 cowstack-%s\n::1 localhost ip6-localhost ip6-loopback\n' "$IMAGE" >"$ROOT/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$ROOT/etc/fstab"
mkdir -p "$ROOT/etc/systemd/network"
cat >"$ROOT/etc/systemd/network/10-virtio.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
in_chroot systemctl enable systemd-networkd.service ssh.service cron.service docker.service >>"$LOG" 2>&1
if [[ -e $ROOT/lib/systemd/system/systemd-resolved.service || -e $ROOT/usr/lib/systemd/system/systemd-resolved.service ]]; then
    in_chroot systemctl disable systemd-resolved.service >>"$LOG" 2>&1 || true
fi
# Units whose work is useless in a throwaway VM and only slow the boot under emulation.
in_chroot systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
    fstrim.timer systemd-networkd-wait-online.service >>"$LOG" 2>&1 || true
rm -f "$ROOT/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' >"$ROOT/etc/resolv.conf"
# Serial console login for debugging; root has no password (SSH is key-only).
in_chroot systemctl enable serial-getty@ttyS0.service >>"$LOG" 2>&1 || true
# Every VM gets its own machine-id at first boot.
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
mkdir -p "$ROOT/etc/ssh/sshd_config.d"
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' >"$ROOT/etc/ssh/sshd_config.d/cowstack.conf"
ssh-keygen -q -t ed25519 -N '' -C "cowstack-vm-$IMAGE-$RECIPE_HASH" -f "$WORK/id_ed25519" >>"$LOG" 2>&1
install -d -m 0700 "$ROOT/root/.ssh"
install -m 0600 "$WORK/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
echo "zfs" >"$ROOT/etc/modules-load.d/zfs.conf"

step "collect kernel and initrd"
run in_chroot update-initramfs -u -k "$KVER" >>"$LOG" 2>&1
cp "$ROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$WORK/initrd.img"
ZFS_VERSION=$(in_chroot dpkg-query -W -f='${Version}' zfsutils-linux)
DOCKER_VERSION=$(in_chroot dpkg-query -W -f='${Version}' docker.io)
CONTAINERD_VERSION=$(in_chroot dpkg-query -W -f='${Version}' containerd 2>/dev/null || echo none)
log "  packages: kernel $KVER, zfs $ZFS_VERSION, docker.io $DOCKER_VERSION, containerd $CONTAINERD_VERSION"

step "clean chroot"
in_chroot apt-get -q clean >>"$LOG" 2>&1
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/tmp/* "$ROOT"/var/tmp/*
rm -f "$ROOT/usr/sbin/policy-rc.d"
kill_chroot_procs
unmount_chroot

step "make root filesystem image ($DISK_SIZE)"
truncate -s "$DISK_SIZE" "$WORK/root.raw"
run mkfs.ext4 -q -F -L cowstack-root -E root_owner=0:0 -d "$ROOT" "$WORK/root.raw" >>"$LOG" 2>&1
run qemu-img convert -f raw -O qcow2 "$WORK/root.raw" "$WORK/base.qcow2" >>"$LOG" 2>&1
rm -f "$WORK/root.raw"
rm -rf --one-file-system "$ROOT"

step "write manifest"
cat >"$WORK/manifest.env" <<EOF
COWSTACK_VM_IMAGE=$IMAGE
COWSTACK_VM_SUITE=$SUITE
COWSTACK_VM_RECIPE=$RECIPE_HASH
COWSTACK_VM_KERNEL=$KVER
COWSTACK_VM_ZFS=$ZFS_VERSION
COWSTACK_VM_DOCKER=$DOCKER_VERSION
COWSTACK_VM_CONTAINERD=$CONTAINERD_VERSION
EOF
python3 - "$WORK/manifest.json" "$IMAGE" "$SUITE" "$RECIPE_HASH" "$KVER" "$ZFS_VERSION" "$DOCKER_VERSION" "$OUT" \
    "$(date -u +%FT%TZ)" "$(elapsed)" "$CONTAINERD_VERSION" <<'EOF'
import json, sys
path, image, suite, recipe, kver, zfs, docker, out, built, secs, containerd = sys.argv[1:]
json.dump({
    "image": image, "suite": suite, "recipe": recipe, "kernel_release": kver,
    "zfs_package": zfs, "docker_package": docker, "containerd_package": containerd, "built": built,
    "build_seconds": int(secs),
    "base": f"{out}/base.qcow2", "kernel": f"{out}/vmlinuz", "initrd": f"{out}/initrd.img",
    "ssh_key": f"{out}/id_ed25519",
    "cmdline": "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=false",
}, open(path, "w"), indent=2)
EOF
chmod 0644 "$WORK/base.qcow2" "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/manifest.json" "$WORK/manifest.env"
chmod 0600 "$WORK/id_ed25519"
rm -rf "$OUT"
mv "$WORK" "$OUT"
WORK=$OUT.moved-away   # nothing left to clean
chmod 0755 "$OUT"
ln -sfn "$(basename "$OUT")" "$CACHE/$IMAGE"
step "finished"
log "built $OUT in $(elapsed)s"
for old in "$CACHE/$IMAGE"-*; do
    if [[ -d $old && $old != "$OUT" ]]; then
        log "older build of $IMAGE, no longer used (remove with rm -rf): $old"
    fi
done
echo "$OUT"
