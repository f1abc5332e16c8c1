# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe mode: what a block device holds, from what the module read. Pure, no I/O."""

from __future__ import annotations


def parse_blkid_export(output):
    """``blkid -p -o export DEV`` -> ``{"TYPE": ..., "PTTYPE": ..., "LABEL": ..., "UUID": ...}``."""
    result = {}
    for line in (output or "").splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    return result


def holdings(probe, mounted_at=None, partitions=(), holders=(), is_root_disk=False, busy=False):
    """What a device holds, as readable phrases; empty when it is blank and free.

    ``probe``: parsed ``blkid -p`` output; ``mounted_at``: mount points of the device; ``partitions``: its
    partition names; ``holders``: device-mapper/md/loop users of it; ``is_root_disk``: holds ``/``.
    """
    found = []
    if is_root_disk:
        found.append("the root filesystem (it is the system disk)")
    if mounted_at:
        found.append("a mounted filesystem at %s" % ", ".join(mounted_at))
    fstype = probe.get("TYPE")
    if fstype == "zfs_member":
        found.append("a ZFS pool label%s" % (" (pool %s)" % probe["LABEL"] if probe.get("LABEL") else ""))
    elif fstype:
        found.append("a %s signature%s" % (fstype, " labelled %s" % probe["LABEL"] if probe.get("LABEL") else ""))
    if probe.get("PTTYPE"):
        found.append("a %s partition table" % probe["PTTYPE"])
    if partitions:
        found.append("partitions %s" % ", ".join(partitions))
    if holders:
        found.append("users %s (device-mapper, md or loop)" % ", ".join(holders))
    if busy and not (mounted_at or holders):
        found.append("an exclusive user (another program has it open: a pool, multipath, a partitioner)")
    return found


def refusal(device, found):
    """The safe-mode error of the storage modules for a device that holds something: it names their option
    ``force_devices`` and the role's variables that set it."""
    return ("refusing to use %s: it holds %s. Nothing was changed. If its content may be destroyed, list it in "
            "force_devices (per device; with the role, in docker_storage_force_devices, docker_storage_safe_mode "
            "false); otherwise choose an empty device" % (device, "; ".join(found)))
