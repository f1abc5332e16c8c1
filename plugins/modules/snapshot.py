#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Over 400 lines: DOCUMENTATION and RETURN are 290 of them; the rules are in module_utils (_retention, _snapshot_*).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: snapshot
short_description: Take, list and prune this collection's ZFS and btrfs snapshots, Docker-aware
version_added: 0.1.0
description:
  - Ad hoc snapshots from playbooks, with the same names, retention rules and Docker exclusions as the
    C(cowstack-snapshot) tool that the P(cowstack.docker_storage.docker_storage_snapshot#role) role schedules.
  - Snapshots are named C(<prefix>_<label>_<YYYYMMDDTHHMMSSZ>) (UTC). Only snapshots whose whole name has that
    form with O(prefix) are ever destroyed; snapshots made by people or other tools are never touched.
  - O(target) is a ZFS dataset (C(pool/dataset)) or the absolute path of a btrfs subvolume. btrfs snapshots
    are read-only subvolumes in O(snapshot_dir).
  - Docker's own layer datasets (children Docker created under the data-root dataset), C(btrfs/subvolumes)
    under a data-root and containerd snapshotter roots are refused as targets; snapshots are never recursive.
  - Each run lists the target's snapshots once (C(zfs list); for btrfs the snapshot directory is read), builds a
    plan, and outside check mode applies it; destroys are batched (C(zfs destroy pool/ds@a,b,c),
    C(btrfs subvolume delete p1 p2 ...)), not one command per snapshot. The plan is returned in every mode.
  - O(operation=validate) checks a whole C(cowstack-snapshot) configuration (policy, prefix, schedule, targets
    on this host) and returns it normalised, changing nothing; the role runs it before installing anything. In
    check mode a target that does not exist yet as a dataset or subvolume is a warning (see RV(pending)), not an
    error, so that a check-mode run of a whole stack on a new host works; a target Docker owns is refused in
    every mode.
requirements:
  - C(zfs) (zfsutils-linux) for ZFS targets, C(btrfs) (btrfs-progs) for btrfs targets, on the managed node.
  - Root, to take and destroy snapshots.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
attributes:
  check_mode:
    support: full
    details: Returns the plan (snapshot to take, snapshots to destroy) without applying it.
  diff_mode:
    support: full
    details: The snapshot names before and after.
  idempotent:
    support: partial
    details:
      - O(operation=list), O(operation=prune) and O(operation=validate) are idempotent.
      - O(operation=take) names the snapshot after the current second, so each run takes a new one.
  platform:
    platforms: posix
options:
  operation:
    description:
      - V(take) takes one snapshot labelled O(label).
      - V(list) returns this collection's snapshots of O(target) with age and size.
      - V(prune) destroys those of this collection's snapshots with a label in O(labels) that O(policy) does not keep.
      - V(validate) checks O(config) and the targets it names.
    type: str
    choices: [take, list, prune, validate]
    default: list
  target:
    description:
      - ZFS dataset name, or absolute path of a btrfs subvolume.
      - Required unless O(operation=validate).
    type: str
  prefix:
    description:
      - First part of the snapshot names. Must not be empty or match other tools' snapshots (C(zfs-auto-snap),
        C(autosnap) and the like are refused).
    type: str
    default: cowstack
  label:
    description:
      - Label of the snapshot O(operation=take) takes, for example C(pre-upgrade). Lower case, digits and C(-).
      - Snapshots with a label that is not a period are not pruned unless O(labels) names that label.
    type: str
    default: manual
  policy:
    description:
      - Retention for O(operation=prune). For each period, the newest snapshot in each of the N most recent
        buckets holding a snapshot is kept (UTC hours, days, ISO weeks, months, years; O(frequent_minutes)
        slots for C(frequently)). A snapshot kept by any period is kept.
      - Keys C(frequently), C(hourly), C(daily), C(weekly), C(monthly), C(yearly) (whole numbers, at least one
        above 0) and C(min_age) (seconds or a duration like C(6h)) protecting younger snapshots.
    type: dict
  labels:
    description: Labels that take part in O(operation=prune). Others are kept.
    type: list
    elements: str
    default: [frequently, hourly, daily, weekly, monthly, yearly]
  frequent_minutes:
    description: Length in minutes of a C(frequently) bucket; must divide an hour.
    type: int
    default: 15
  snapshot_dir:
    description:
      - btrfs only, directory of the read-only snapshot subvolumes, on the same filesystem as O(target).
      - Defaults to C(<target>/.snapshots); being nested subvolumes, they are not part of later snapshots.
    type: path
  docker_data_roots:
    description: Docker data-roots whose layer datasets and subvolumes are refused as targets.
    type: list
    elements: path
    default: [/var/lib/docker]
  containerd_roots:
    description: containerd roots whose snapshotter datasets and subvolumes are refused as targets.
    type: list
    elements: path
    default: [/var/lib/containerd]
  zfs_fsnames:
    description: Datasets named by dockerd's C(zfs.fsname) storage option; their children are refused too.
    type: list
    elements: str
    default: []
  config:
    description:
      - For O(operation=validate), the C(cowstack-snapshot) configuration as a mapping (keys C(prefix),
        C(policy), C(frequent_minutes), C(schedule), C(targets), C(docker), C(monitor), C(lock_file)).
    type: dict
