# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host lacks for the filesystem a policy prepares, and the packages that bring it. Pure, no I/O.

The role installs them on Debian-family hosts (``docker_storage_install_packages``); elsewhere, or with the
option off, the same table says what to install."""

from __future__ import annotations

import copy

# filesystem -> part -> (what it is, Debian packages; "{release}" is the running kernel's release)
DEBIAN_PACKAGES = {
    "btrfs": {"tools": ("the btrfs tools (mkfs.btrfs, btrfs)", ["btrfs-progs"]),
              "kernel": ("btrfs support in the running kernel", [])},
    "zfs": {"tools": ("the ZFS tools (zfs, zpool)", ["zfsutils-linux"]),
            "kernel": ("the ZFS kernel module", ["zfs-dkms", "linux-headers-{release}"])},
    "xfs": {"tools": ("xfs_info (to read the ftype of the xfs under data-root)", ["xfsprogs"])},
}
# Packages that live in Debian's contrib component (the ZFS licence is not DFSG-free).
CONTRIB = ("zfs-dkms", "zfsutils-linux")
SUPPORTED_FAMILIES = ("Debian",)


def os_family(os_release):
    """``/etc/os-release`` fields -> an Ansible-style OS family (Debian, RedHat, Suse, Archlinux, ...) or None."""
    ids = [(os_release or {}).get("ID", "")] + ((os_release or {}).get("ID_LIKE") or "").split()
    for name, family in (("debian", "Debian"), ("ubuntu", "Debian"), ("rhel", "RedHat"), ("fedora", "RedHat"),
                         ("centos", "RedHat"), ("suse", "Suse"), ("arch", "Archlinux"), ("alpine", "Alpine")):
        if name in ids:
            return family
    return None


def missing(fs, facts):
    """The parts of ``fs`` the host lacks: a subset of ``["tools", "kernel"]``."""
    available = (facts or {}).get("available") or {}
    if fs == "xfs":
        return [] if available.get("xfs_tools", True) else ["tools"]
    lacking = []
    if not available.get("%s_tools" % fs, available.get(fs)):
        lacking.append("tools")
    if not available.get("%s_kernel" % fs, available.get(fs)):
        lacking.append("kernel")
    return lacking


def plan(fs, facts, install, variable_hint="docker_storage_policy"):
    """-> ``{"packages": [...], "errors": [...], "contrib": bool}`` for making ``fs`` usable on the host.

    ``install``: docker_storage_install_packages. Packages are only listed for a Debian-family host; a part no
    package brings (btrfs missing from the kernel) is an error whatever ``install`` says."""
    result = {"packages": [], "errors": [], "contrib": False}
    lacking = missing(fs, facts)
    if not lacking:
        return result
    table = DEBIAN_PACKAGES[fs]
    release = ((facts or {}).get("kernel") or {}).get("release") or "$(uname -r)"
    what = [table[part][0] for part in lacking]
    packages = [p.format(release=release) for part in lacking for p in table[part][1]]
    if "kernel" in lacking and not table["kernel"][1]:
        result["errors"].append("%s needs %s, which this host lacks (kernel %s): boot a kernel with %s support; no "
                                "package installs that" % (variable_hint, table["kernel"][0], release, fs))
        return result
    family = (facts or {}).get("os", {}).get("family")
    pretty = (facts or {}).get("os", {}).get("pretty_name") or (facts or {}).get("os", {}).get("id") or "unknown"
    where = " (Debian's contrib component)" if any(p in CONTRIB for p in packages) else ""
    if not install:
        result["errors"].append("%s needs %s, which this host lacks: install %s%s, or set "
                                "docker_storage_install_packages: true" % (
                                    variable_hint, " and ".join(what), ", ".join(packages), where))
    elif family not in SUPPORTED_FAMILIES:
        result["errors"].append("%s needs %s, which this host lacks, and docker_storage_install_packages installs "
                                "packages on Debian-family hosts only (Debian, Ubuntu); this host is %s: install %s "
                                "yourself (on Debian: %s), then run again" % (
                                    variable_hint, " and ".join(what), pretty, " and ".join(what), ", ".join(packages)))
    else:
        result["packages"] = packages
        result["contrib"] = bool(where)
    return result


def assume_installed(facts, fs):
    """The facts as they will be once ``fs``'s packages are in (check mode plans on them; nothing is installed)."""
    patched = copy.deepcopy(facts or {})
    available = patched.setdefault("available", {})
    available[fs] = True
    available["%s_tools" % fs] = True
    available["%s_kernel" % fs] = True
    return patched
