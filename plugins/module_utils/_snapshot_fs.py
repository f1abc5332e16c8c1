# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots on ZFS and btrfs as this host holds them: the commands (argv lists, built without I/O), the btrfs
checks and listings (these stat and read directories), and the ``Zfs`` and ``Btrfs`` stores that the installed
tool and the snapshot modules share. Commands run only through the runner a store is given: an object with
``read(argv)`` (changes nothing, runs in a dry run too), ``change(argv)`` and ``dry_run``.

Installed beside the standalone ``cowstack-snapshot`` tool with ``_retention``: standard library only, and the
collection's files it imports are imported relatively here and as plain modules there."""

from __future__ import annotations

import os
import stat

try:
    from ._mountinfo import mount_for, normpath
    from ._retention import RetentionError
except ImportError:  # beside the installed tool: plain modules
    from _mountinfo import mount_for, normpath
    from _retention import RetentionError


class Failure(Exception):
    """A command or a check failed for one target."""


ZFS_ARG_MAX = 100000        # one argv string; the kernel limit is 128 KiB (MAX_ARG_STRLEN)
BTRFS_ARGV_MAX = 1000000    # the whole argv; the kernel limit is a quarter of the stack (2 MiB by default)


def unsafe_directory(path, lstat=os.lstat, uid=None, realpath=os.path.realpath):
    """Why root should not delete subvolumes in, or lock a file in, ``path``: it or a directory above it (on
    the path as written and as resolved) is not owned by root or is writable by others, so another user could
    swap a snapshot for a link to something else between listing and deleting. None when it is safe. Parts that
    do not exist yet are skipped (the tool creates them root-only); a sticky directory (like /tmp) above a
    root-owned one is fine; a root-owned symlink is fine when where it leads is. Run by another user (tests),
    that user's own directories count as safe too."""
    uid = os.geteuid() if uid is None else uid
    owner = "root" if uid == 0 else "uid %d (who runs this)" % uid
    for start in dict.fromkeys((normpath(path), normpath(realpath(path)))):
        current, below_is_root = start, False
        while True:
            try:
                info = lstat(current)
            except FileNotFoundError:
                info = None
            if info is not None:
                if info.st_uid not in (0, uid):
                    return "%s is owned by uid %d, not by %s" % (current, info.st_uid, owner)
                sticky_ok = below_is_root and info.st_mode & stat.S_ISVTX
                if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022 and not sticky_ok:
                    return "%s is writable by group or others (mode %04o)" % (current, stat.S_IMODE(info.st_mode))
                below_is_root = True
            if current == "/":
                break
            current = os.path.dirname(current)
    return None


BTRFS_SUBVOLUME_INODE = 256  # BTRFS_FIRST_FREE_OBJECTID: the root directory of every subvolume


def list_btrfs_snapshots(snapshot_dir):
    """Snapshots in ``snapshot_dir``: every directory entry that is the root of a subvolume (inode 256), as dicts
    shaped like :func:`parse_zfs_list`'s rows (btrfs keeps no creation time or sizes there: None). A missing
    directory has none; an entry that vanishes while it is read is skipped."""
    found = []
    try:
        entries = list(os.scandir(snapshot_dir))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_ino == BTRFS_SUBVOLUME_INODE:
                found.append({"name": entry.name, "creation": None, "used": None, "referenced": None})
        except OSError:
            continue
    return found


def btrfs_target_problem(mounts, path, snapshot_dir):
    """Why ``path`` cannot be snapshotted into ``snapshot_dir`` on this host (``mounts``: its mount table, as
    ``_mountinfo.parse_mountinfo`` reads it), or None. The tool and the module both ask this before they take or
    delete anything."""
    if not os.path.isdir(path):
        return "%s does not exist or is not a directory" % path
    mount = mount_for(mounts, normpath(path))
    if not mount or mount["fstype"] != "btrfs":
        return "%s is not on btrfs (%s)" % (path, mount["fstype"] if mount else "no mount")
    if os.stat(path).st_ino != BTRFS_SUBVOLUME_INODE:
        return "%s is a directory on btrfs, not a subvolume" % path
    dir_mount = mount_for(mounts, normpath(snapshot_dir))
    if not dir_mount or dir_mount["fstype"] != "btrfs" or dir_mount["source"] != mount["source"]:
        return "snapshot directory %s is not on the same btrfs filesystem as %s" % (snapshot_dir, path)
    unsafe = unsafe_directory(snapshot_dir)
    if unsafe:
        return "snapshot directory %s: %s; set a snapshot_dir only root can write" % (snapshot_dir, unsafe)
    return None


def zfs_list_argv(dataset, zfs="zfs"):
    """One listing of every snapshot of ``dataset`` itself (not of its children), machine readable."""
    return [zfs, "list", "-H", "-p", "-o", "name,creation,used,referenced", "-t", "snapshot", "-d", "1", dataset]


