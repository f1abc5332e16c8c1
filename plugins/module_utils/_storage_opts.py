# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-driver storage-opts rules, the way each dockerd driver parses its options. Pure, no I/O."""

from __future__ import annotations

import re

from ._units import parse_size

_BOOL = ("true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False")
_DATASET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9_.:-]+)*$")


def _size(value):
    return None if parse_size(value, fractions=True, largest="P", docker=True) is not None else "is not a size such as 10G or 512M"


def _bool(value):
    return None if value in _BOOL else "is not a boolean (true or false)"


def _dataset(value):
    if len(value) > 255:
        return "is longer than ZFS's 255 characters"
    return None if _DATASET.match(value) else "is not a ZFS dataset name such as tank/docker"


def _any(value):
    return None


# driver -> option -> value check. An option not listed here makes that driver (and so dockerd) fail to start.
RULES = {
    "overlay2": {"overlay2.size": _size, "overlay2.override_kernel_check": _bool},
    "overlay": {"overlay.override_kernel_check": _bool},
    "btrfs": {"btrfs.min_space": _size},
    "zfs": {"zfs.fsname": _dataset},
    "vfs": {"size": _size, "vfs.xattrs": _bool},
    "fuse-overlayfs": {},
    "aufs": {"aufs.mountopt": _any},
    "devicemapper": {},  # dm.* options: checked by prefix below
}


# Size limits that dockerd implements with xfs project quotas.
QUOTA_OPTS = (("overlay2", "overlay2.size"), ("vfs", "size"))


def split_opt(opt):
    """``"overlay2.size=10G"`` -> (``"overlay2.size"``, ``"10G"``); keys are lower-cased as dockerd does."""
    if not isinstance(opt, str) or "=" not in opt:
        return None, None
    key, value = opt.split("=", 1)
    return key.strip().lower(), value.strip()


def validate_storage_opts(driver, opts, fstype=None, pquota=False, override_kernel_check="unknown",
                          image_store="graphdriver"):
    """Check ``opts`` (list of ``key=value``) for ``driver`` on a backing fs.

    Returns ``(normalized, warnings, errors)``. ``override_kernel_check`` is the band's column
    (``no-op``, ``ignored`` or ``unknown``).
    """
    normalized, warnings, errors = [], [], []
    if opts is None:
        return normalized, warnings, errors
    if not isinstance(opts, (list, tuple)):
        return normalized, warnings, ["storage-opts must be a list of 'key=value' strings, got %r" % (opts,)]
    if image_store == "containerd" and opts:
        warnings.append("storage-opts are not used by containerd snapshotters; dockerd ignores %s" % ", ".join(
            str(o) for o in opts))
    rules = RULES.get(driver)
    for opt in opts:
        key, value = split_opt(opt)
        if key is None:
            errors.append("storage-opt %r is not of the form key=value" % (opt,))
            continue
        normalized.append("%s=%s" % (key, value))
        if image_store == "containerd" or rules is None:
            continue
        if driver == "devicemapper" and key.startswith("dm."):
            continue
        if driver == "zfs" and key == "size":
            errors.append("storage-opt size=%s: a daemon-level zfs size makes dockerd fail to start (moby#48852; "
                          "the docs' example is wrong). Set a quota per container with --storage-opt size= on "
                          "'docker run', or a ZFS quota on the dataset" % value)
            continue
        if key not in rules:
            known = ", ".join(sorted(rules)) or "none"
            errors.append("storage-opt %s is unknown to the %s driver, so dockerd would fail to start "
                          "(it accepts: %s)" % (key, driver, known))
            continue
        problem = rules[key](value)
        if problem:
            errors.append("storage-opt %s=%s: the value %s" % (key, value, problem))
            continue
        if (driver, key) in QUOTA_OPTS and not (fstype == "xfs" and pquota):
            errors.append("storage-opt %s needs data-root on xfs mounted with pquota (prjquota), or dockerd fails "
                          "with 'Filesystem does not support, or has not enabled quotas'; this data-root is on %s%s. "
                          "Mount xfs with 'pquota' or drop the option"
                          % (key, fstype or "an unknown filesystem", "" if fstype != "xfs" else " without pquota"))
        elif key.endswith(".override_kernel_check"):
            if override_kernel_check == "unknown":
                errors.append("storage-opt %s is an unknown option since Docker 24 and makes dockerd fail to "
                              "start: remove it" % key)
            elif override_kernel_check == "ignored":
                warnings.append("storage-opt %s is ignored since Docker 23: remove it" % key)
            else:
                warnings.append("storage-opt %s has no effect on this Docker (the kernel check is gone): remove it"
                                % key)
        elif key == "btrfs.min_space":
            warnings.append("btrfs.min_space turns btrfs quotas on, which costs performance on large filesystems")
    return normalized, warnings, errors
