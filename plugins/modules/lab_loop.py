#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lab_loop
short_description: A file of a given size attached as a loop device, for a lab host's Docker storage
version_added: 0.1.0
description:
  - The usual lab practice of C(dd) + C(losetup), done safely. Creates the file O(path) of O(size) (sparse) when it
    does not exist, after checking that its filesystem has room for all of it, and attaches it to a loop device
    unless it already is. Returns the device, which the storage modules then use like a disk.
  - A file that is smaller than O(size) is grown (never shrunk) and the loop device's size refreshed; a larger
    file is reported and left alone.
  - Coming back after a reboot is the job of the systemd unit the C(cowstack.docker_storage.docker_storage)
    role installs from RV(device) and O(path).
requirements:
  - C(losetup) (util-linux) and loop device support in the kernel, on the managed node.
  - Root.
author:
  - cowstack maintainers (@cowstack)
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
options:
  path:
    description: The backing file.
    type: path
    required: true
  size:
    description: Size of the file, such as C(10G), C(512M) (powers of 1024).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: A 20 GiB lab disk for Docker
  cowstack.docker_storage.lab_loop:
    path: /var/lib/cowstack/docker-lab.img
    size: 20G
  register: lab
"""

RETURN = r"""
device:
  description: The loop device the file is attached to (null in check mode before it is attached).
  returned: always
  type: str
  sample: /dev/loop0
size_bytes:
  description: The size asked, in bytes.
  returned: always
  type: int
plan:
  description: The steps taken or, in check mode, that would be taken.
  returned: always
  type: list
  elements: str
"""

import glob
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import C_LOCALE, read_text

_SIZE = re.compile(r"^(\d+)\s*([KMGT]?)(i?B)?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def parse_size(text):
    match = _SIZE.match(str(text).strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def attached_device(path):
    real = os.path.realpath(path)
    for backing in sorted(glob.glob("/sys/block/loop*/loop/backing_file")):
        if read_text(backing).strip() == real:
            return "/dev/" + backing.split("/")[3]
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), size=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    path = module.params["path"]
    size = parse_size(module.params["size"])
    if size is None or size < 128 * 1024 ** 2:
        module.fail_json(msg="size %r: give a size of at least 128M, such as 10G. Nothing was changed."
                         % module.params["size"])
    if not os.path.isabs(path):
        module.fail_json(msg="path %r must be absolute. Nothing was changed." % path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        module.fail_json(msg="the directory %s of the lab file does not exist: create it first. Nothing was changed."
                         % directory)
    if os.path.exists(path) and not os.path.isfile(path):
        module.fail_json(msg="%s exists and is not a regular file. Nothing was changed." % path)
    losetup = module.get_bin_path("losetup", required=True)
    plan = Plan()
    current = os.path.getsize(path) if os.path.exists(path) else None
    plan.before["file"] = "absent" if current is None else "%s bytes" % current
    vfs = os.statvfs(directory)
    free = vfs.f_bavail * vfs.f_frsize
    if current is None or current < size:
        need = size - (current or 0)
        if need > free:
            module.fail_json(msg="the filesystem of %s has %d MiB free, the lab file needs %d MiB more: free space or "
                                 "choose a smaller size. Nothing was changed." % (directory, free // 1024 ** 2,
                                                                                  need // 1024 ** 2))
        plan.add("%s %s (%s bytes)" % ("create" if current is None else "grow", path, size), "size")
        plan.after["file"] = "%s bytes" % size
    elif current > size:
        module.warn("%s is %s bytes, larger than %s: it is never shrunk" % (path, current, size))
    device = attached_device(path) if current is not None else None
    plan.before["device"] = device or "detached"
    if device is None:
        plan.add("attach %s to a loop device" % path, "attach")
        plan.after["device"] = "attached"
    elif current is not None and current < size:
        plan.add("refresh the size of %s" % device, "refresh")
    result = dict(changed=bool(plan.steps), plan=plan.describe(), device=device, size_bytes=size)
    if plan.steps and module._diff:
        result["diff"] = plan.diff()
    if plan.steps and not module.check_mode:
        for _describe, step in plan.steps:
            if step == "size":
                with open(path, "ab") as handle:
                    handle.truncate(size)
                os.chmod(path, 0o600)
            elif step == "attach":
                rc, out, err = module.run_command([losetup, "--find", "--show", path], environ_update=C_LOCALE)
                if rc != 0:
                    module.fail_json(msg="losetup --find --show %s failed: %s" % (path, err.strip()), **result)
                result["device"] = out.strip()
            elif step == "refresh":
                rc, out, err = module.run_command([losetup, "--set-capacity", device], environ_update=C_LOCALE)
                if rc != 0:
                    module.fail_json(msg="losetup --set-capacity %s failed: %s" % (device, err.strip()), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
