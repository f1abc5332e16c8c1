# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's root directory from its config.toml, and where its btrfs/zfs snapshotters keep their data. Pure."""

from __future__ import annotations

import re

DEFAULT_ROOT = "/var/lib/containerd"
SNAPSHOTTERS = ("btrfs", "zfs")
_ROOT = re.compile(r"""^\s*root\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$""")


def parse_root(config_text):
    """The top-level ``root`` of a containerd config.toml (keys before the first table), else the default."""
    for line in (config_text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            break
        match = _ROOT.match(line)
        if match:
            value = match.group(1) if match.group(1) is not None else match.group(2)
            if value.startswith("/"):
                return value.rstrip("/") or "/"
    return DEFAULT_ROOT


def snapshotter_dirs(root):
    """snapshotter name -> the directory containerd keeps its data in."""
    return dict((name, "%s/io.containerd.snapshotter.v1.%s" % (root.rstrip("/"), name)) for name in SNAPSHOTTERS)
