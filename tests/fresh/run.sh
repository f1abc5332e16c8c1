#!/usr/bin/env bash
# The README's two commands on a new Debian machine that has only the distribution's Python (no pyenv):
# a debootstrap chroot of bookworm or trixie, this checkout's HEAD cloned into it, then as a user would
# (root): apt-get install make git, make audit (must report changed=0), and by level:
#
#   tests/fresh/run.sh [--level unit|test] [--keep] debian12|debian13
#     --level unit   make audit, make unit (what CI runs: make fresh-ci)
#     --level test   make audit, make test SKIP_VM=1 (unit, sanity, lint, docs, importer, integration)
#     --keep         keep the chroot afterwards (it is removed otherwise, and always rebuilt)
#
# The chroot runs in a mount namespace of its own (its root bound onto itself, /proc, /sys, /dev bind-mounted
# read-write for loop devices and dockerd, /run a tmpfs); on any exit its mounts are unmounted (umount -R), the processes still running
# inside are stopped by pid, and loop devices backed by files inside are detached.
#
# pytest prints the reason of every skipped test (PYTEST_ADDOPTS=-rs inside), so the log says what a chroot
# cannot do. CI is not passed in: the oldest sanity may then fall back to ansible-core 2.18 on Debian 13.
#
# Environment: COWSTACK_FRESH_DIR (default /var/tmp/cowstack-fresh), COWSTACK_DEBIAN_MIRROR (default: the
# host's apt configuration). Needs root, debootstrap, unshare (util-linux), git.
set -euo pipefail
PROG=fresh

if [[ ${1:-} == --in-namespace ]]; then
  # Second stage, inside `unshare --mount`: mount, chroot, unmount.
  dir=$2
  shift 2
  undo() {
    if mountpoint -q "$dir"; then umount -R "$dir" || umount -R -l "$dir"; fi
  }
  trap undo EXIT
  # The chroot's root a mount point of its own, so that /proc/self/mountinfo inside shows the filesystem
  # under / (and under Docker's data-root) as on a real machine.
  mount --bind "$dir" "$dir"
  mount -t proc proc "$dir/proc"
  mount --rbind /sys "$dir/sys" && mount --make-rslave "$dir/sys"
  mount --rbind /dev "$dir/dev" && mount --make-rslave "$dir/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$dir/run"
  env -i "$@" chroot "$dir" /bin/bash /root/fresh-inside.sh
  exit $?
fi

level=test
keep=0
while [[ $# -gt 1 ]]; do
  case $1 in
    --level) level=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) break ;;
  esac
done
IMAGE=${1:-}
case $IMAGE in
  debian12) SUITE=bookworm ;;
  debian13) SUITE=trixie ;;
  *) echo "usage: $0 [--level unit|test] [--keep] debian12|debian13" >&2; exit 2 ;;
esac
case $level in unit|test) ;; *) echo "$PROG: --level unit or test" >&2; exit 2 ;; esac
[[ $(id -u) -eq 0 ]] || { echo "$PROG: must run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
for tool in debootstrap unshare git mountpoint losetup; do
  command -v "$tool" >/dev/null || { echo "$PROG: '$tool' not found (apt-get install debootstrap util-linux git)" >&2; exit 1; }
done

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
[[ -z $(git -C "$repo" status --porcelain --untracked-files=no) ]] || \
  echo "[$PROG] note: uncommitted changes are not tested; the chroot gets commit ${commit:0:7}" >&2
base=${COWSTACK_FRESH_DIR:-/var/tmp/cowstack-fresh}
dir=$base/$IMAGE
SCRIPT=$(readlink -f "$0")

log() { echo "[$PROG $IMAGE] $*"; }

# The first Debian archive the host's apt reads (not -security, not -updates), as apt itself resolves it.
host_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null | \
    awk '$2 !~ /-/ && $1 ~ /\/debian\/?$/ {sub(/\/$/, "", $1); print $1; exit}'
}
MIRROR=${COWSTACK_DEBIAN_MIRROR:-$(host_mirror)}
[[ -n $MIRROR ]] || { echo "$PROG: no Debian mirror in the host's apt configuration; set COWSTACK_DEBIAN_MIRROR" >&2; exit 1; }

