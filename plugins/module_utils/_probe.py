# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What storage_facts' probes share: the one file reader, and ``Probe``, the base of each probe class (one object
per module run) that runs commands (argv lists, ``LC_ALL=C``), finds binaries (sbin directories too) and reads
the mount table once. Reads the host; changes nothing."""

from __future__ import annotations

import os

from ._command import run_c
from ._mountinfo import mount_for, parse_mountinfo

SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"]


def read_file(path, limit=None):
    """The text of ``path`` (UTF-8, undecodable bytes replaced; at most ``limit`` bytes), or None when it cannot
    be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
        return data.decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def read_mounts():
    """This process's mount table, as ``_mountinfo.parse_mountinfo`` reads it ([] when it cannot be read)."""
    return parse_mountinfo(read_file("/proc/self/mountinfo"))


class Probe(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.mounts = None

    def run(self, argv):
        return run_c(self.module, argv)

    def bin(self, name):
        return self.module.get_bin_path(name, opt_dirs=SBIN_DIRS)

    def mount_of(self, path):
        """``(real path, mount)`` of ``path``, or of its nearest existing parent when it does not exist yet."""
        probe = path
        while not os.path.exists(probe) and probe not in ("/", ""):
            probe = os.path.dirname(probe)
        real = os.path.realpath(probe)
        if self.mounts is None:
            self.mounts = read_mounts()
        return real, mount_for(self.mounts, real) or {}
