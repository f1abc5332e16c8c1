#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: storage_audit
short_description: Audit one host's Docker storage against a policy in one task
version_added: 0.1.0
description:
  - Runs M(cowstack.docker_storage.storage_facts) on the host (one module round trip), then on the controller
    applies dockerd's rules and the policy exactly as P(cowstack.docker_storage.audit_summary#filter) does.
  - Returns the summary as RV(audit) (also the fact C(docker_storage_audit)), and sets the fact C(docker_storage).
  - Fails the host when the policy cannot be applied as it stands (the summary's C(errors)), unless
    O(fail_on_errors=false); the summary is returned either way, so a registered result feeds
    M(cowstack.docker_storage.audit_report) for failed hosts too.
  - One task per host is the point on a fleet; gathering, summarising, printing and asserting as four tasks
    cost a worker and a template pass each per host.
requirements:
  - On the managed node, those of M(cowstack.docker_storage.storage_facts), which it runs there.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.ACTION
  - cowstack.docker_storage.attributes.INFO_MODULE
attributes:
  platform:
    platforms: posix
options:
  policy:
    description: C(auto), C(general), C(enterprise), C(large_images), or a driver name, as for P(cowstack.docker_storage.choose_driver#filter).
    type: str
    default: auto
  storage_opts:
    description: Storage options to check against the recommended driver's rules.
    type: raw
  data_root:
    description: Passed to M(cowstack.docker_storage.storage_facts).
    type: path
  daemon_json_path:
    description: Passed to M(cowstack.docker_storage.storage_facts).
    type: path
  docker_host:
    description: Passed to M(cowstack.docker_storage.storage_facts).
    type: str
  fail_on_errors:
    description: Fail the host when the summary lists errors.
    type: bool
    default: true
  role_variables:
    description:
      - Audit against the variables of the P(cowstack.docker_storage.docker_storage#role) and
        P(cowstack.docker_storage.docker_storage_snapshot#role) roles as a play of them would see them on this host
        (their defaults, the host's variables over them), and report every drift the role would fix - the same plan
        as its preflight, with daemon.json's keys, the restart, the storage to make, btrfs mount options and the fstab
        line, ZFS dataset and pool properties, the docker drop-in, the system containerd's config.toml keys, the
        snapshot schedule and the snapshot tool's installed files - still from one
        M(cowstack.docker_storage.storage_facts) round trip.
      - O(policy), O(storage_opts), O(data_root) and O(daemon_json_path) are then taken from the role's variables.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Audit Docker storage
  cowstack.docker_storage.storage_audit:
    policy: enterprise
  register: docker_storage_audit_result

- name: Show what the policy would change
  ansible.builtin.debug:
    msg: "{{ docker_storage_audit_result.audit.lines }}"
"""

RETURN = r"""
audit:
  description: The host's summary, as from P(cowstack.docker_storage.audit_summary#filter), which describes each key.
  returned: when the facts were gathered
  type: dict
  contains:
    host:
      description: The host's name.
      type: str
    kernel:
      description: The kernel release.
      type: str
    data_root:
      description: Docker's data-root.
      type: str
    backing_fs:
      description: The filesystem under data-root, as a readable line.
      type: str
    docker:
      description: The Docker installation, as a readable line.
      type: str
    current_driver:
      description: The driver in use; null when none.
      type: str
    default_driver:
      description: What this host's dockerd would pick with nothing set.
      type: str
    default_driver_reason:
      description: Why dockerd picks it.
      type: str
    policy:
      description: The policy applied.
      type: str
    recommended:
      description: The driver the policy recommends.
      type: str
    image_store:
      description: The image store that goes with it.
      type: str
    storage_opts:
      description: The storage-opts checked.
      type: list
      elements: str
    prepare:
      description: The filesystem to prepare first, or null.
      type: str
    rules:
      description: The Docker band whose rules were applied.
      type: str
    reasons:
      description: Why the policy recommends that driver.
      type: list
      elements: str
    drift:
      description:
        - Differences between what runs now and the recommendation; with O(role_variables), also every drift the role
          would fix, one line each, its area first.
      type: list
      elements: str
    drift_items:
      description:
        - With O(role_variables), each drift as a dict C(area) (V(daemon.json), V(docker), V(storage), V(mount),
          V(fstab), V(zfs), V(zpool), V(drop-in), V(containerd), V(snapshots)), C(what), C(now) and C(wanted).
      type: list
      elements: dict
    warnings:
      description: Warnings of the choice, of the snapshots and of the pool.
      type: list
      elements: str
    data_root_free_bytes:
      description: Free space under data-root.
      type: int
    data_root_size_bytes:
      description: The size of the filesystem under data-root.
      type: int
    pool:
      description: The pool under data-root (ZFS pool or btrfs filesystem) with its size, free space and health.
      type: dict
    snapshots:
      description: The newest snapshot per target of the snapshot tool, with its age and state.
      type: dict
    errors:
      description: Errors of the choice; the host fails when there are any (O(fail_on_errors)).
      type: list
      elements: str
    prior_drivers:
      description: Driver directories under data-root that hold state.
      type: list
      elements: str
    lines:
      description: The summary as readable lines.
      type: list
      elements: str
msg:
  description: The summary's readable lines, or why the host failed.
  returned: always
  type: raw
"""
