# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot tool's configuration checked and normalised, its targets, what Docker and containerd own among
them (from a mount table given), and the audit's view of a configuration's snapshot ages. Pure, no I/O.

Installed beside the standalone ``cowstack-snapshot`` tool with ``_retention``: standard library only, and the
collection's files it imports are imported relatively here and as plain modules there."""

from __future__ import annotations

import re

try:
    from ._mountinfo import at_or_below, below, mount_for, normpath, within
    from ._retention import (
        DEFAULT_FREQUENT_MINUTES, DEFAULT_PREFIX, RetentionError, check_frequent_minutes, check_policy, check_prefix,
        epoch_seconds, monitor, newest, parse_duration, parse_name, to_datetime)
    from ._schedule import parse_cron
except ImportError:  # beside the installed tool: plain modules
    from _mountinfo import at_or_below, below, mount_for, normpath, within
    from _retention import (
        DEFAULT_FREQUENT_MINUTES, DEFAULT_PREFIX, RetentionError, check_frequent_minutes, check_policy, check_prefix,
        epoch_seconds, monitor, newest, parse_duration, parse_name, to_datetime)
    from _schedule import parse_cron

# A root-only directory: a lock in a world-writable one (/run/lock) could be taken first by any user.
DEFAULT_LOCK_FILE = "/run/cowstack-docker-storage/snapshot.lock"
CONFIG_VERSION = 1

_ZFS_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
_DOCKER_LAYER_RE = re.compile(r"^[0-9a-f]{64}(-init)?$")


# -- targets and Docker awareness -----------------------------------------------------------------------

def target_kind(target):
    """``btrfs`` for an absolute path, ``zfs`` for a dataset name; raise for anything else."""
    if not isinstance(target, str) or not target:
        raise RetentionError("target must be a ZFS dataset name or an absolute btrfs subvolume path, not %r"
                             % (target,))
    if target.startswith("/"):
        if "\n" in target or "/../" in target + "/" or "/./" in target + "/":
            raise RetentionError("btrfs target %r must be a plain absolute path" % (target,))
        return "btrfs"
    if "@" in target or "//" in target or target.endswith("/") or not _ZFS_NAME_RE.match(target):
        raise RetentionError("ZFS target %r is not a dataset name (pool/dataset, no '@')" % (target,))
    return "zfs"


def default_snapshot_dir(target):
    """Where btrfs snapshots of ``target`` live unless configured: ``<target>/.snapshots`` (same filesystem;
    the snapshots, being nested subvolumes, are not part of later snapshots of the target)."""
    return normpath(target) + "/.snapshots"


def docker_storage(mounts, data_roots=("/var/lib/docker",), containerd_roots=("/var/lib/containerd",),
                   zfs_fsnames=()):
    """What Docker and containerd own, from the mount table (as ``_mountinfo.parse_mountinfo`` reads it):
    ``zfs_parents`` (datasets whose children are Docker layers), ``zfs_excluded`` (datasets excluded with all
    their descendants), ``paths_excluded`` (btrfs paths excluded with everything below) and ``zfs_dedicated``
    (parents mounted exactly at a data-root or its ``zfs`` directory: Docker's own datasets, safe to mark
    ``com.sun:auto-snapshot=false``; a data-root that is a plain directory of, say, the root dataset is not
    listed)."""
    parents, excluded, paths, dedicated = list(zfs_fsnames), [], [], []
    for root in data_roots:
        root = normpath(root)
        held = mount_for(mounts, root + "/zfs")
        if held and held["fstype"] == "zfs" and held["source"] not in parents:
            parents.append(held["source"])
        if held and held["fstype"] == "zfs" and held["mount_point"] in (root, root + "/zfs") \
                and held["source"] not in dedicated:
            dedicated.append(held["source"])
        paths.extend([root + "/btrfs", root + "/zfs", root + "/overlay2", root + "/containerd"])
    for root in containerd_roots:
        root = normpath(root)
        for kind in ("zfs", "btrfs", "overlayfs", "native"):
            snap_root = "%s/io.containerd.snapshotter.v1.%s" % (root, kind)
            paths.append(snap_root)
            held = mount_for(mounts, snap_root)
            if kind == "zfs" and held and held["fstype"] == "zfs" and held["mount_point"] == snap_root:
                excluded.append(held["source"])
    return {"zfs_parents": parents, "zfs_excluded": excluded, "paths_excluded": paths, "zfs_dedicated": dedicated}


