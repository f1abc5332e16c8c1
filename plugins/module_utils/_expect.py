# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the audit reads besides the facts, in the same round trip: the text of the files the role writes (fstab,
the drop-ins, the snapshot schedule) and the ZFS properties it sets. Reads only; the comparison is _drift's."""

from __future__ import annotations

import os

from ._zfs import parse_get, validate_name

# A file the role writes is small; anything larger is not one of them and is not read whole.
LIMIT = 1 << 20


def read_files(paths, limit=LIMIT):
    """``{path: text}`` of each absolute path; None where it does not exist or cannot be read."""
    result = {}
    for path in paths or ():
        if not isinstance(path, str) or not os.path.isabs(path):
            continue
        try:
            with open(path, "rb") as handle:
                result[path] = handle.read(limit).decode("utf-8", "replace")
        except (IOError, OSError):
            result[path] = None
    return result


def zfs_properties(run, zfs_bin, wanted):
    """``{dataset: {property: [value, source]}}`` for ``{dataset: [property, ...]}``; a dataset that does not
    exist (or no zfs command) maps to None. Names are checked before they reach the command line."""
    result = {}
    for dataset, props in sorted((wanted or {}).items()):
        names = [p for p in props or () if isinstance(p, str) and p and all(c.isalnum() or c in "_.:-" for c in p)]
        if not zfs_bin or validate_name(dataset) or not names:
            result[dataset] = None
            continue
        rc, out, _err = run([zfs_bin, "get", "-H", "-p", "-o", "name,property,value,source", ",".join(names),
                             dataset])
        got = parse_get(out).get(dataset) if rc == 0 else None
        result[dataset] = dict((k, list(v)) for k, v in got.items()) if got else None
    return result
