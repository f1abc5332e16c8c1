#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: The docker_storage role's checks and plan for a host, before anything changes
version_added: 0.1.0
description:
  - Checks every input of the C(cowstack.docker_storage.docker_storage) role (names, devices, properties, vdev
    layout, sizes, paths), also those of a backend this run will not use, before the host is contacted.
  - Then gathers M(cowstack.docker_storage.storage_facts) (one round trip, with the devices and the lab file) and,
    on the controller, refuses what cannot be done safely - a device that does not exist or is not a block device, a
    lab file this collection did not make, a policy whose filesystem the host lacks when devices are given (never a
    silent fallback), Docker missing without C(docker_storage_docker_version), a switch that would hide images -
    and plans the rest - the driver, the packages to install, daemon.json, whether the data-root is vacated, images
    saved and loaded, and whether an earlier run that was cut short is finished.
  - Warnings (an anti-pattern, CPU-bound compression, dedup's memory) are shown as Ansible warnings.
  - An action plugin for the role; it changes nothing on the host.
requirements:
  - On the managed node, those of M(cowstack.docker_storage.storage_facts) and M(cowstack.docker_storage.run_lock),
    which it runs there.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Changes nothing in any mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Changes nothing.
  platform:
    platforms: posix
options:
  inputs:
    description: The role's variables by name (C(docker_storage_policy), C(docker_storage_devices), ...).
    type: dict
    required: true
  lock:
    description:
      - Take the host's run lock first (M(cowstack.docker_storage.run_lock) options C(wait), C(playbook), C(path),
        and C(token) to take again a lock this run holds); the RV(lock_token) gives it back.
    type: dict
"""

EXAMPLES = r"""
- name: Check the inputs and plan
  cowstack.docker_storage.preflight:
    inputs:
      docker_storage_policy: enterprise
      docker_storage_data_root: /var/lib/docker
      docker_storage_devices: [/dev/vdb]
  register: plan
"""

RETURN = r"""
facts:
  description: The facts of M(cowstack.docker_storage.storage_facts).
  returned: success
  type: dict
choice:
  description: What P(cowstack.docker_storage.choose_driver#filter) returns for the policy.
  returned: success
  type: dict
daemon:
  description: The daemon.json plan (content, write, switch, hidden, conflicts, exec_start).
  returned: success
  type: dict
packages:
  description: Debian packages to install for the filesystem the devices are for.
  returned: success
  type: list
  elements: str
vacate:
  description: Whether the data-root's current content is moved aside before new storage is mounted there.
  returned: success
  type: bool
save_images:
  description: Whether images are saved before the switch (save_load).
  returned: success
  type: bool
load_images:
  description: Whether saved images are loaded and checked after the switch.
  returned: success
  type: bool
images:
  description: The images to find after the switch, when an interrupted run saved them.
  returned: success
  type: list
  elements: str
resume:
  description: The journal of an interrupted switch this run finishes, or null.
  returned: success
  type: dict
prepare_at:
  description:
    - Where the prepared btrfs or ZFS filesystem is mounted (null when none is prepared) - the data-root, or with
      the containerd image store through the system's containerd, the chosen snapshotter's directory (such as
      C(/var/lib/containerd/io.containerd.snapshotter.v1.btrfs)), which must be empty.
  returned: success
  type: str
aside:
  description: Where the current Docker state is moved aside.
  returned: success
  type: str
docker_missing:
  description: Docker is not installed (the storage is prepared, nothing is restarted).
  returned: success
  type: bool
restart_pending:
  description: Docker must restart even if no file changes (an interrupted switch, or it runs other settings).
  returned: success
  type: bool
lock_token:
  description: The run lock's token when O(lock) was given (null in check mode).
  returned: when O(lock) is given
  type: str
errors:
  description: Every refusal, each naming the variable and what to do.
  returned: failure
  type: list
  elements: str
"""