def parse_zfs_list(text, dataset):
    """Snapshots of ``dataset`` from ``zfs list -H -p -o name,creation[,used,referenced]``: dicts with
    ``name`` (after the @), ``creation`` (epoch) and ``used``/``referenced`` (bytes) when listed."""
    found = []
    for line in (text or "").splitlines():
        cols = line.split("\t")
        if len(cols) < 2 or "@" not in cols[0]:
            continue
        ds, snap = cols[0].split("@", 1)
        if ds != dataset:
            continue
        row = {"name": snap, "creation": _int_or_none(cols[1]), "used": None, "referenced": None}
        if len(cols) >= 4:
            row["used"], row["referenced"] = _int_or_none(cols[2]), _int_or_none(cols[3])
        found.append(row)
    return found


def _int_or_none(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def zfs_snapshot_argv(dataset, name, zfs="zfs"):
    """Never recursive: Docker's layer datasets below a data-root dataset stay out."""
    return [zfs, "snapshot", "%s@%s" % (dataset, name)]


def zfs_destroy_argvs(dataset, names, zfs="zfs", arg_max=ZFS_ARG_MAX):
    """``zfs destroy pool/ds@a,b,c`` commands covering exactly ``names`` (never a % range, never -r), each
    argument below ``arg_max`` characters. A batch is destroyed atomically by ZFS."""
    argvs, batch, size = [], [], len(dataset) + 1
    for name in names:
        if not name or "@" in name or "," in name or "%" in name or "/" in name:
            raise RetentionError("refusing to destroy snapshot with unsafe name %r" % (name,))
        if batch and size + len(name) + 1 > arg_max:
            argvs.append([zfs, "destroy", "%s@%s" % (dataset, ",".join(batch))])
            batch, size = [], len(dataset) + 1
        batch.append(name)
        size += len(name) + 1
    if batch:
        argvs.append([zfs, "destroy", "%s@%s" % (dataset, ",".join(batch))])
    return argvs


def btrfs_snapshot_argv(source, dest, btrfs="btrfs"):
    return [btrfs, "subvolume", "snapshot", "-r", source, dest]


def btrfs_delete_argvs(paths, btrfs="btrfs", argv_max=BTRFS_ARGV_MAX):
    """``btrfs subvolume delete p1 p2 ...`` commands covering exactly ``paths``."""
    argvs, batch, size = [], [], 0
    for path in paths:
        if batch and size + len(path) + 1 > argv_max:
            argvs.append([btrfs, "subvolume", "delete"] + batch)
            batch, size = [], 0
        batch.append(path)
        size += len(path) + 1
    if batch:
        argvs.append([btrfs, "subvolume", "delete"] + batch)
    return argvs


# -- the stores -----------------------------------------------------------------------------------------

class _Store(object):
    """Takes and destroys with the argv lists a store plans (``take_argvs``, ``destroy_argvs``)."""

    runner = None

    def take(self, name):
        for argv in self.take_argvs(name):
            self.runner.change(argv)

    def destroy(self, names):
        for argv in self.destroy_argvs(names):
            self.runner.change(argv)


class Zfs(_Store):
    """Snapshots ``<dataset>@<name>``, never recursive; one ``zfs list`` lists them."""

    def __init__(self, runner, item):
        self.runner, self.dataset = runner, item["target"]

    def probe(self):
        out = self.runner.read(["zfs", "list", "-H", "-p", "-o", "name,type", self.dataset]).split("\t")
        if len(out) < 2 or out[1].strip() not in ("filesystem", "volume"):
            raise Failure("%s is not a ZFS filesystem or volume" % self.dataset)

    def list(self):
        return parse_zfs_list(self.runner.read(zfs_list_argv(self.dataset)), self.dataset)

    def take_argvs(self, name):
        return [zfs_snapshot_argv(self.dataset, name)]

    def destroy_argvs(self, names):
        return zfs_destroy_argvs(self.dataset, names)


class Btrfs(_Store):
    """Snapshots are read-only subvolumes ``<snapshot_dir>/<name>``; listing reads that directory."""

    def __init__(self, runner, item, mounts):
        self.runner, self.path, self.dir, self.mounts = runner, item["target"], item["snapshot_dir"], mounts

    def probe(self):
        problem = btrfs_target_problem(self.mounts, self.path, self.dir)
        if problem:
            raise Failure(problem)

    def list(self):
        return list_btrfs_snapshots(self.dir)

    def take_argvs(self, name):
        return [btrfs_snapshot_argv(self.path, os.path.join(self.dir, name))]

    def destroy_argvs(self, names):
        return btrfs_delete_argvs([os.path.join(self.dir, n) for n in names])

    def make_dir(self):
        """The snapshot directory, root-only, before the first snapshot goes in."""
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, mode=0o700)

    def take(self, name):
        if not self.runner.dry_run:
            self.make_dir()
        _Store.take(self, name)


def store(runner, item, mounts):
    """The store of a checked configuration's ``item``."""
    return Zfs(runner, item) if item["kind"] == "zfs" else Btrfs(runner, item, mounts)