notes:
  - Needs root. Times are UTC; a host clock far off makes new snapshots look old or young.
seealso:
  - name: sanoid
    description: The retention model (periods, newest per bucket) follows sanoid and btrbk.
    link: https://github.com/jimsalterjrs/sanoid
"""

EXAMPLES = r"""
- name: Snapshot Docker's data-root dataset before upgrading Docker
  cowstack.docker_storage.snapshot:
    operation: take
    target: tank/docker
    label: pre-upgrade

- name: List this collection's snapshots of a btrfs subvolume
  cowstack.docker_storage.snapshot:
    target: /srv/data
  register: snaps

- name: Keep 24 hourly and 7 daily snapshots, nothing younger than 2 hours is destroyed
  cowstack.docker_storage.snapshot:
    operation: prune
    target: tank/home
    policy:
      hourly: 24
      daily: 7
      min_age: 2h

- name: Also prune the pre-upgrade snapshots, keeping the newest three days' worth
  cowstack.docker_storage.snapshot:
    operation: prune
    target: tank/docker
    labels: [pre-upgrade]
    policy:
      daily: 3
"""

RETURN = r"""
target:
  description: The target as used (btrfs paths normalised).
  returned: unless O(operation=validate)
  type: str
  sample: tank/docker
kind:
  description: V(zfs) or V(btrfs).
  returned: unless O(operation=validate)
  type: str
snapshots:
  description: This collection's snapshots of the target after the run (in check mode, as planned), oldest first.
  returned: unless O(operation=validate)
  type: list
  elements: dict
  contains:
    name:
      description: Snapshot name (for ZFS the part after C(@)).
      type: str
    label:
      description: The period or ad hoc label.
      type: str
    created:
      description: Creation time from the name, ISO 8601 UTC.
      type: str
    age:
      description: Age in seconds.
      type: int
    used:
      description: ZFS C(used) bytes; null for btrfs.
      type: int
    referenced:
      description: ZFS C(referenced) bytes; null for btrfs.
      type: int
others:
  description: Names of the target's snapshots that are not this collection's (never touched).
  returned: unless O(operation=validate)
  type: list
  elements: str
plan:
  description: What the run does (or would do in check mode).
  returned: unless O(operation=validate)
  type: dict
  contains:
    take:
      description: The snapshot to take, or null.
      type: str
    destroy:
      description: Snapshots to destroy, oldest first.
      type: list
      elements: str
    keep:
      description: For O(operation=prune), each of this collection's snapshots kept, mapped to the periods keeping it.
      type: dict
    commands:
      description: The commands that change something, as argv lists.
      type: list
      elements: list
    steps:
      description: The steps, in order (each the command it runs).
      type: list
      elements: str