def docker_refusal(target, docker):
    """Why ``target`` must not be snapshotted (Docker's or containerd's own layers), or None.

    The data-root dataset or subvolume itself is fine: snapshots here are never recursive, and a btrfs
    snapshot does not descend into nested subvolumes."""
    kind = target_kind(target)
    if kind == "zfs":
        for parent in docker["zfs_parents"]:
            if below(target, parent):
                return ("%s is a layer dataset Docker created under %s; snapshots of it keep Docker from "
                        "removing layers (moby#40132, #41055)" % (target, parent))
        for root in docker["zfs_excluded"]:
            if at_or_below(target, root):
                return "%s belongs to containerd's zfs snapshotter (%s)" % (target, root)
        if _DOCKER_LAYER_RE.match(target.rsplit("/", 1)[-1]):
            return "%s is named like a Docker layer dataset" % target
        return None
    for path in docker["paths_excluded"]:
        if within(target, path):
            return ("%s is under %s, which Docker or containerd manage as layers; snapshots there keep them "
                    "from removing layers" % (target, path))
    return None


# -- the tool's configuration ---------------------------------------------------------------------------

def check_config(doc):
    """Validate the tool's JSON configuration; return it normalised or raise with every problem.

    ``{"version": 1, "prefix": str, "policy": {...}, "frequent_minutes": int, "schedule": cron,
    "targets": [{"target": str, "policy": {...}?, "snapshot_dir": path?}], "docker": {"data_roots": [...],
    "containerd_roots": [...], "zfs_fsnames": [...]}, "monitor": {"warn": dur, "critical": dur},
    "lock_file": path, "metrics_file": path or ""}``"""
    if not isinstance(doc, dict):
        raise RetentionError("configuration must be a JSON object")
    problems = []
    known = ("version", "prefix", "policy", "frequent_minutes", "schedule", "targets", "docker", "monitor", "lock_file",
             "metrics_file")
    for key in sorted(set(doc) - set(known), key=str):
        problems.append("unknown setting %r" % (key,))
    if doc.get("version", CONFIG_VERSION) != CONFIG_VERSION:
        problems.append("version must be %d" % CONFIG_VERSION)
    out = {"version": CONFIG_VERSION}

    def attempt(key, func, *args):
        try:
            out[key] = func(*args)
        except RetentionError as exc:
            problems.append(str(exc))

    attempt("prefix", check_prefix, doc.get("prefix", DEFAULT_PREFIX))
    attempt("policy", check_policy, doc.get("policy"))
    attempt("frequent_minutes", check_frequent_minutes, doc.get("frequent_minutes", DEFAULT_FREQUENT_MINUTES))
    if doc.get("schedule") is not None:
        attempt("schedule", parse_cron, doc.get("schedule"))
    monitor_doc = doc.get("monitor") or {}
    if not isinstance(monitor_doc, dict):
        problems.append("monitor must be a mapping with warn and critical")
        monitor_doc = {}
    mon = {}
    for key, default in (("warn", "2h"), ("critical", "6h")):
        try:
            mon[key] = parse_duration(monitor_doc.get(key, default), "monitor.%s" % key)
        except RetentionError as exc:
            problems.append(str(exc))
    if len(mon) == 2 and mon["warn"] > mon["critical"]:
        problems.append("monitor.warn must not be above monitor.critical")
    out["monitor"] = mon
    lock = doc.get("lock_file", DEFAULT_LOCK_FILE)
    if not isinstance(lock, str) or not lock.startswith("/"):
        problems.append("lock_file must be an absolute path")
    out["lock_file"] = lock
    metrics = doc.get("metrics_file") or ""
    if metrics and (not isinstance(metrics, str) or not metrics.startswith("/") or not metrics.endswith(".prom")):
        problems.append("metrics_file %r must be an absolute path ending in .prom (node_exporter's textfile "
                        "collector reads *.prom), or empty" % (metrics,))
    out["metrics_file"] = metrics if isinstance(metrics, str) else ""
    docker = doc.get("docker") or {}
    out["docker"] = {}
    for key, default in (("data_roots", ["/var/lib/docker"]), ("containerd_roots", ["/var/lib/containerd"]),
                         ("zfs_fsnames", [])):
        value = docker.get(key, default) if isinstance(docker, dict) else default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append("docker.%s must be a list of strings" % key)
            value = default
        out["docker"][key] = value
    targets = doc.get("targets")
    out["targets"] = []
    if not isinstance(targets, list):
        problems.append("targets must be a list")
        targets = []
    seen = set()
    for index, entry in enumerate(targets):
        where = "targets[%d]" % index
        if isinstance(entry, str):
            entry = {"target": entry}
        if not isinstance(entry, dict):
            problems.append("%s must be a mapping with 'target'" % where)
            continue
        for key in sorted(set(entry) - {"target", "policy", "snapshot_dir"}, key=str):
            problems.append("%s: unknown setting %r" % (where, key))
        target = entry.get("target")
        try:
            kind = target_kind(target)
        except RetentionError as exc:
            problems.append("%s: %s" % (where, exc))
            continue
        if kind == "btrfs":
            target = normpath(target)
        if target in seen:
            problems.append("%s: %s is listed twice" % (where, target))
        seen.add(target)
        item = {"target": target, "kind": kind}
        if entry.get("policy") is not None:
            try:
                item["policy"] = check_policy(entry["policy"], "%s.policy" % where)
            except RetentionError as exc:
                problems.append(str(exc))
        snap_dir = entry.get("snapshot_dir")
        if kind == "btrfs":
            if snap_dir is not None and (not isinstance(snap_dir, str) or not snap_dir.startswith("/")):
                problems.append("%s.snapshot_dir must be an absolute path" % where)
            item["snapshot_dir"] = normpath(snap_dir) if isinstance(snap_dir, str) and snap_dir.startswith("/") \
                else default_snapshot_dir(target)
        elif snap_dir is not None:
            problems.append("%s.snapshot_dir is for btrfs targets only" % where)
        out["targets"].append(item)
    problems.extend(_overlaps([i for i in out["targets"] if i["kind"] == "btrfs"]))
    if problems:
        raise RetentionError("; ".join(problems))
    return out


