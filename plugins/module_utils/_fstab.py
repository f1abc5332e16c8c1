# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""/etc/fstab: find, render and replace the entry of one mount point, keeping every other line. Pure."""

from __future__ import annotations


def _fields(line):
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    parts = stripped.split()
    return parts if len(parts) >= 2 else None


def render(source, mount_point, fstype, options, dump=0, passno=0):
    return "%s %s %s %s %d %d" % (source, mount_point.replace(" ", "\\040"), fstype, ",".join(options) or "defaults",
                                  dump, passno)


def entry_for(text, mount_point):
    """The fields of the last active line for ``mount_point``, or None."""
    found = None
    for line in (text or "").splitlines():
        fields = _fields(line)
        if fields and fields[1].replace("\\040", " ") == mount_point:
            found = fields
    return found


def replace_entry(text, mount_point, new_line):
    """``text`` with every active line for ``mount_point`` replaced by ``new_line`` (added when absent)."""
    lines, placed = [], False
    for line in (text or "").splitlines():
        fields = _fields(line)
        if fields and fields[1].replace("\\040", " ") == mount_point:
            if not placed:
                lines.append(new_line)
                placed = True
            continue
        lines.append(line)
    if not placed:
        lines.append(new_line)
    return "\n".join(lines) + "\n"
