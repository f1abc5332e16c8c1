# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_facts' probes of the kernel and the distribution: which storage drivers the kernel and the installed
tools support, the OpenZFS version, /etc/os-release. Reads the host; changes nothing."""

from __future__ import annotations

import os
import re

from ._builtin import GRAPHDRIVER_PACKAGES, SNAPSHOTTER_PACKAGES, built_with
from ._drivers import band_for
from ._probe import Probe, read_file
from ._requirements import os_family
from ._zfs import probe_version


class KernelProbe(Probe):
    # -- kernel support ------------------------------------------------------------------------------
    def available(self, release, docker_version):
        filesystems = set(line.split()[-1] for line in (read_file("/proc/filesystems") or "").splitlines()
                          if line.strip())
        modules = (read_file("/lib/modules/%s/modules.dep" % release) or "") + (
            read_file("/lib/modules/%s/modules.builtin" % release) or "")

        def kernel_has(name):
            return name in filesystems or os.path.isdir("/sys/module/%s" % name) or bool(
                re.search(r"/%s\.ko(\.[a-z]+)?[:\s]" % re.escape(name), modules))

        zfs_bin = self.bin("zfs")
        zfs_version = probe_version(read_file, self.run, zfs_bin)
        devicemapper = False
        band = band_for(docker_version)
        if "devicemapper" not in band.removed and os.path.exists("/dev/mapper/control") \
                and os.path.exists("/run/udev/control"):
            dockerd = self.bin("dockerd")
            devicemapper = bool(dockerd) and built_with(dockerd, {"devmapper": b"libdevmapper.so"}).get("devmapper", False)
        btrfs_tools = bool(self.bin("mkfs.btrfs")) and bool(self.bin("btrfs"))
        zfs_tools = bool(zfs_bin) and bool(self.bin("zpool"))
        zfs_kernel = os.path.exists("/dev/zfs") or kernel_has("zfs")
        return {
            "overlay": kernel_has("overlay"),
            "btrfs": kernel_has("btrfs") and btrfs_tools,
            "btrfs_tools": btrfs_tools,
            "btrfs_kernel": kernel_has("btrfs"),
            "zfs": zfs_tools and zfs_kernel,
            "zfs_tools": zfs_tools,
            "zfs_kernel": zfs_kernel,
            "xfs_tools": bool(self.bin("xfs_info")),
            "zfs_device": os.path.exists("/dev/zfs"),
            "zfs_version": zfs_version,
            "fuse_overlayfs": bool(self.bin("fuse-overlayfs")) and os.path.exists("/dev/fuse"),
            "aufs": "aufs" in filesystems,
            "devicemapper": devicemapper,
            "graphdrivers_built": built_with(self.bin("dockerd"), GRAPHDRIVER_PACKAGES),
            "snapshotters_built": built_with(self.bin("containerd"), SNAPSHOTTER_PACKAGES),
        }

    def os_release(self):
        fields = {}
        for line in (read_file("/etc/os-release") or read_file("/usr/lib/os-release") or "").splitlines():
            key, sep, value = line.partition("=")
            if sep and re.match(r"^[A-Z_]+$", key.strip()):
                fields[key.strip()] = value.strip().strip('"').strip("'")
        return {"id": fields.get("ID"), "id_like": fields.get("ID_LIKE"), "version_id": fields.get("VERSION_ID"),
                "pretty_name": fields.get("PRETTY_NAME"), "family": os_family(fields)}
