#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zfs_storage
short_description: A ZFS pool and a dataset mounted at Docker's data-root, safe by default
version_added: 0.1.0
description:
  - Creates the pool O(pool) on O(devices) with the vdev layout O(vdev_type) and O(pool_properties) when it
    does not exist, and the dataset O(dataset) mounted at O(mount_point) with O(properties); keeps the
    properties as asked.
  - Plans first, then applies outside check mode, and returns the plan and a before/after diff of the
    properties.
  - A property that already has the asked value is not drift, whether set locally or inherited (for example
    C(compression=lz4) set on the pool and inherited by the dataset).
  - B(Safe by default.) A device that holds a filesystem signature, a partition table, a pool label, has
    partitions or users, or is mounted is never added to a pool unless listed in O(force_devices); the root
    disk and mounted devices never are. The run fails before any change and names the device and what it holds.
  - What cannot be changed in place (the vdev layout, the pool's member devices, C(ashift)) is reported as
    drift and refused, never fixed by recreating. A data-root that already holds files is never mounted over.
  - Written because M(community.general.zpool) (community.general 11.0.0 and later) does compare the vdev layout,
    but reconciles a difference by C(zpool add) and C(zpool remove), changing the pool's members, where this
    module reports it and refuses; it sets a different C(ashift) as a pool property (which only applies to
    vdevs added later) instead of refusing it; and it has no safe mode beyond what C(zpool create) itself refuses
    without O(community.general.zpool#module:force) (no check for partition tables, holders, the root disk).
    M(community.general.zfs) manages datasets, not pools.
requirements:
  - C(zpool) and C(zfs) (zfsutils-linux) and the ZFS kernel module, C(blkid) (util-linux), on the managed node.
  - Root.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
  - cowstack.docker_storage.attributes.SAFE_MODE
options:
  pool:
    description: Pool name.
    type: str
    required: true
  devices:
    description: Block devices of the pool; needed to create it, compared with the pool's when it exists.
    type: list
    elements: path
    default: []
  vdev_type:
    description: Layout of the pool's data vdev.
    type: str
    choices: [single, mirror, raidz, raidz1, raidz2, raidz3]
    default: single
  pool_properties:
    description: Pool properties (C(-o) at create, for example C(ashift=12)); C(ashift) is never changed later.
    type: dict
    default: {}
  dataset:
    description: The dataset mounted at O(mount_point). Defaults to C(<pool>/docker).
    type: str
  mount_point:
    description: Docker's data-root.
    type: path
    required: true
  properties:
    description:
      - Dataset properties. C(atime=relatime) means C(atime=on) and C(relatime=on).
    type: dict
    default: {compression: lz4, atime: "off", checksum: sha256, dedup: "off"}
"""

EXAMPLES = r"""
- name: Mirrored pool, dataset at the data-root with lz4, atime off and sha256 checksums
  cowstack.docker_storage.zfs_storage:
    pool: tank
    vdev_type: mirror
    devices: [/dev/vdb, /dev/vdc]
    pool_properties: {ashift: 12}
    mount_point: /var/lib/docker
    properties: {compression: lz4, atime: "off", checksum: sha256, dedup: "off"}
"""

RETURN = r"""
plan:
  description: The steps taken (or, in check mode, that would be taken), in order.
  returned: always
  type: list
  elements: str
  sample: ["zpool create tank mirror /dev/vdb /dev/vdc", "zfs create tank/docker"]
dataset:
  description: The dataset at the data-root.
  returned: always
  type: str
layout:
  description: The pool's vdev layout as read; null before the pool exists.
  returned: always
  type: dict
  contains:
    vdev_type:
      description: V(single), V(mirror), V(raidz1) to V(raidz3), or V(mixed).
      type: str
    devices:
      description: The pool's member devices.
      type: list
      elements: str
properties:
  description:
    - The dataset's managed properties (and C(mountpoint), C(mounted)) after the run, as read with C(zfs get -p),
      each property name mapping to its C(value) and C(source).
  returned: always
  type: dict
  sample: {"compression": {"value": "lz4", "source": "local"}, "atime": {"value": "off", "source": "inherited from tank"}}
warnings_list:
  description: Warnings about the chosen settings (dedup RAM, CPU-bound compression).
  returned: always
  type: list
  elements: str
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, command
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import (
    inspect, mounts, read_text, run,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._storage_module import (
    argument_spec, files_at, forced, hiding, refuse_devices, run as run_storage, usable,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._zfs import (
    MIN_DEVICES, VDEV_TYPES, normalize_atime, normalize_vdev_type, parse_get, parse_status_layout, plan_properties,
    probe_version, validate_name, validate_properties, zpool_create_argv,
)


def _same_device(listed, member):
    """A pool member may be the listed disk's first partition (ZFS partitions whole disks)."""
    listed, member = os.path.realpath(listed), os.path.realpath(member)
    return member == listed or re.match(r"^%s(p|-part)?1$" % re.escape(listed), member) is not None


class ZfsStorage(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.zfs = module.get_bin_path("zfs", required=True)
        self.zpool = module.get_bin_path("zpool", required=True)
        self.plan = Plan()
        self.layout = None
        self.dataset = self.p["dataset"] or "%s/docker" % self.p["pool"]
        self.props = normalize_atime(dict((k, str(v)) for k, v in self.p["properties"].items()))

    def run(self, argv, check=True):
        return run(self.module, argv, check=check, plan=self.plan)

    def runs(self, argv):
        """A step: ``argv`` run when the plan is applied."""
        return lambda: command(self.module, argv)

    def zfs_version(self):
        return probe_version(read_text, lambda argv: self.run(argv, check=False), self.zfs)

    def problems(self):
        errors = []
        for name, kind in ((self.p["pool"], "pool"), (self.dataset, "dataset")):
            problem = validate_name(name, kind)
            if problem:
                errors.append(problem)
        if not errors and not self.dataset.startswith(self.p["pool"] + "/"):
            errors.append("dataset %s is not in pool %s" % (self.dataset, self.p["pool"]))
        prop_errors, warnings = validate_properties(self.props, self.zfs_version())
        errors.extend("properties: %s" % e for e in prop_errors)
        self.plan.warnings.extend(warnings)
        for key in self.p["pool_properties"]:
            if not re.match(r"^[a-z_:.]+$", key):
                errors.append("pool_properties: %r is not a property name" % key)
        return errors

    def unread(self):
        return dict(dataset=self.dataset, layout=None, properties={})

    def result(self):
        return dict(dataset=self.dataset, layout=self.layout)

    # -- the pool ------------------------------------------------------------------------------------
    def plan_pool(self, mount_list):
        pool = self.p["pool"]
        rc, _out, _err = self.run([self.zpool, "list", "-H", "-o", "name", pool], check=False)
        vdev_type = normalize_vdev_type(self.p["vdev_type"])
        devices = self.p["devices"]
        if rc != 0:
            self.plan.before["pool"] = "absent"
            if len(devices) < MIN_DEVICES[vdev_type]:
                self.module.fail_json(msg="pool %s does not exist; creating it as %s needs at least %d devices, %d "
                                          "given. Nothing was changed." % (pool, vdev_type, MIN_DEVICES[vdev_type],
                                                                           len(devices)))
            infos = usable(self.module, [inspect(self.module, device, mount_list) for device in devices])
            refuse_devices(self.plan, infos, self.p, "used")
            pool_props = dict(self.p["pool_properties"])
            argv = zpool_create_argv(self.zpool, pool, vdev_type, devices, pool_props, {"mountpoint": "none"})
            if forced(self.p) & set(os.path.realpath(d) for d in devices):
                argv.insert(2, "-f")
            self.plan.add("zpool create %s %s %s" % (pool, vdev_type, " ".join(devices)), self.runs(argv))
            self.plan.after["pool"] = "%s %s" % (vdev_type, " ".join(devices))
            return False
        _rc, out, _err = self.run([self.zpool, "status", "-P", pool])
        self.layout = parse_status_layout(out, pool)
        self.plan.before["pool"] = "%s %s" % (self.layout["vdev_type"], " ".join(self.layout["devices"]))
        if self.layout["vdev_type"] != vdev_type:
            self.plan.refuse("pool %s is %s, not %s: a vdev layout cannot be changed in place (drift refused)"
                             % (pool, self.layout["vdev_type"], vdev_type))
        if devices:
            unmatched = [d for d in devices if not any(_same_device(d, m) for m in self.layout["devices"])]
            extra = [m for m in self.layout["devices"] if not any(_same_device(d, m) for d in devices)]
            if unmatched or extra:
                self.plan.refuse("pool %s has devices %s, not %s: adding or replacing devices is not done by this "
                                 "module (drift refused)" % (pool, ", ".join(self.layout["devices"]), ", ".join(devices)))
        if self.p["pool_properties"]:
            _rc, out, _err = self.run([self.zpool, "get", "-H", "-p", "-o", "name,property,value,source",
                                       ",".join(sorted(self.p["pool_properties"])), pool])
            current = parse_get(out).get(pool, {})
            changes = plan_properties(current, self.p["pool_properties"])
            for prop, old, new, _source in changes:
                if prop == "ashift":
                    self.plan.refuse("pool %s has ashift=%s, not %s: ashift is fixed when a vdev is created (drift "
                                     "refused)" % (pool, old, new))
                else:
                    self.plan.add("zpool set %s=%s %s (was %s)" % (prop, new, pool, old),
                                  self.runs([self.zpool, "set", "%s=%s" % (prop, new), pool]))
        return True

    # -- the dataset ---------------------------------------------------------------------------------
    def plan_dataset(self, pool_exists):
        mount_point = self.p["mount_point"]
        wanted = dict(self.props, mountpoint=mount_point)
        exists = False
        if pool_exists:
            rc, _out, _err = self.run([self.zfs, "list", "-H", "-o", "name", self.dataset], check=False)
            exists = rc == 0
        files = files_at(self.p)
        if not exists:
            self.plan.before["dataset"] = "absent"
            if files:
                self.plan.refuse(hiding(mount_point, files, "a dataset"))
            argv = [self.zfs, "create", "-p"]
            for prop, value in sorted(wanted.items()):
                argv += ["-o", "%s=%s" % (prop, value)]
            self.plan.add("zfs create %s (%s)" % (self.dataset, ", ".join("%s=%s" % kv for kv in sorted(wanted.items()))),
                          self.runs(argv + [self.dataset]))
            for prop, value in sorted(wanted.items()):
                self.plan.after["%s %s" % (self.dataset, prop)] = value
            return
        names = sorted(set(wanted) | {"mounted"})
        _rc, out, _err = self.run([self.zfs, "get", "-H", "-p", "-o", "name,property,value,source", ",".join(names),
                                   self.dataset])
        current = parse_get(out).get(self.dataset, {})
        for prop in wanted:
            value, source = current.get(prop, (None, None))
            self.plan.before["%s %s" % (self.dataset, prop)] = "%s (%s)" % (value, source)
        changes = plan_properties(current, wanted)
        settable = []
        for prop, old, new, source in changes:
            if prop == "mountpoint" and files:
                self.plan.refuse("%s has mountpoint=%s; moving it to %s, which already holds files, would hide them"
                                 % (self.dataset, old, mount_point))
                continue
            settable.append("%s=%s" % (prop, new))
            self.plan.after["%s %s" % (self.dataset, prop)] = "%s (local)" % new
        if settable:
            self.plan.add("zfs set %s %s" % (" ".join(settable), self.dataset),
                          self.runs([self.zfs, "set"] + settable + [self.dataset]))
        mounted = current.get("mounted", ("yes", None))[0]
        if mounted != "yes" and not any(s.startswith("mountpoint=") for s in settable):
            self.plan.add("zfs mount %s" % self.dataset, self.runs([self.zfs, "mount", self.dataset]))

    def build(self):
        pool_exists = self.plan_pool(mounts())
        self.plan_dataset(pool_exists)

    def read_properties(self):
        rc, out, _err = self.run([self.zfs, "get", "-H", "-p", "-o", "name,property,value,source",
                                  ",".join(sorted(set(self.props) | {"mountpoint", "mounted"})), self.dataset],
                                 check=False)
        current = parse_get(out).get(self.dataset, {}) if rc == 0 else {}
        return dict((k, {"value": v, "source": s}) for k, (v, s) in current.items())


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            pool=dict(type="str", required=True),
            devices=dict(type="list", elements="path", default=[]),
            vdev_type=dict(type="str", default="single", choices=list(VDEV_TYPES)),
            pool_properties=dict(type="dict", default={}),
            dataset=dict(type="str"),
            properties=dict(type="dict", default={"compression": "lz4", "atime": "off", "checksum": "sha256",
                                                  "dedup": "off"}),
        ),
        supports_check_mode=True,
    )
    storage, result = run_storage(module, ZfsStorage, "zfs storage")
    result["properties"] = storage.read_properties()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