def _overlaps(items):
    """btrfs targets whose snapshot directories would mix: snapshot names do not name the target, so each
    target's prune would count (and delete) the other's snapshots."""
    problems = []
    for index, item in enumerate(items):
        for other in items[index + 1:]:
            mine, theirs = item["snapshot_dir"], other["snapshot_dir"]
            if within(mine, theirs) or within(theirs, mine):
                problems.append("%s and %s: snapshot directories %s and %s overlap; give each its own snapshot_dir" % (
                    item["target"], other["target"], item["snapshot_dir"], other["snapshot_dir"]))
        for other in items:
            if other is not item and within(item["target"], other["snapshot_dir"]):
                problems.append("%s is inside the snapshot directory of %s" % (item["target"], other["target"]))
    return problems


def target_policy(config, item):
    return item.get("policy") or config["policy"]


def age_report(config, listed, now):
    """The audit's view of the snapshot tool: per target of ``config`` (checked), the newest of our snapshots,
    its age and ``--check``'s verdict with the configured ages. ``listed``: ``{target: [names]}``, or an error
    string for a target that could not be listed. Pure."""
    warn, critical = config["monitor"]["warn"], config["monitor"]["critical"]
    targets = []
    for item in config["targets"]:
        names = listed.get(item["target"])
        row = {"target": item["target"], "kind": item["kind"], "count": None, "newest": None, "age_seconds": None,
               "state": "UNKNOWN", "error": None}
        if isinstance(names, list):
            snap = newest(names, config["prefix"])
            row["count"] = len([n for n in names if parse_name(n, config["prefix"])])
            code = monitor({item["target"]: snap["epoch"] if snap else None}, now, warn, critical)[0]
            row["state"] = ("OK", "WARNING", "CRITICAL")[code]
            if snap:
                age = int(epoch_seconds(to_datetime(now))) - int(snap["epoch"])
                row["newest"], row["age_seconds"] = snap["name"], age
        else:
            row["error"] = names or "not listed"
        targets.append(row)
    return {"warn": warn, "critical": critical, "targets": targets, "error": None}
