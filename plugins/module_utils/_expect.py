# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the audit reads besides the facts, in the same round trip: the text of the files the role writes (fstab,
the drop-ins, the snapshot schedule, containerd's config), the digests of the snapshot tool's files and the ZFS
dataset and pool properties it sets. Reads only; the comparison is _drift's."""

from __future__ import annotations

import hashlib
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


def file_digests(paths):
    """``{path: sha256 hex}`` of each absolute path's content; None where it does not exist or cannot be read."""
    result = {}
    for path in paths or ():
        if not isinstance(path, str) or not os.path.isabs(path):
            continue
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(block)
            result[path] = digest.hexdigest()
        except (IOError, OSError):
            result[path] = None
    return result


def _names(props):
    return [p for p in props or () if isinstance(p, str) and p and all(c.isalnum() or c in "_.:-@" for c in p)]


def zpool_properties(run, zpool_bin, wanted):
    """``{pool: {property: [value, source]}}`` for ``{pool: [property, ...]}``; None for a pool that does not
    exist (or no zpool command). Names are checked before they reach the command line."""
    result = {}
    for pool, props in sorted((wanted or {}).items()):
        names = _names(props)
        if not zpool_bin or validate_name(pool, kind="pool") or not names:
            result[pool] = None
            continue
        rc, out, _err = run([zpool_bin, "get", "-H", "-p", "-o", "name,property,value,source", ",".join(names), pool])
        got = parse_get(out).get(pool) if rc == 0 else None
        result[pool] = dict((k, list(v)) for k, v in got.items()) if got else None
    return result


def zfs_properties(run, zfs_bin, wanted):
    """``{dataset: {property: [value, source]}}`` for ``{dataset: [property, ...]}``; a dataset that does not
    exist (or no zfs command) maps to None. Names are checked before they reach the command line."""
    result = {}
    for dataset, props in sorted((wanted or {}).items()):
        names = _names(props)
        if not zfs_bin or validate_name(dataset) or not names:
            result[dataset] = None
            continue
        rc, out, _err = run([zfs_bin, "get", "-H", "-p", "-o", "name,property,value,source", ",".join(names),
                             dataset])
        got = parse_get(out).get(dataset) if rc == 0 else None
        result[dataset] = dict((k, list(v)) for k, v in got.items()) if got else None
    return result
