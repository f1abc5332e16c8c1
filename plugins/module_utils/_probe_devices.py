# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host probing shared by the storage modules: what a block device is and holds.

It reads through the AnsibleModule it is given (``_command.run_c``: argv lists, LC_ALL=C) and the kernel's /proc
and /sys; every decision on what it read is made by the pure ``_blockdev`` functions.
"""

from __future__ import annotations

import errno
import glob
import os
import stat

from ._blockdev import holdings, parse_blkid_export
from ._lab import MARKER_XATTR, MARKER_VALUE, sidecar_name
from ._command import run_c
from ._mountinfo import mount_for
from ._probe import read_file, read_mounts


def run(module, argv, check=True, plan=None):
    """``run_command`` with an argv list and LC_ALL=C; with ``check``, a failure fails the module with the
    command, its output and the plan so far."""
    rc, out, err = run_c(module, argv)
    if check and rc != 0:
        module.fail_json(msg="%s failed (rc %s): %s" % (" ".join(argv), rc, (err or out).strip()),
                         plan=plan.describe() if plan else [])
    return rc, out, err


def read_text(path):
    """The text of ``path``, or "" when it cannot be read."""
    return read_file(path) or ""


def mounts():
    return read_mounts()


def _sys_name(device):
    return os.path.basename(os.path.realpath(device))


def _disk_of(name, sys="/sys"):
    """sysfs name of the whole disk a partition belongs to (itself for a disk)."""
    path = os.path.realpath("%s/class/block/%s" % (sys, name))
    if os.path.exists(os.path.join(path, "partition")):
        return os.path.basename(os.path.dirname(path))
    return name


def root_disks(mount_list, sys="/sys"):
    """sysfs names of the disks under / (its device, the disk of that partition, and dm/md slaves at every level).

    The device comes from the mount's major:minor (``/sys/dev/block/M:N``), which also names it when the source
    is a name with no device node, such as ``/dev/root`` of a kernel booted without an initramfs; the source
    path serves where the number is an anonymous one (btrfs)."""
    root = mount_for(mount_list, "/") or {}
    found = set()
    by_number = "%s/dev/block/%s" % (sys, root.get("major_minor", ""))
    if root.get("major_minor") and os.path.exists(by_number):
        found.add(os.path.basename(os.path.realpath(by_number)))
    source = root.get("source", "")
    if source.startswith("/dev/") and os.path.exists(source):
        found.add(_sys_name(source))
    # Follow slaves down every level, of each device and of the whole device a partition belongs to: LVM on LUKS
    # on a partition is dm-1 -> dm-0 -> vda2 (disk vda); a partitioned RAID is md126p2 -> md126 -> sda, sdb.
    names, todo = set(), list(found)
    while todo:
        name = todo.pop()
        if name in names:
            continue
        names.add(name)
        todo.append(_disk_of(name, sys))
        slaves = "%s/class/block/%s/slaves" % (sys, name)
        todo.extend(os.listdir(slaves) if os.path.isdir(slaves) else ())
    return names


def _size_bytes(name):
    """Size of a block device from sysfs (512-byte sectors), or None."""
    text = read_text("/sys/class/block/%s/size" % name).strip()
    return int(text) * 512 if text.isdigit() else None


def inspect(module, device, mount_list=None, blkid=None):
    """-> dict ``path``, ``exists``, ``block``, ``problem`` (not usable at all), ``holds`` (list), ``probe``."""
    mount_list = mount_list if mount_list is not None else mounts()
    info = {"path": device, "exists": os.path.exists(device), "block": False, "problem": None, "holds": [],
            "probe": {}}
    if not info["exists"]:
        info["problem"] = "device %s does not exist" % device
        return info
    if not stat.S_ISBLK(os.stat(device).st_mode):
        info["problem"] = "%s is not a block device" % device
        return info
    info["block"] = True
    name = _sys_name(device)
    real = os.path.realpath(device)
    info["root_disk"] = name in root_disks(mount_list)
    if info["root_disk"]:
        info["mounted_at"] = []
        info["holds"] = holdings({}, is_root_disk=True)
        return info
    blkid = blkid or module.get_bin_path("blkid", required=True)
    rc, out, err = run_c(module, [blkid, "-p", "-o", "export", real])
    if rc not in (0, 2):  # 2: nothing found
        module.fail_json(msg="blkid -p %s failed: %s" % (real, err.strip() or out.strip()))
    info["probe"] = parse_blkid_export(out if rc == 0 else "")
    sys_dir = "/sys/class/block/%s" % name
    partitions = sorted(p for p in os.listdir(sys_dir) if p.startswith(name) and os.path.exists(
        os.path.join(sys_dir, p, "partition"))) if os.path.isdir(sys_dir) else []
    holders_dir = os.path.join(sys_dir, "holders")
    holders = sorted(os.listdir(holders_dir)) if os.path.isdir(holders_dir) else []
    rdev = os.stat(real).st_rdev
    number = "%d:%d" % (os.major(rdev), os.minor(rdev))
    mounted_at = sorted(set(m["mount_point"] for m in mount_list if m.get("major_minor") == number or (
        m["source"] and m["source"].startswith("/dev/") and os.path.exists(m["source"])
        and os.path.realpath(m["source"]) == real)))
    info["holds"] = holdings(info["probe"], mounted_at, partitions, holders, busy=busy(real))
    info["mounted_at"] = mounted_at
    info["size_bytes"] = _size_bytes(name)
    return info


def busy(device):
    """Whether another program holds ``device`` open exclusively (a mounted filesystem, a pool, multipath, a
    partitioner): the exclusive open mkfs and zpool make would fail. Opened read-only, closed at once."""
    try:
        fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        return exc.errno == errno.EBUSY
    os.close(fd)
    return False


def attached_loop(path):
    """The loop device ``path`` is attached to, or None."""
    real = os.path.realpath(path)
    for backing in sorted(glob.glob("/sys/block/loop*/loop/backing_file")):
        if read_text(backing).strip() == real:
            return "/dev/" + backing.split("/")[3]
    return None


def has_lab_marker(path):
    """The xattr lab_loop writes when it creates a lab file, or the marker file beside it."""
    try:
        if os.getxattr(path, MARKER_XATTR) == MARKER_VALUE:
            return True
    except (OSError, AttributeError):
        pass
    return os.path.isfile(sidecar_name(path))


def write_lab_marker(path, final=None):
    """Mark ``path`` as a lab file this collection made: the xattr, or the marker file where xattrs are refused
    (named after ``final``, the name ``path`` will be renamed to)."""
    try:
        os.setxattr(path, MARKER_XATTR, MARKER_VALUE)
        return "xattr %s" % MARKER_XATTR
    except OSError as exc:
        if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            raise
    marker = sidecar_name(final or path)
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(MARKER_VALUE + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return "marker file %s" % marker


def read_lab_file(module, path, blkid=None):
    """What ``_lab.refusal`` looks at: ``path``, ``dir_exists``, ``exists``, ``symlink``, ``regular``, ``size``,
    ``marked``, ``probe`` (blkid of the file), ``device`` (its loop device), ``free_bytes`` of its directory."""
    directory = os.path.dirname(path)
    info = {"path": path, "dir_exists": os.path.isdir(directory), "exists": os.path.lexists(path),
            "symlink": os.path.islink(path), "regular": False, "size": None, "marked": False, "probe": {},
            "device": None, "free_bytes": None}
    if info["dir_exists"]:
        vfs = os.statvfs(directory)
        info["free_bytes"] = vfs.f_bavail * vfs.f_frsize
    if not info["exists"] or info["symlink"]:
        return info
    st = os.lstat(path)
    info["regular"] = stat.S_ISREG(st.st_mode)
    if not info["regular"]:
        return info
    info["size"] = st.st_size
    info["marked"] = has_lab_marker(path)
    info["device"] = attached_loop(path)
    blkid = blkid or module.get_bin_path("blkid")
    if blkid and st.st_size:
        rc, out, _err = run_c(module, [blkid, "-p", "-o", "export", path])
        info["probe"] = parse_blkid_export(out) if rc == 0 else {}
    return info