mounts_below() {  # mount points at or below $dir in this namespace, deepest first
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

cleanup() {
  local rc=$? pid m f
  trap - EXIT INT TERM
  # Processes left inside the chroot (a daemon a test did not stop): by pid, their root being the chroot.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$dir" ]] || continue
    log "stopping pid $pid left inside the chroot: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
    kill "$pid" 2>/dev/null || true
  done
  sleep 1
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$dir" ]] && kill -9 "$pid" 2>/dev/null || true
  done
  for f in /sys/block/loop*/loop/backing_file; do
    [[ -r $f ]] || continue
    case $(cat "$f") in
      "$dir"/*) m=/dev/$(basename "$(dirname "$(dirname "$f")")"); log "detaching $m"; losetup -d "$m" || true ;;
    esac
  done
  # The mounts live in the namespace that is gone by now; any below $dir here would be a leak: unmount it.
  for m in $(mounts_below); do
    log "unmounting $m"
    umount -R "$m" 2>/dev/null || umount -R -l "$m" || true
  done
  if [[ -n $(mounts_below) ]]; then
    log "still mounted below $dir, left in place: $(mounts_below | tr '\n' ' ')"
    rc=1
  elif [[ $keep -eq 0 && -d $dir ]]; then
    rm -rf --one-file-system "$dir"
  fi
  log "finished (exit $rc) in $(( $(date +%s) - start )) s"
  exit $rc
}

start=$(date +%s)
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -e $dir ]]; then
  [[ -z $(mounts_below) ]] || { echo "$PROG: $dir has mounts below it; unmount them first" >&2; exit 1; }
  rm -rf --one-file-system "$dir"
fi
mkdir -p "$dir"
log "debootstrap $SUITE (minbase + python3, ca-certificates, systemd, as a Debian machine has them) from the host's mirror"
t=$(date +%s)
debootstrap --variant=minbase --include=python3,ca-certificates,systemd "$SUITE" "$dir" "$MIRROR" > "$base/$IMAGE.debootstrap.log" 2>&1 || {
  tail -n 20 "$base/$IMAGE.debootstrap.log" >&2; exit 1; }
log "debootstrap: $(( $(date +%s) - t )) s"

# The host's network may intercept TLS with a CA of its own, which any machine on it has to trust: the
# chroot trusts the CAs the host added (/usr/local/share/ca-certificates), and pip (which has a bundle of its
# own) uses the system's, through /etc/pip.conf, which also reaches the pip runs of ansible-test (an
# environment variable does not: ansible-test 2.17 runs pip with an environment of its own).
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  chroot "$dir" update-ca-certificates > /dev/null 2>&1
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$dir/etc/pip.conf"
fi

git clone --quiet --no-hardlinks --no-checkout "$repo" "$dir/root/docker_storage"
git -C "$dir/root/docker_storage" checkout --quiet --detach "$commit"

cat > "$dir/root/fresh-inside.sh" <<EOF
set -euo pipefail
step() { echo "== [$IMAGE chroot] \$*"; }
timed() { local t=\$(date +%s); "\$@"; echo "== [$IMAGE chroot] \$* took \$(( \$(date +%s) - t )) s"; }
export DEBIAN_FRONTEND=noninteractive
step "\$(. /etc/os-release; echo "\$PRETTY_NAME"), \$(python3 -V), pyenv: \$(command -v pyenv || echo none)"
step "apt-get install make git (the README's first step)"
apt-get update -qq
apt-get install -y -qq --no-install-recommends make git > /dev/null
cd /root/docker_storage
step "commit \$(git rev-parse --short HEAD)"
timed make audit 2>&1 | tee /root/audit.log
recap=\$(grep -E '^localhost +: ' /root/audit.log | tail -n 1)
echo "\$recap" | grep -Eq 'changed=0 +unreachable=0 +failed=0' || { step "audit recap not clean: \$recap"; exit 1; }
step "audit: \$recap"
if [ "$level" = unit ]; then
  timed make unit
else
  timed make test SKIP_VM=1
fi
step "passed"
EOF

log "level $level, commit ${commit:0:7}"
unshare --mount --propagation slave -- bash "$SCRIPT" --in-namespace "$dir" \
  HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb PYTEST_ADDOPTS=-rs
