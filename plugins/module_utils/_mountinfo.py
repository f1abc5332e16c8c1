# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser of /proc/self/mountinfo, the mount that holds a path, and whether one path is below another. Pure, no I/O.

Also installed beside the standalone ``cowstack-snapshot`` tool and imported there as a plain module: keep it
standard library only, without imports of the collection."""

from __future__ import annotations

import re

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field):
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text):
    """One dict per mount, in the kernel's order: ``mount_point``, ``source``, ``fstype``, ``options``
    (mount options then super options, de-duplicated), ``root``, ``major_minor``."""
    mounts = []
    for line in (text or "").splitlines():
        parts = line.split()
        if "-" not in parts or len(parts) < 7:
            continue
        sep = parts.index("-")
        if len(parts) < sep + 3:
            continue
        options = parts[5].split(",")
        super_options = parts[sep + 3].split(",") if len(parts) > sep + 3 else []
        merged = []
        for opt in options + super_options:
            if opt and opt not in merged:
                merged.append(opt)
        mounts.append({
            "major_minor": parts[2],
            "root": _unescape(parts[3]),
            "mount_point": _unescape(parts[4]),
            "fstype": parts[sep + 1],
            "source": _unescape(parts[sep + 2]),
            "options": merged,
        })
    return mounts


def normpath(path):
    """``path`` with empty and ``.`` parts dropped, always absolute (``..`` is left as written: callers refuse it)."""
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def below(path, parent):
    """``path`` lies strictly below ``parent`` (both absolute and normalised): the one containment test."""
    return path != parent and path.startswith(parent.rstrip("/") + "/")


def at_or_below(path, parent):
    return path == parent or below(path, parent)


def within(path, parent):
    """``path`` is ``parent`` or lies below it, as written (both normalised first, not resolved)."""
    return at_or_below(normpath(path), normpath(parent))


def _contains(mount_point, path):
    return at_or_below(path, mount_point)


def mount_for(mounts, path):
    """The mount that holds the absolute, resolved ``path``: the longest containing mount point, the
    last mounted one when several sit on the same point (a later mount hides an earlier one)."""
    best = None
    for mount in mounts:
        if _contains(mount["mount_point"], path):
            if best is None or len(mount["mount_point"]) >= len(best["mount_point"]):
                best = mount
    return best


def has_project_quota(options):
    """xfs reports project quota as prjquota (or pquota, pqnoenforce) among the super options."""
    return any(opt in ("prjquota", "pquota", "pqnoenforce", "prjnoenforce") for opt in options or ())
