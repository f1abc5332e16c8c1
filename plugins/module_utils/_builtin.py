# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which optional storage backends a dockerd or containerd binary was built with.

A Go binary keeps the import path of every package linked into it, so a backend left out at build time has no
path in the file. Debian's docker.io 28 and containerd 2.1 (unstable) leave out ZFS: dockerd has no zfs
graphdriver and containerd no zfs snapshotter, so on a ZFS dataset dockerd fails with storage-driver zfs. The
package paths below are those of moby (daemon/graphdriver/<name>, also under moby/v2) and of containerd (the
btrfs snapshotter in its tree, the zfs one in its own module, containerd/zfs)."""

from __future__ import annotations

import mmap

GRAPHDRIVER_PACKAGES = {"btrfs": b"daemon/graphdriver/btrfs", "zfs": b"daemon/graphdriver/zfs"}
SNAPSHOTTER_PACKAGES = {"btrfs": b"snapshots/btrfs", "zfs": b"containerd/zfs"}


def built_with(path, packages):
    """``{name: bool}``: whether the binary at ``path`` holds each package path; ``{}`` when it cannot be read
    (nothing is known, and the rules assume the backend is there)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                return dict((name, view.find(needle) != -1) for name, needle in packages.items())
            finally:
                view.close()
    except (IOError, OSError, ValueError):
        return {}
