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
  - The usual lab practice of C(dd) + C(losetup), done safely. Creates the file O(path) of O(size) (sparse)
    when it does not exist, after checking that its filesystem has room for all of it, marks it as this
    collection's lab file (an extended attribute, or a marker file beside it where the filesystem has none), and
    attaches it to a loop device unless it already is. Returns the device, which the storage modules then use
    like a disk.
  - An existing file is used only when it is this collection's own lab file - it carries the marker, or it
    already holds the filesystem the role makes on it (see O(adopt_labels)). Any other existing file is refused,
    in check mode too, naming the path, before anything is changed - its content would be lost.
  - A lab file that is smaller than O(size) is grown (never shrunk) and the loop device's size refreshed; a larger
    file is reported and left alone.
  - Coming back after a reboot is the job of the systemd unit the C(cowstack.docker_storage.docker_storage)
    role installs from RV(device) and O(path).
requirements:
  - C(losetup) (util-linux) and loop device support in the kernel, on the managed node.
  - Root.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
options:
  path:
    description: The backing file. It must not exist yet, or be a lab file this collection made.
    type: path
    required: true
  size:
    description: Size of the file, such as C(10G), C(512M) (powers of 1024), at least C(128M).
    type: str
    required: true
  adopt_labels:
    description:
      - An existing file without the marker is adopted (marked, then used) when it holds a btrfs filesystem with
        the label C(btrfs) or a ZFS pool named C(zfs) given here - a lab file made before the marker existed.
    type: dict
    default: {}
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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._lab import MIN_SIZE, refusal
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, command, settle
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import (
    read_lab_file, write_lab_marker,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._units import parse_size


def create(path, size):
    """A new sparse file of ``size`` bytes, mode 0600, marked as a lab file before it appears at ``path``: made under
    a temporary name beside it and renamed, so a crash never leaves an unmarked file there (which every later run
    would refuse as someone else's). Fails if anything appeared at ``path`` meanwhile."""
    tmp = "%s.cowstack-new" % path
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)
    write_lab_marker(tmp, path)
    if os.path.lexists(path):
        os.unlink(tmp)
        raise OSError("%s appeared while the lab file was being made" % path)
    os.rename(tmp, path)


def grow(path, size):
    with open(path, "r+b") as handle:
        handle.truncate(size)
        os.fsync(handle.fileno())


def main():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", required=True), size=dict(type="str", required=True),
                           adopt_labels=dict(type="dict", default={})),
        supports_check_mode=True,
    )
    path = module.params["path"]
    size = parse_size(module.params["size"])
    if size is None or size < MIN_SIZE:
        module.fail_json(msg="size %r: give a size of at least 128M, such as 10G. Nothing was changed."
                         % module.params["size"])
    if not os.path.isabs(path):
        module.fail_json(msg="path %r must be absolute. Nothing was changed." % path)
    path = os.path.normpath(path)
    info = read_lab_file(module, path)
    problem, adopt = refusal(info, size, module.params["adopt_labels"])
    if problem:
        module.fail_json(msg=problem, plan=[])
    losetup = module.get_bin_path("losetup", required=True)
    plan = Plan()
    result = dict(device=info["device"], size_bytes=size)
    current = info["size"] if info["exists"] else None
    plan.before["file"] = "absent" if current is None else "%s bytes" % current
    if adopt:
        probe = info["probe"]
        plan.add("mark %s as a lab file (it holds a %s labelled %s)" % (path, probe.get("TYPE"), probe.get("LABEL")),
                 lambda: write_lab_marker(path))
    if current is None:
        plan.add("create %s (%s bytes, marked as a lab file)" % (path, size), lambda: create(path, size))
        plan.after["file"] = "%s bytes" % size
    elif current < size:
        plan.add("grow %s to %s bytes" % (path, size), lambda: grow(path, size))
        plan.after["file"] = "%s bytes" % size
    elif current > size:
        plan.warnings.append("%s is %s bytes, larger than %s: it is never shrunk" % (path, current, size))
    device = info["device"]
    plan.before["device"] = device or "detached"
    if device is None:
        def attach():
            result["device"] = command(module, [losetup, "--find", "--show", path]).strip()
        plan.add("attach %s to a loop device" % path, attach)
        plan.after["device"] = "attached"
    elif current is not None and current < size:
        plan.add("refresh the size of %s" % device, lambda: command(module, [losetup, "--set-capacity", device]))
    module.exit_json(**settle(module, plan, result, header="lab file %s" % path))


if __name__ == "__main__":
    main()