snapshot:
  description: The snapshot O(operation=take) took or found already taken this second.
  returned: when O(operation=take)
  type: str
  sample: cowstack_pre-upgrade_20261123T051200Z
config:
  description: For O(operation=validate), the configuration normalised (durations in seconds, policies complete).
  returned: when O(operation=validate)
  type: dict
  contains:
    version:
      description: The configuration format, V(1).
      type: int
    prefix:
      description: The snapshot name prefix.
      type: str
    policy:
      description: The default retention, every period (C(frequently) to C(yearly)) and C(min_age) in seconds.
      type: dict
    frequent_minutes:
      description: The length of a C(frequently) slot in minutes.
      type: int
    schedule:
      description: The cron schedule.
      type: str
    targets:
      description: The targets, each with C(target) and, when set, C(policy) and C(snapshot_dir).
      type: list
      elements: dict
    docker:
      description: What Docker and containerd own and is never snapshotted (C(data_roots), C(containerd_roots), C(zfs_fsnames)).
      type: dict
    monitor:
      description: The C(warn) and C(critical) ages of C(--check), in seconds.
      type: dict
    lock_file:
      description: The run's lock file.
      type: str
    metrics_file:
      description: The node_exporter textfile each run writes, or empty.
      type: str
schedule:
  description: For O(operation=validate) with a C(schedule), the schedule checked as cron reads it.
  returned: when O(operation=validate)
  type: dict
  contains:
    minute:
      description: The cron minute field, as written.
      type: str
    hour:
      description: The cron hour field.
      type: str
    day:
      description: The cron day-of-month field.
      type: str
    month:
      description: The cron month field.
      type: str
    weekday:
      description: The cron weekday field.
      type: str
    special_time:
      description: The C(@) form given (V(hourly), V(daily), ...), or null.
      type: str
    on_calendar:
      description: The same schedule as a systemd C(OnCalendar=), or null when systemd cannot express it.
      type: str
