# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every drift the role would fix, from its variables and one round trip of facts: the audit's view of what
``site.yml --check --diff`` would change. Pure, no I/O.

Each check uses the rule of the part of the role that makes the change: the preflight's plan (daemon.json, the
restart), btrfs_storage's option drift and fstab line, zfs_storage's property plan, the drop-in template's
directives and the snapshot role's schedule. ``reads()`` says what the facts must hold for it (files, ZFS
properties), before the host is contacted.

A drift is a dict ``area`` (daemon.json, docker, storage, mount, fstab, zfs, zpool, drop-in, containerd,
snapshots), ``what`` (a line for people) and ``now``/``wanted``."""

from __future__ import annotations

import json
import os

from ._btrfs import mount_option_drift
from ._fstab import entry_for, render
from ._retention import RetentionError
from ._schedule import parse_cron
from ._toml_lines import render as toml_value, set_key
from ._zfs import normalize_atime, plan_properties, validate_name

CRON_MARKER = "#Ansible: cowstack.docker_storage snapshots"
LAB_REQUIRES = "x-systemd.requires=cowstack-docker-storage-lab.service"


def _item(area, what, now=None, wanted=None):
    return {"area": area, "what": what, "now": now, "wanted": wanted}


def _prepared_here(inputs, choice):
    """The role prepares (and keeps) btrfs/ZFS storage: that driver, with devices or a lab file given."""
    return (choice or {}).get("driver") in ("btrfs", "zfs") and bool(
        inputs.get("docker_storage_devices") or inputs.get("docker_storage_lab_file"))


def _snapshot_paths(snapshot):
    if not snapshot or not snapshot.get("docker_storage_snapshots"):
        return None, None
    cron = os.path.join("/etc/cron.d", snapshot.get("docker_storage_snapshot_cron_file") or "")
    timer = os.path.join(snapshot.get("docker_storage_snapshot_systemd_dir") or "/etc/systemd/system",
                         "%s.timer" % snapshot.get("docker_storage_snapshot_unit"))
    return cron, timer


def _pool_wanted(inputs):
    return dict((k, str(v)) for k, v in (inputs.get("docker_storage_zfs_pool_properties") or {}).items())


def reads(inputs, paths, snapshot=None):
    """storage_facts' arguments for what the checks read besides the facts: ``read_files``, ``checksum_files``
    (the snapshot tool's files, ``snapshot['tool_files']``), ``zfs_properties`` and ``zpool_properties``."""
    files = [inputs.get("docker_storage_fstab"), paths.get("storage_dropin"), paths.get("containerd_dropin")]
    files.extend(_snapshot_paths(snapshot))
    tool_files = []
    if snapshot and snapshot.get("docker_storage_snapshots"):
        files.append(snapshot.get("docker_storage_snapshot_config"))
        tool_files = sorted(snapshot.get("tool_files") or {})
    if inputs.get("docker_storage_containerd_settings"):
        files.append(inputs.get("docker_storage_containerd_config"))
    props, pool_props = {}, {}
    dataset, pool = inputs.get("docker_storage_zfs_dataset"), inputs.get("docker_storage_zfs_pool")
    if inputs.get("docker_storage_devices") or inputs.get("docker_storage_lab_file"):
        if isinstance(dataset, str) and not validate_name(dataset):
            wanted = normalize_atime(dict((k, str(v)) for k, v in (inputs.get("docker_storage_zfs_properties") or {}).items()))
            props[dataset] = sorted(set(wanted) | {"mountpoint", "mounted"})
        if isinstance(pool, str) and not validate_name(pool, kind="pool") and _pool_wanted(inputs):
            pool_props[pool] = sorted(_pool_wanted(inputs))
    return {"read_files": [f for f in files if isinstance(f, str) and f], "checksum_files": tool_files,
            "zfs_properties": props, "zpool_properties": pool_props}


def _value(data):
    return "absent" if data is None else json.dumps(data, sort_keys=True)


def _daemon(inputs, facts, plan):
    daemon = plan.get("daemon") or {}
    items = []
    if not inputs.get("docker_storage_manage_daemon") or not daemon.get("write"):
        return items
    path = inputs.get("docker_storage_daemon_json_path")
    before = (facts.get("daemon_json") or {}).get("content") or {}
    after = daemon.get("content") or {}
    if not (facts.get("daemon_json") or {}).get("exists"):
        items.append(_item("daemon.json", "%s does not exist; the role writes it" % path, None, after))
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            items.append(_item("daemon.json", "%s %s: %s now, %s wanted" % (path, key, _value(before.get(key)),
                                                                            _value(after.get(key))),
                               before.get(key), after.get(key)))
    return items


def _docker(inputs, facts, plan):
    docker = facts.get("docker") or {}
    if not plan.get("restart_pending") or plan.get("resume"):
        return []
    return [_item("docker", "dockerd runs driver %s, data-root %s, %s store: the role restarts it on what "
                            "daemon.json says" % (docker.get("driver"), docker.get("data_root"), docker.get("image_store")))]


def _btrfs(inputs, facts, prepare_at):
    items = []
    backing = facts.get("backing_fs") or {}
    if backing.get("fstype") != "btrfs" or backing.get("mount_point") != prepare_at:
        return items  # not made yet: the storage item says so
    missing = mount_option_drift(backing.get("options") or [], inputs.get("docker_storage_btrfs_mount_options") or [])
    if missing:
        items.append(_item("mount", "%s is mounted without %s (the role remounts it)" % (prepare_at, ",".join(missing)),
                           backing.get("options"), missing))
    fstab = inputs.get("docker_storage_fstab")
    text = (facts.get("files") or {}).get(fstab)
    uuid = None
    for info in facts.get("devices") or []:
        probe = info.get("probe") or {}
        if probe.get("TYPE") == "btrfs" and probe.get("UUID"):
            uuid = probe["UUID"]
            break
    options = list(inputs.get("docker_storage_btrfs_mount_options") or []) + [
        "subvol=%s" % inputs.get("docker_storage_btrfs_subvolume")]
    if inputs.get("docker_storage_lab_file") and LAB_REQUIRES not in options:
        options.append(LAB_REQUIRES)
    wanted = render("UUID=%s" % (uuid or "<its UUID>"), prepare_at, "btrfs", options)
    current = entry_for(text, prepare_at)
    if current is None:
        items.append(_item("fstab", "%s has no entry for %s" % (fstab, prepare_at), None, wanted))
    elif current[1:4] != wanted.split()[1:4] or (uuid and current[0] != "UUID=%s" % uuid):
        items.append(_item("fstab", "%s entry for %s is '%s', '%s' wanted" % (fstab, prepare_at, " ".join(current),
                                                                              wanted), " ".join(current), wanted))
    return items


def _zfs(inputs, facts, prepare_at):
    dataset = inputs.get("docker_storage_zfs_dataset")
    current = (facts.get("zfs_properties") or {}).get(dataset)
    if current is None:
        return []  # not made yet: the storage item says so
    wanted = normalize_atime(dict((k, str(v)) for k, v in (inputs.get("docker_storage_zfs_properties") or {}).items()))
    wanted["mountpoint"] = prepare_at
    changes = plan_properties(dict((k, tuple(v)) for k, v in current.items()), wanted)
    items = [_item("zfs", "%s %s is %s (%s), %s wanted" % (dataset, prop, old, source, new), old, new)
             for prop, old, new, source in changes]
    if (current.get("mounted") or ["yes"])[0] != "yes" and not any(c[0] == "mountpoint" for c in changes):
        items.append(_item("zfs", "%s is not mounted (the role mounts it)" % dataset, "no", "yes"))
    return items


def _zpool(inputs, facts):
    """The pool properties zfs_storage sets on a pool that exists (ashift is fixed at create: the role refuses)."""
    pool = inputs.get("docker_storage_zfs_pool")
    current = (facts.get("zpool_properties") or {}).get(pool)
    if current is None:
        return []  # not made yet: the storage item says so
    items = []
    for prop, old, new, source in plan_properties(dict((k, tuple(v)) for k, v in current.items()), _pool_wanted(inputs)):
        fix = ("fixed when a vdev is created: the role refuses this drift" if prop == "ashift"
               else "the role sets it")
        items.append(_item("zpool", "pool %s %s is %s (%s), %s wanted (%s)" % (pool, prop, old, source, new, fix),
                           old, new))
    return items


def _containerd(inputs, facts):
    """The keys containerd_config sets in the system containerd's config.toml, by the same line rules."""
    settings = inputs.get("docker_storage_containerd_settings") or {}
    path = inputs.get("docker_storage_containerd_config")
    if not settings or not path:
        return []
    text = (facts.get("files") or {}).get(path)
    items = []
    for key in sorted(settings):
        wanted = toml_value(settings[key])
        try:
            _new, before = set_key(text, key, settings[key])
        except ValueError as exc:
            items.append(_item("containerd", "%s: %s (the role refuses it)" % (path, exc), None, wanted))
            continue
        if before != wanted:
            items.append(_item("containerd", "%s %s: %s now, %s wanted" % (
                path, key, "absent" if before is None else before, wanted), before, wanted))
    return items


def _tool_files(snapshot, facts):
    """The snapshot tool's installed files against the collection's (snapshot_install rewrites them)."""
    if snapshot.get("docker_storage_snapshot_state", "present") != "present":
        return []
    have = facts.get("checksums") or {}
    changed = sorted(path for path, digest in (snapshot.get("tool_files") or {}).items() if have.get(path) != digest)
    if not changed:
        return []
    missing = [path for path in changed if have.get(path) is None]
    return [_item("snapshots", "the snapshot tool's files %s %s the collection's (the role installs them)" % (
        ", ".join(changed), "are missing or differ from" if missing else "differ from"),
        dict((p, have.get(p)) for p in changed), dict((p, snapshot["tool_files"][p]) for p in changed))]


def dropin_lines(prepare_at, hold_file, driver):
    """The directives of templates/docker-storage-dropin.conf.j2 (tests render the template to keep them one)."""
    lines = ["[Unit]", "RequiresMountsFor=%s" % prepare_at, "ConditionPathIsMountPoint=%s" % prepare_at,
             "ConditionPathExists=!%s" % hold_file]
    if driver == "zfs":
        lines += ["Requires=zfs-mount.service", "After=zfs-mount.service"]
    return lines


def directives(text):
    """The lines of a unit file that are not comments or blank."""
    return [line.strip() for line in (text or "").splitlines() if line.strip() and not line.strip().startswith(("#", ";"))]


def _dropin(inputs, facts, paths, prepare_at, driver):
    if not inputs.get("docker_storage_docker_unit_dropin"):
        return []
    path = paths.get("storage_dropin")
    text = (facts.get("files") or {}).get(path)
    wanted = dropin_lines(prepare_at, paths.get("hold_file"), driver)
    if text is None:
        return [_item("drop-in", "%s is missing: docker does not wait for the storage at %s" % (path, prepare_at),
                      None, wanted)]
    have = directives(text)
    if have != wanted:
        return [_item("drop-in", "%s says %s, %s wanted" % (path, "; ".join(have), "; ".join(wanted)), have, wanted)]
    return []


def _snapshot_config(snapshot, files):
    """The tool's configuration as snapshot_install writes it (the snapshot role's document, as JSON)."""
    doc, path = snapshot.get("config_doc"), snapshot.get("docker_storage_snapshot_config")
    if doc is None or not path:
        return []
    text = files.get(path)
    if text is None:
        return [_item("snapshots", "the snapshot tool's configuration %s is missing" % path, None, doc)]
    try:
        have = json.loads(text)
    except ValueError:
        return [_item("snapshots", "the snapshot tool's configuration %s is not JSON" % path, text, doc)]
    wanted = json.loads(json.dumps(doc))
    keys = sorted(k for k in set(have) | set(wanted) if have.get(k) != wanted.get(k)) if isinstance(have, dict) else ["*"]
    if keys:
        return [_item("snapshots", "the snapshot tool's configuration %s differs in %s" % (path, ", ".join(keys)),
                      have, wanted)]
    return []


def _snapshots(snapshot, facts):
    cron, timer = _snapshot_paths(snapshot)
    if cron is None or snapshot.get("docker_storage_snapshot_state", "present") != "present":
        return []
    try:
        schedule = parse_cron(snapshot.get("docker_storage_snapshot_schedule"))
    except RetentionError:
        return []  # the role refuses it before any change
    files = facts.get("files") or {}
    items = _snapshot_config(snapshot, files) + _tool_files(snapshot, facts)
    if snapshot.get("docker_storage_snapshot_scheduler", "cron") == "systemd":
        wanted = snapshot.get("docker_storage_snapshot_on_calendar") or schedule["on_calendar"]
        text = files.get(timer)
        have = [line.split("=", 1)[1] for line in directives(text) if line.startswith("OnCalendar=")]
        if text is None:
            return items + [_item("snapshots", "the timer %s is missing" % timer, None, wanted)]
        if have != [wanted]:
            return items + [_item("snapshots", "the timer %s runs at %s, %s wanted" % (
                timer, ", ".join(have) or "no time", wanted), have, wanted)]
        return items
    wanted = "@%s" % schedule["special_time"] if schedule["special_time"] else " ".join(
        schedule[k] for k in ("minute", "hour", "day", "month", "weekday"))
    lines = (files.get(cron) or "").splitlines()
    job = None
    for number, line in enumerate(lines):
        if line.strip() == CRON_MARKER and number + 1 < len(lines):
            job = lines[number + 1].split()
    if job is None:
        return items + [_item("snapshots", "no snapshot job in %s" % cron, None, wanted)]
    have = job[0] if job and job[0].startswith("@") else " ".join(job[:5])
    if have != wanted:
        return items + [_item("snapshots", "the snapshot job in %s runs at '%s', '%s' wanted" % (cron, have, wanted),
                              have, wanted)]
    return items


def drift(inputs, facts, plan, paths, snapshot=None):
    """Every difference between the host and what the role's variables ask, as the role would fix it."""
    facts, plan, inputs = facts or {}, plan or {}, inputs or {}
    choice = plan.get("choice") or {}
    data_root = inputs.get("docker_storage_data_root")
    prepare_at = plan.get("prepare_at") or data_root
    items = _containerd(inputs, facts) + _daemon(inputs, facts, plan) + _docker(inputs, facts, plan)
    if _prepared_here(inputs, choice):
        if choice.get("prepare"):
            items.append(_item("storage", "%s storage is to be made at %s (%s there now)" % (
                choice["prepare"], prepare_at, (facts.get("backing_fs") or {}).get("fstype")), None, choice["prepare"]))
        elif choice["driver"] == "btrfs":
            items += _btrfs(inputs, facts, prepare_at)
        else:
            items += _zpool(inputs, facts) + _zfs(inputs, facts, prepare_at)
        items += _dropin(inputs, facts, paths, prepare_at, choice["driver"])
    items += _snapshots(snapshot, facts)
    return items
