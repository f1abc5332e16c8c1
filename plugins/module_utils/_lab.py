# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab host's backing file: whether an existing file is this collection's own, and may be grown and attached.

Pure, no I/O. ``_probe_devices.read_lab_file`` reads what these rules look at; the ``lab_loop`` module and the
role's preflight (through ``storage_facts``) apply the same rules, so check mode refuses what a real run would.
"""

from __future__ import annotations

from ._units import human

# Written on a lab file when lab_loop creates it. A filesystem without user xattrs (tmpfs before 6.6, some
# network filesystems) gets a marker file beside it instead: ``.<name>.cowstack-lab``.
MARKER_XATTR = "user.cowstack.docker_storage.lab"
MARKER_VALUE = b"cowstack.docker_storage lab file"
MIN_SIZE = 128 * 1024 ** 2
# Where a lab file must never be: pseudo filesystems and device nodes.
FORBIDDEN_PREFIXES = ("/dev/", "/proc/", "/sys/", "/run/")


def sidecar_name(path):
    """The marker file beside ``path`` for filesystems without user xattrs."""
    head, _sep, name = path.rpartition("/")
    return "%s/.%s.cowstack-lab" % (head, name)


def adoptable(probe, labels):
    """An unmarked file is ours when it already holds the filesystem the role makes on it (a lab file made before
    the marker existed): a btrfs labelled as ``labels['btrfs']`` or a ZFS pool label named ``labels['zfs']``."""
    fstype, label = (probe or {}).get("TYPE"), (probe or {}).get("LABEL")
    if not label:
        return False
    return (fstype == "btrfs" and label == (labels or {}).get("btrfs")) or (
        fstype == "zfs_member" and label == (labels or {}).get("zfs"))


def refusal(info, size, labels=None, variable="path"):
    """-> ``(message or None, adopt)`` for the lab file ``info`` describes (see ``read_lab_file``) at ``size`` bytes.

    ``variable`` names the input in messages (the module's ``path``, the role's ``docker_storage_lab_file.path``).
    ``adopt``: the file is unmarked but holds the role's filesystem, so the marker is to be written."""
    path = info.get("path")
    nothing = " Nothing was changed."
    if not info.get("dir_exists"):
        return ("%s %s: its directory does not exist; create it first (or choose another path).%s"
                % (variable, path, nothing), False)
    if info.get("symlink"):
        return ("%s %s is a symbolic link: name the file itself, which must not exist yet or be a lab file this "
                "collection made.%s" % (variable, path, nothing), False)
    if info.get("exists") and not info.get("regular"):
        return ("%s %s exists and is not a regular file: choose a path that does not exist.%s"
                % (variable, path, nothing), False)
    adopt = False
    if info.get("exists") and not info.get("marked"):
        if not adoptable(info.get("probe"), labels):
            what = info.get("probe", {}).get("TYPE")
            return ("%s %s exists and was not made by cowstack.docker_storage (no lab marker%s, %d bytes): it is never "
                    "grown, re-moded or attached as a disk, since its content would be lost. Choose a path that does "
                    "not exist, or move that file away.%s" % (
                        variable, path, ", it holds a %s signature" % what if what else "", info.get("size") or 0,
                        nothing), False)
        adopt = True
    current = info.get("size") if info.get("exists") else 0
    need = max(0, size - (current or 0))
    free = info.get("free_bytes")
    if need and free is not None and need > free:
        return ("%s %s: its filesystem has %s free, the lab file needs %s more: free space or choose a smaller size."
                "%s" % (variable, path, human(free), human(need), nothing), adopt)
    return None, adopt
