# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_facts' probes of what holds data-root: its filesystem, mount options and free space, whether it reports
d_type (read with readdir through ctypes, as dockerd checks), the pool under it, and where containerd's
snapshotters keep their data. Reads the host; the d_type probe may create and remove one empty directory with one
file in data-root."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile

from ._containerd import managed_dirs as containerd_managed_dirs, snapshotter_dirs as containerd_snapshotter_dirs
from ._mountinfo import has_project_quota
from ._probe import Probe, read_file
from ._units import parse_size
from ._xfs import parse_ftype

DT_UNKNOWN = 0


def _has_entries(path):
    try:
        return bool(os.listdir(path))
    except OSError:
        return False


class _Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64), ("d_reclen", ctypes.c_ushort),
                ("d_type", ctypes.c_ubyte), ("d_name", ctypes.c_char * 256)]


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    readdir = getattr(libc, "readdir64", None) or libc.readdir
    readdir.restype = ctypes.POINTER(_Dirent)
    readdir.argtypes = [ctypes.c_void_p]
    libc.opendir.restype = ctypes.c_void_p
    libc.opendir.argtypes = [ctypes.c_char_p]
    libc.closedir.argtypes = [ctypes.c_void_p]
    return libc, readdir


def dirent_types(path, limit=64):
    """d_type of up to ``limit`` entries of ``path`` (not . and ..), as the filesystem reports them."""
    libc, readdir = _libc()
    handle = libc.opendir(path.encode())
    if not handle:
        return []
    types = []
    try:
        while len(types) < limit:
            entry = readdir(handle)
            if not entry:
                break
            name = entry.contents.d_name
            if name in (b".", b".."):
                continue
            types.append(entry.contents.d_type)
    finally:
        libc.closedir(handle)
    return types


def measure_d_type(candidates):
    """True/False when some directory of ``candidates`` has entries to read; else None."""
    for path in candidates:
        if not os.path.isdir(path):
            continue
        types = dirent_types(path)
        if types:
            return any(t != DT_UNKNOWN for t in types)
    return None


def measure_d_type_by_probe(path):
    """Create a temporary directory with one file under ``path``, read its d_type, remove both."""
    try:
        probe = tempfile.mkdtemp(prefix=".cowstack-dtype-", dir=path)
    except (IOError, OSError):
        return None
    try:
        with open(os.path.join(probe, "f"), "w"):
            pass
        types = dirent_types(probe)
        return any(t != DT_UNKNOWN for t in types) if types else None
    finally:
        try:
            os.unlink(os.path.join(probe, "f"))
        except OSError:
            pass
        os.rmdir(probe)


class BackingProbe(Probe):

    def containerd(self, data_root, daemon_json_content, service):
        """Where containerd's btrfs/zfs snapshotters keep their data. dockerd runs its own containerd under
        ``<data-root>/containerd/daemon`` unless it is told of one (flag or daemon.json) or finds the system's
        socket, as dockerd decides; a containerd.service unit counts too, since docker.service starts it."""
        config = self.params["containerd_config"]
        system = bool(daemon_json_content.get("containerd")) or any(
            f["key"] == "containerd" for f in service.get("flags") or ()) or os.path.exists(
            "/run/containerd/containerd.sock") or any(
            os.path.exists(os.path.join(d, "containerd.service")) for d in self.params["unit_paths"])
        if system:
            dirs, root, certain = containerd_snapshotter_dirs(read_file(config))
        else:
            (dirs, root), certain = containerd_managed_dirs(data_root), True
        snapshotters = {}
        for name, path in dirs.items():
            _real, mount = self.mount_of(path)
            # with imports the directory may be elsewhere: its filesystem is then not known
            snapshotters[name] = {"path": path, "fstype": mount.get("fstype") if certain else None,
                                  "mount_point": mount.get("mount_point") if certain else None,
                                  "state": _has_entries(os.path.join(path, "snapshots"))}
        return {"managed_by_dockerd": not system, "config": config if system else None, "root": root,
                "certain": certain, "snapshotters": snapshotters}

    def backing_fs(self, data_root):
        real, mount = self.mount_of(data_root)
        fstype = mount.get("fstype")
        result = {"mount_point": mount.get("mount_point"), "source": mount.get("source"), "fstype": fstype,
                  "options": mount.get("options", []), "xfs_ftype": None, "d_type": None, "free_bytes": None,
                  "pquota": fstype == "xfs" and has_project_quota(mount.get("options")), "probe_path": real}
        if fstype == "xfs":
            xfs_info = self.bin("xfs_info")
            if xfs_info:
                rc, out, _err = self.run([xfs_info, mount["mount_point"]])
                if rc == 0:
                    result["xfs_ftype"] = parse_ftype(out)
        candidates = []
        walk = real if os.path.isdir(real) else os.path.dirname(real)
        while True:
            candidates.append(walk)
            if walk == mount.get("mount_point") or walk in ("/", ""):
                break
            walk = os.path.dirname(walk)
        d_type = measure_d_type(candidates)
        if d_type is None and os.path.isdir(real) and os.access(real, os.W_OK):
            d_type = measure_d_type_by_probe(real)
        result["d_type"] = d_type
        try:
            vfs = os.statvfs(real)
            result["free_bytes"] = vfs.f_bavail * vfs.f_frsize
            result["size_bytes"] = vfs.f_blocks * vfs.f_frsize
        except OSError:
            pass
        return result

    def pool(self, backing):
        """The pool under data-root: a ZFS pool's size, free space and health (one ``zpool list``), or the btrfs
        filesystem's size and free space; None on other filesystems or when it cannot be read."""
        if backing.get("fstype") == "zfs" and backing.get("source"):
            name = backing["source"].split("/", 1)[0]
            zpool = self.bin("zpool")
            if not zpool:
                return None
            rc, out, _err = self.run([zpool, "list", "-H", "-p", "-o", "name,size,free,health", name])
            cols = out.strip().split("\t") if rc == 0 else []
            if len(cols) < 4:
                return None
            return {"kind": "zfs", "name": cols[0], "size_bytes": parse_size(cols[1]),
                    "free_bytes": parse_size(cols[2]), "health": cols[3]}
        if backing.get("fstype") == "btrfs" and backing.get("mount_point"):
            try:
                vfs = os.statvfs(backing["mount_point"])
            except OSError:
                return None
            return {"kind": "btrfs", "name": backing.get("source"), "size_bytes": vfs.f_blocks * vfs.f_frsize,
                    "free_bytes": vfs.f_bavail * vfs.f_frsize, "health": None}
        return None
