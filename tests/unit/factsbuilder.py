"""Facts dicts shaped like storage_facts' output, for the pure rules."""

from __future__ import annotations

import copy

BASE = {
    "kernel": {"release": "6.1.0-28-amd64", "version": [6, 1, 0]},
    "data_root": "/var/lib/docker",
    "backing_fs": {"mount_point": "/", "source": "/dev/vda1", "fstype": "ext4", "options": ["rw"],
                   "xfs_ftype": None, "d_type": True, "pquota": False},
    "available": {"overlay": True, "btrfs": True, "zfs": False, "zfs_device": False, "zfs_version": None,
                  "fuse_overlayfs": False, "aufs": False, "devicemapper": False},
    "docker": {"installed": True, "version": "26.1.5", "running": False},
    "prior_drivers": [],
    "daemon_json": {"path": "/etc/docker/daemon.json", "exists": False, "valid": True, "content": None,
                    "flag_conflicts": []},
}

FS = {
    "ext4": {"fstype": "ext4", "d_type": True},
    "ext4-nodtype": {"fstype": "ext4", "d_type": False},
    "xfs": {"fstype": "xfs", "d_type": True, "xfs_ftype": 1},
    "xfs-ftype0": {"fstype": "xfs", "d_type": False, "xfs_ftype": 0},
    "xfs-pquota": {"fstype": "xfs", "d_type": True, "xfs_ftype": 1, "pquota": True},
    "btrfs": {"fstype": "btrfs", "d_type": True},
    "zfs": {"fstype": "zfs", "d_type": True},
    "nfs": {"fstype": "nfs4", "d_type": True},
    "overlay": {"fstype": "overlay", "d_type": True},
}


def facts(fs="ext4", docker="26.1.5", prior=(), zfs=None, daemon_json=None, kernel=None, **available):
    """A facts dict: ``fs`` key of FS, Docker version, prior driver dirs, zfs version (tools + /dev/zfs)."""
    result = copy.deepcopy(BASE)
    result["backing_fs"].update(FS[fs])
    result["docker"]["version"] = docker
    result["prior_drivers"] = list(prior)
    if zfs:
        result["available"].update({"zfs": True, "zfs_device": True, "zfs_version": zfs})
    result["available"].update(available)
    if daemon_json is not None:
        result["daemon_json"].update({"exists": True, "content": daemon_json})
    if kernel:
        result["kernel"] = {"release": kernel, "version": [int(x) for x in kernel.split("-")[0].split(".")]}
    return result
