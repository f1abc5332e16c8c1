# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where containerd's snapshotters keep their data, from its config.toml. Pure.

Reads what decides it: the top-level ``root`` (default /var/lib/containerd; the snapshotter's directory is
``<root>/io.containerd.snapshotter.v1.<name>``) and a ``root_path`` in the snapshotter's own plugin table. A
config that ``imports`` other files may set them there: the result is then marked not certain."""

from __future__ import annotations

import re

from ._toml_lines import join_key

DEFAULT_ROOT = "/var/lib/containerd"
# btrfs/zfs need their directory on that filesystem; overlayfs/native are listed so that the state a stopped
# dockerd left on the containerd store is seen (its snapshots directory).
SNAPSHOTTERS = ("overlayfs", "native", "btrfs", "zfs")
_STRING = r"""(?:"([^"]*)"|'([^']*)')"""
_KEY = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*" + _STRING + r"\s*(?:#.*)?$")
# any list that is not closed empty on the same line, also one whose entries follow on later lines
_IMPORTS = re.compile(r"^\s*imports\s*=\s*\[(?!\s*\])")
_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$")


def _plugin_of(table):
    """The snapshotter a table header such as plugins."io.containerd.snapshotter.v1.btrfs" configures, or None."""
    match = re.match(r"""^plugins\s*\.\s*["']io\.containerd\.snapshotter\.v1\.([a-z]+)["']$""", table)
    return match.group(1) if match and match.group(1) in SNAPSHOTTERS else None


def snapshotter_dirs(config_text):
    """``(dirs, root, certain)``: snapshotter name -> directory of its data; containerd's root; False when the
    config imports other files (which may move them)."""
    root, root_paths, certain, table = DEFAULT_ROOT, {}, True, None
    for line in (config_text or "").splitlines():
        header = _TABLE.match(line)
        if header:
            table = header.group(1)
            continue
        if table is None and _IMPORTS.match(line):
            certain = False
        match = _KEY.match(line)
        if not match:
            continue
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if not value.startswith("/"):
            continue
        if table is None and match.group(1) == "root":
            root = value.rstrip("/") or "/"
        elif match.group(1) == "root_path" and table and _plugin_of(table):
            root_paths[_plugin_of(table)] = value.rstrip("/") or "/"
    dirs = dict((name, root_paths.get(name) or "%s/io.containerd.snapshotter.v1.%s" % (root.rstrip("/"), name))
                for name in SNAPSHOTTERS)
    return dirs, root, certain


def managed_dirs(data_root):
    """The same for the containerd dockerd runs itself (no system containerd): under ``<data-root>/containerd``."""
    root = "%s/containerd/daemon" % data_root.rstrip("/")
    return dict((name, "%s/io.containerd.snapshotter.v1.%s" % (root, name)) for name in SNAPSHOTTERS), root


# Keys that move containerd's data or decide how the file is read: the role prepares storage at the
# snapshotter's directory instead, and a version change rewrites the meaning of every other key.
REFUSED_KEYS = ("root", "state", "imports", "version", "temp")


def setting_problems(parts, variable="settings"):
    """A setting (its key split) that must not be set through this collection -> a message, or None."""
    if len(parts) == 1 and parts[0] in REFUSED_KEYS:
        return ("%s: %s is not set here (it moves containerd's data or changes how the whole file is read): set "
                "it by hand, or leave it out" % (variable, parts[0]))
    if parts[-1] == "root_path":
        return ("%s: %s moves a snapshotter's data: remove it, and let the role prepare the filesystem at the "
                "snapshotter's directory (docker_storage_image_store: containerd)" % (variable, join_key(parts)))
    return None
