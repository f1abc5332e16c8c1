#!/usr/bin/env bash
# Debian packages, by what needs them. Installs only what is missing; installing needs root.
#
#   tests/setup-host.sh venv    what a venv of Debian's python3 needs (python3-venv), make and git: `make audit`
#   tests/setup-host.sh test    and what the tests need (docker.io, mkfs tools, ...): `make test SKIP_VM=1`
#   tests/setup-host.sh [all]   and what the VM scenarios need (qemu, debootstrap): `make test`
set -euo pipefail
profile=${1:-all}
packages=(python3-venv make git)
case $profile in
  venv) ;;
  test|all)
    # chromium: the audit page checked in a headless browser (tests/integration/test_audit_html_chromium.py);
    # strace: the switch journal's sync barrier seen in the system calls (tests/integration/test_journal_lock.py)
    packages+=(docker.io btrfs-progs xfsprogs e2fsprogs util-linux busybox-static rsync openssh-client cron chromium
               strace)
    [ "$profile" = all ] && packages+=(qemu-system-x86 qemu-utils debootstrap)
    ;;
  *) echo "usage: $0 [venv|test|all]" >&2; exit 2 ;;
esac
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "not a Debian system: install the equivalents of ${packages[*]} yourself" >&2
  exit 0
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "host packages present ($profile)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the docker.io package from starting a system dockerd; the tests start their own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "host packages installed"
