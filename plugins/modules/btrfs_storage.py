#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Over 400 lines: DOCUMENTATION, EXAMPLES and RETURN are 137 of them; the rules are in module_utils (_btrfs, _fstab).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: btrfs_storage
short_description: A btrfs filesystem with a subvolume mounted at Docker's data-root, safe by default
version_added: 0.1.0
description:
  - Creates a btrfs filesystem on O(devices) (checksum algorithm and data/metadata profiles chosen at mkfs),
    a subvolume on it, mounts the subvolume at O(mount_point) with O(mount_options), and keeps an fstab entry
    by filesystem UUID, so the mount comes back after a reboot.
  - Plans first, then applies outside check mode, and returns the plan and a before/after diff (with the fstab
    file's own diff when its entry changes).
  - B(Safe by default.) A device that holds a filesystem signature, a partition table, a pool label, has
    partitions or users, or is mounted is never formatted unless it is listed in O(force_devices); the root
    disk and mounted devices never are. The run fails before any change and names the device and what it holds.
  - What cannot be changed in place (the checksum algorithm, the profiles, the member devices) is reported as
    drift and refused, never fixed by recreating. A data-root that already holds files is never mounted over.
  - Mount option drift (for example a remount without compression) is fixed by a live remount; a missing or
    different fstab line is rewritten, keeping every other line.
  - Written because the community.general modules split this into C(filesystem), C(btrfs_subvolume) and
    C(ansible.posix.mount), none of which notices a live mount that lost its options or a checksum
    algorithm that differs, and C(filesystem) does not look for partition tables or mounts before mkfs;
    C(btrfs_subvolume) (community.general 13.5) fails outright when O(devices) are given as
    C(/dev/disk/by-id/...) links, which is how stable device names are usually written.
requirements:
  - C(btrfs) and C(mkfs.btrfs) (btrfs-progs), C(mount), C(umount) and C(blkid) (util-linux), on the managed node.
  - Root, and btrfs support in the kernel.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
  - cowstack.docker_storage.attributes.SAFE_MODE
attributes:
  check_mode:
    details:
      - When the top level of an existing filesystem is not mounted anywhere, check mode mounts it read-only
        on a temporary directory to list its subvolumes, and unmounts it again.
options:
  devices:
    description: Block devices of the filesystem (whole disks, partitions or loop devices).
    type: list
    elements: path
    required: true
  mount_point:
    description: Where the subvolume is mounted; Docker's data-root.
    type: path
    required: true
  subvolume:
    description: The subvolume mounted at O(mount_point).
    type: str
    default: "@docker"
  label:
    description: Filesystem label at mkfs.
    type: str
    default: docker
  checksum:
    description: Checksum algorithm, chosen at mkfs only.
    type: str
    choices: [crc32c, xxhash, sha256, blake2]
    default: crc32c
  data_profile:
    description: Data profile at mkfs (mkfs's default when not set). Checked for drift when set.
    type: str
    choices: [single, dup, raid0, raid1, raid1c3, raid1c4, raid10, raid5, raid6]
  metadata_profile:
    description: Metadata profile at mkfs (mkfs's default when not set). Checked for drift when set.
    type: str
    choices: [single, dup, raid0, raid1, raid1c3, raid1c4, raid10, raid5, raid6]
  mount_options:
    description: Mount options, besides C(subvol=), which the module adds.
    type: list
    elements: str
    default: [noatime, compress=zstd:3]
  fstab_extra_options:
    description: Options written to fstab only (for example C(x-systemd.requires=) of a lab loop device unit).
    type: list
    elements: str
    default: []
  fstab:
    description: The fstab file to keep the entry in.
    type: path
    default: /etc/fstab
"""

EXAMPLES = r"""
- name: btrfs on two disks, mirrored, mounted at the data-root
  cowstack.docker_storage.btrfs_storage:
    devices: [/dev/vdb, /dev/vdc]
    mount_point: /var/lib/docker
    checksum: xxhash
    data_profile: raid1
    metadata_profile: raid1
    mount_options: [noatime, compress=zstd:3]

- name: Reuse a disk that held an old ext4 filesystem (its data is lost)
  cowstack.docker_storage.btrfs_storage:
    devices: [/dev/vdb]
    mount_point: /var/lib/docker
    force_devices: [/dev/vdb]
"""

RETURN = r"""
plan:
  description: The steps taken (or, in check mode, that would be taken), in order.
  returned: always
  type: list
  elements: str
  sample: ["mkfs.btrfs /dev/vdb (csum crc32c)", "create subvolume @docker", "mount /var/lib/docker"]
uuid:
  description: The filesystem's UUID (null in check mode before mkfs).
  returned: always
  type: str
checksum:
  description: The filesystem's checksum algorithm.
  returned: always
  type: str
profiles:
  description: The profiles as C(btrfs filesystem df) reports them (lower case); empty before mkfs.
  returned: always
  type: dict
  sample: {"data": "single", "metadata": "dup", "system": "dup"}
  contains:
    data:
      description: The data profile.
      type: str
    metadata:
      description: The metadata profile.
      type: str
    system:
      description: The system profile.
      type: str
warnings_list:
  description: Warnings about the chosen settings.
  returned: always
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._blockdev import refusal
from ansible_collections.cowstack.docker_storage.plugins.module_utils._btrfs import (
    CHECKSUMS, MIN_DEVICES, PROFILES, mount_option_drift, parse_chunk_profiles, parse_dump_super, parse_filesystem_df, parse_root_refs,
    subvolume_exists, validate_mount_options, validate_subvolume,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._fstab import entry_for, render, replace_entry
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import mount_for
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, command
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import (
    inspect, mounts, read_text, run,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._storage_module import (
    argument_spec, files_at, hiding, refuse_devices, run as run_storage, usable,
)


class BtrfsStorage(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.bins = dict((name, module.get_bin_path(name, required=True)) for name in (
            "btrfs", "mkfs.btrfs", "mount", "umount", "blkid"))
        self.plan = Plan()
        self.uuid = None
        self.csum = None
        self.profiles = {}

    def run(self, argv, check=True):
        return run(self.module, argv, check=check, plan=self.plan)

    # -- the options, checked before anything is read or changed ----------------------------------------
    def problems(self):
        errors = []
        problem = validate_subvolume(self.p["subvolume"])
        if problem:
            errors.append("subvolume: %s" % problem)
        opt_errors, opt_warnings = validate_mount_options(self.p["mount_options"])
        errors.extend("mount_options: %s" % e for e in opt_errors)
        self.plan.warnings.extend(opt_warnings)
        if not self.p["devices"]:
            errors.append("devices is empty: name at least one block device")
        for key in ("data_profile", "metadata_profile"):
            profile = self.p[key]
            if profile and len(self.p["devices"]) < MIN_DEVICES[profile]:
                errors.append("%s %s needs at least %d devices, %d given" % (
                    key, profile, MIN_DEVICES[profile], len(self.p["devices"])))
        return errors

    def unread(self):
        return dict(uuid=None, checksum=None, profiles=None)

    def result(self):
        return dict(uuid=self.uuid, checksum=self.csum, profiles=self.profiles)

    # -- reading the current state -------------------------------------------------------------------
    def devices_state(self, mount_list):
        infos = usable(self.module, [inspect(self.module, d, mount_list, self.bins["blkid"]) for d in self.p["devices"]])
        uuids = set(i["probe"].get("UUID") for i in infos if i["probe"].get("TYPE") == "btrfs")
        return infos, uuids

    def find_mount(self, mount_list, device_paths, subvol_root=False):
        reals = set(os.path.realpath(d) for d in device_paths)
        for mount in mount_list:
            if mount["fstype"] != "btrfs" or not mount["source"].startswith("/dev/"):
                continue
            if os.path.realpath(mount["source"]) in reals:
                if not subvol_root or mount["root"] == "/":
                    return mount
        return None

    def read_existing(self, infos, mount_list):
        first = infos[0]["path"]
        _rc, out, _err = self.run([self.bins["btrfs"], "inspect-internal", "dump-super", first])
        sup = parse_dump_super(out)
        self.csum = sup.get("csum_type")
        self.uuid = infos[0]["probe"].get("UUID")
        if self.csum and self.csum != self.p["checksum"]:
            self.plan.refuse("the filesystem on %s uses checksum %s, not %s: the checksum algorithm is chosen at mkfs "
                             "and cannot be changed in place (drift refused; recreate it yourself after a backup, or "
                             "set checksum: %s)" % (first, self.csum, self.p["checksum"], self.csum))
        members = int(sup.get("num_devices") or len(infos))
        if members != len(infos):
            self.plan.refuse("the filesystem %s has %d devices, %d are listed: adding or removing devices is not "
                             "done in place by this module" % (self.uuid, members, len(infos)))

    # -- planning --------------------------------------------------------------------------------------
    def build(self):
        mount_list = mounts()
        infos, uuids = self.devices_state(mount_list)
        mount_point = self.p["mount_point"]
        subvol = self.p["subvolume"]
        existing = len(uuids) == 1 and all(i["probe"].get("TYPE") == "btrfs" for i in infos)
        current_mount = mount_for(mount_list, os.path.realpath(mount_point)) if os.path.exists(mount_point) else None
        ours_mounted = (current_mount and current_mount["mount_point"] == os.path.realpath(mount_point)
                        and current_mount["fstype"] == "btrfs"
                        and os.path.realpath(current_mount["source"]) in set(os.path.realpath(i["path"]) for i in infos))
        if existing:
            self.read_existing(infos, mount_list)
            # A mounted member is ours only when it is mounted at the mount point (or its top level elsewhere).
            for info in infos:
                others = [m for m in info["mounted_at"] if m != os.path.realpath(mount_point)]
                if info["root_disk"]:
                    self.plan.refuse(refusal(info["path"], info["holds"]))
                elif others and not ours_mounted:
                    self.plan.refuse("%s is mounted at %s: unmount it first (nothing was changed)"
                                     % (info["path"], ", ".join(others)))
        else:
            refuse_devices(self.plan, infos, self.p, "formatted")
            argv = [self.bins["mkfs.btrfs"], "-L", self.p["label"], "--csum", self.p["checksum"]]
            if self.p["data_profile"]:
                argv += ["-d", self.p["data_profile"]]
            if self.p["metadata_profile"]:
                argv += ["-m", self.p["metadata_profile"]]
            if any(info["holds"] for info in infos):
                argv.append("-f")
            argv += [i["path"] for i in infos]
            names = " ".join(i["path"] for i in infos)
            self.plan.add("mkfs.btrfs %s (label %s, csum %s)" % (names, self.p["label"], self.p["checksum"]),
                          lambda: self.mkfs(argv))
            self.plan.before["filesystem"] = "none"
            self.plan.after["filesystem"] = "btrfs csum=%s" % self.p["checksum"]
            self.csum = self.p["checksum"]
        if self.plan.refusals:
            return
        # Subvolume, profiles: read through a mount of the top level.
        if existing:
            self.plan.before["filesystem"] = "btrfs %s csum=%s" % (self.uuid, self.csum)
            top = self.find_mount(mount_list, [i["path"] for i in infos], subvol_root=True)
            if top:
                _rc, out, _err = self.run([self.bins["btrfs"], "filesystem", "df", top["mount_point"]])
                self.profiles = parse_filesystem_df(out)
                path = os.path.join(top["mount_point"], subvol)
                has_subvol = os.path.isdir(path) and self.is_subvolume(path)
            else:
                # Not mounted at its top level: read the trees from the device; nothing is mounted, in check mode
                # or not (a mount, even read-only, replays the log and is a change check mode must not make).
                first = infos[0]["path"]
                _rc, out, _err = self.run([self.bins["btrfs"], "inspect-internal", "dump-tree", "-t", "chunk", first])
                self.profiles = parse_chunk_profiles(out)
                _rc, out, _err = self.run([self.bins["btrfs"], "inspect-internal", "dump-tree", "-t", "root", first])
                has_subvol = subvolume_exists(parse_root_refs(out), subvol)
            for key, name in (("data_profile", "data"), ("metadata_profile", "metadata")):
                wanted, have = self.p[key], self.profiles.get(name)
                if wanted and have and have != wanted:
                    self.plan.refuse(
                        "the %s profile is %s, not %s: convert it yourself with 'btrfs balance start -%sconvert=%s "
                        "%s' (drift refused)" % (name, have, wanted, name[0], wanted, mount_point))
        else:
            has_subvol = False
        self.plan.before["subvolume"] = subvol if has_subvol else ("unknown" if has_subvol is None else "none")
        if not has_subvol:
            self.plan.add("create subvolume %s%s" % (subvol, " (if missing: not readable without a mount)"
                                                     if has_subvol is None else ""), lambda: self.create_subvolume(subvol))
            self.plan.after["subvolume"] = subvol
        # The mount.
        options = list(self.p["mount_options"]) + ["subvol=%s" % subvol]
        if ours_mounted:
            live_subvol = current_mount["root"].lstrip("/")
            self.plan.before["mount"] = "%s %s" % (mount_point, ",".join(current_mount["options"]))
            if live_subvol != subvol:
                self.plan.refuse("%s is mounted from subvolume %s, not %s: unmount it first" % (
                    mount_point, live_subvol or "/", subvol))
            missing = mount_option_drift(current_mount["options"], self.p["mount_options"])
            if missing:
                # device and directory both: mount(8) then leaves fstab out, whose options (an old noatime or
                # relatime line) would otherwise be merged in and could win over the ones asked for
                self.plan.add("remount %s with %s" % (mount_point, ",".join(missing)), lambda: command(
                    self.module, [self.bins["mount"], "-o", ",".join(["remount"] + missing), current_mount["source"],
                                  mount_point]))
                self.plan.after["mount"] = "%s %s (+%s)" % (
                    mount_point, ",".join(current_mount["options"]), ",".join(missing))
        else:
            self.plan.before["mount"] = "not mounted"
            if current_mount and current_mount["mount_point"] == os.path.realpath(mount_point):
                self.plan.refuse("%s is already a mount of %s (%s): unmount it first" % (
                    mount_point, current_mount["source"], current_mount["fstype"]))
            elif files_at(self.p):
                self.plan.refuse(hiding(mount_point, files_at(self.p), "the subvolume"))
            elif os.path.exists(mount_point) and not os.path.isdir(mount_point):
                self.plan.refuse("%s exists and is not a directory" % mount_point)
            self.plan.add("mount %s at %s (%s)" % (subvol, mount_point, ",".join(options)), lambda: self.mount(options))
            self.plan.after["mount"] = "%s %s" % (mount_point, ",".join(options))
        # fstab
        fstab_text = read_text(self.p["fstab"])
        fstab_options = options + [o for o in self.p["fstab_extra_options"] if o not in options]
        wanted_line = render("UUID=%s" % (self.uuid or "<new>"), mount_point, "btrfs", fstab_options)
        current = entry_for(fstab_text, mount_point)
        self.plan.before["fstab"] = " ".join(current) if current else "absent"
        if current is None or current[:4] != wanted_line.split()[:4]:
            self.plan.add("fstab entry for %s" % mount_point, lambda: self.write_fstab(fstab_options),
                          diff=(self.p["fstab"], fstab_text, replace_entry(fstab_text, mount_point, wanted_line)))
            self.plan.after["fstab"] = wanted_line

    def is_subvolume(self, path):
        rc, _out, _err = self.run([self.bins["btrfs"], "subvolume", "show", path], check=False)
        return rc == 0

    def top_level(self, infos, top):
        module = self

        class _Top(object):
            def __enter__(self):
                if top:
                    self.path, self.temp = top["mount_point"], None
                    return self.path
                if module.module.check_mode:
                    raise RuntimeError("check mode mounts nothing")  # build() reads unmounted trees instead
                self.temp = tempfile.mkdtemp(prefix=".cowstack-btrfs-")
                command(module.module, [module.bins["mount"], "-t", "btrfs", "-o", "subvolid=5", infos[0]["path"],
                                        self.temp])
                self.path = self.temp
                return self.path

            def __exit__(self, *exc):
                if self.temp:
                    module.run([module.bins["umount"], self.temp], check=False)
                    os.rmdir(self.temp)
        return _Top()

    # -- applying: the steps ---------------------------------------------------------------------------
    def mkfs(self, argv):
        command(self.module, argv)
        self.uuid = command(self.module, [self.bins["blkid"], "-p", "-o", "value", "-s", "UUID",
                                          self.p["devices"][0]]).strip()

    def create_subvolume(self, subvol):
        infos = [{"path": d} for d in self.p["devices"]]
        with self.top_level(infos, self.find_mount(mounts(), self.p["devices"], subvol_root=True)) as top:
            if not self.is_subvolume(os.path.join(top, subvol)):
                command(self.module, [self.bins["btrfs"], "subvolume", "create", os.path.join(top, subvol)])

    def mount(self, options):
        mount_point = self.p["mount_point"]
        if not os.path.isdir(mount_point):
            os.makedirs(mount_point, 0o711)
        command(self.module, [self.bins["mount"], "-t", "btrfs", "-o", ",".join(options), "UUID=%s" % self.uuid,
                              mount_point])

    def write_fstab(self, options):
        line = render("UUID=%s" % self.uuid, self.p["mount_point"], "btrfs", options)
        self.write_atomic(self.p["fstab"], replace_entry(read_text(self.p["fstab"]), self.p["mount_point"], line))

    def write_atomic(self, path, content):
        """fstab: its mode (and owner) kept, fsynced before and after the rename - a power cut right after a
        switch must not leave an empty fstab."""
        st = os.stat(path) if os.path.exists(path) else None
        write_atomic(path, content, st.st_mode & 0o7777 if st else 0o644,
                     owner=(st.st_uid, st.st_gid) if st else None)
        self.module.set_default_selinux_context(path, False)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            devices=dict(type="list", elements="path", required=True),
            subvolume=dict(type="str", default="@docker"),
            label=dict(type="str", default="docker"),
            checksum=dict(type="str", default="crc32c", choices=list(CHECKSUMS)),
            data_profile=dict(type="str", choices=list(PROFILES)),
            metadata_profile=dict(type="str", choices=list(PROFILES)),
            mount_options=dict(type="list", elements="str", default=["noatime", "compress=zstd:3"]),
            fstab_extra_options=dict(type="list", elements="str", default=[]),
            fstab=dict(type="path", default="/etc/fstab"),
        ),
        supports_check_mode=True,
    )
    storage, result = run_storage(module, BtrfsStorage, "btrfs storage")
    result["uuid"] = storage.uuid  # the new filesystem's, after mkfs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