pending:
  description:
    - For O(operation=validate) in check mode, the targets that do not exist (yet) as a dataset or subvolume, with
      the reason. Check mode only warns about them, since an earlier task of the same run may create them (the
      P(cowstack.docker_storage.docker_storage#role) role making the storage); a real run refuses them.
  returned: when O(operation=validate)
  type: list
  elements: str
  sample: ["/var/lib/docker is not on btrfs (ext4)"]
docker_zfs_datasets:
  description:
    - For O(operation=validate), the datasets mounted exactly at Docker's data-roots on this host (Docker's own, for
      opt-out properties). A data-root that is a plain directory of another dataset is not listed.
  returned: when O(operation=validate)
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _snapshot_config as C
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import normpath
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, settle
from ansible_collections.cowstack.docker_storage.plugins.module_utils._snapshot_fs import btrfs_target_problem
from ansible_collections.cowstack.docker_storage.plugins.module_utils._snapshot_host import Host, checked_config


def describe(rows, prefix, now):
    ours, others = [], []
    for row in rows:
        parsed = R.parse_name(row["name"], prefix)
        if parsed is None:
            others.append(row["name"])
            continue
        ours.append({"name": row["name"], "label": parsed["label"], "created": parsed["time"].isoformat(),
                     "age": now - parsed["epoch"], "used": row.get("used"), "referenced": row.get("referenced")})
    ours.sort(key=lambda r: (r["created"], r["name"]))
    return ours, sorted(others)


def validate(module, host):
    config, pending, docker = checked_config(module, host, module.params["config"])
    module.exit_json(changed=False, config=config, schedule=config.get("schedule"), pending=pending,
                     docker_zfs_datasets=docker["zfs_dedicated"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            operation=dict(type="str", default="list", choices=["take", "list", "prune", "validate"]),
            target=dict(type="str"),
            prefix=dict(type="str", default=R.DEFAULT_PREFIX),
            label=dict(type="str", default="manual"),
            policy=dict(type="dict"),
            labels=dict(type="list", elements="str", default=list(R.PERIODS)),
            frequent_minutes=dict(type="int", default=R.DEFAULT_FREQUENT_MINUTES),
            snapshot_dir=dict(type="path"),
            docker_data_roots=dict(type="list", elements="path", default=["/var/lib/docker"]),
            containerd_roots=dict(type="list", elements="path", default=["/var/lib/containerd"]),
            zfs_fsnames=dict(type="list", elements="str", default=[]),
            config=dict(type="dict"),
        ),
        required_if=[
            ("operation", "take", ("target",)),
            ("operation", "list", ("target",)),
            ("operation", "prune", ("target", "policy")),
            ("operation", "validate", ("config",)),
        ],
        supports_check_mode=True,
    )
    params = module.params
    host = Host(module)
    if params["operation"] == "validate":
        validate(module, host)

    try:
        prefix = R.check_prefix(params["prefix"])
        kind = C.target_kind(params["target"])
        R.check_frequent_minutes(params["frequent_minutes"])
        label = R.check_label(params["label"])
        for item in params["labels"]:
            R.check_label(item)
        policy = R.check_policy(params["policy"]) if params["operation"] == "prune" else None
    except R.RetentionError as exc:
        module.fail_json(msg=str(exc))
    target = normpath(params["target"]) if kind == "btrfs" else params["target"]
    if kind == "zfs" and params["snapshot_dir"]:
        module.fail_json(msg="snapshot_dir is for btrfs targets only")
    snapshot_dir = normpath(params["snapshot_dir"]) if params["snapshot_dir"] else C.default_snapshot_dir(target)

    mounts = host.mounts()
    docker = C.docker_storage(mounts, params["docker_data_roots"], params["containerd_roots"], params["zfs_fsnames"])
    reason = C.docker_refusal(target, docker)
    if reason and params["operation"] != "list":
        module.fail_json(msg="refusing target: %s" % reason)

    store = host.store({"target": target, "kind": kind, "snapshot_dir": snapshot_dir}, mounts)
    if kind == "btrfs":
        problem = btrfs_target_problem(mounts, target, snapshot_dir)
        if problem:
            module.fail_json(msg=problem)
    rows = store.list()
    now = int(time.time())
    names = [r["name"] for r in rows]
    details = {"take": None, "destroy": [], "keep": {}, "commands": []}
    plan = Plan()
    result = {"target": target, "kind": kind}

    if params["operation"] == "take":
        name = R.snapshot_name(prefix, label, now)
        result["snapshot"] = name
        if name not in names:
            details["take"] = name
            argvs = store.take_argvs(name)
            details["commands"].extend(argvs)
            plan.add("; ".join(" ".join(argv) for argv in argvs), lambda: store.take(name))
            rows.append({"name": name, "creation": now, "used": None, "referenced": None})
    elif params["operation"] == "prune":
        retention = R.plan_retention(names, policy, now, prefix, params["frequent_minutes"], tuple(params["labels"]))
        details["destroy"], details["keep"] = retention["destroy"], retention["reasons"]
        details["commands"].extend(store.destroy_argvs(retention["destroy"]))
        for argv in details["commands"]:
            plan.add(" ".join(argv), lambda argv=argv: host.change(argv))
        gone = set(retention["destroy"])
        rows = [r for r in rows if r["name"] not in gone]

    plan.before = "".join(s["name"] + "\n" for s in describe([{"name": n} for n in names], prefix, now)[0])
    plan.after = "".join(s["name"] + "\n" for s in describe(rows, prefix, now)[0])
    settle(module, plan, result, header=target, details=details)
    if plan.done:
        rows = store.list()
    result["snapshots"], result["others"] = describe(rows, prefix, now)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
