#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: switch_journal
short_description: Record a Docker storage switch in progress, so that a run cut short can be finished
version_added: 0.1.0
description:
  - The C(cowstack.docker_storage.docker_storage) role records a switch as it goes (phase V(saved), V(vacating),
    V(vacated), V(configuring), V(restarting), V(switched)), and removes the record when the switch is verified, or
    rolled back with docker seen running again (else the phase V(rolled_back) stays as a record, which the next run
    does not resume). A run killed or cut by a power loss in between leaves the record, which the next run reads
    (M(cowstack.docker_storage.storage_facts) C(switch_journal)) to finish the switch instead of starting over on an
    empty data-root.
  - With O(hold_docker), a file beside the journal (C(hold-docker)) keeps docker.service from starting (the role's
    drop-in has C(ConditionPathExists=!) on it) - from the moment the data-root is vacated until the role restarts
    docker itself, so that a power cut in between does not let docker start on the new, still empty storage with
    the old settings.
  - Written atomically (temporary file, fsync, rename, fsync of the directory), root-only.
  - Each write is a barrier - every filesystem is flushed first (C(sync)), so that what the run did before the
    record (a new drop-in, the data-root moved aside, the saved images, daemon.json) is on disk before the journal
    says so. An fsync of the journal alone would not carry another file's data written moments before (ext4's
    delayed allocation leaves a new file empty after a power cut), and the next boot would then start docker
    without the drop-in that holds it.
requirements:
  - Root on the managed node.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
options:
  path:
    description: The journal file (its directory is created root-only).
    type: path
    default: /var/lib/cowstack-docker-storage/switch.json
  state:
    description: V(present) writes O(record) with O(phase); V(absent) removes the journal.
    type: str
    choices: [present, absent]
    default: present
  phase:
    description: The phase reached.
    type: str
    choices: [saved, vacating, vacated, configuring, restarting, switched, rolled_back]
  record:
    description: What the switch is (C(from), C(to), C(aside), C(spool), C(images), C(started), ...).
    type: dict
    default: {}
  hold_docker:
    description: Keep the hold file (docker.service does not start) after this write; V(false) removes it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The data-root is vacated
  cowstack.docker_storage.switch_journal:
    phase: vacated
    record: "{{ journal }}"
"""

RETURN = r"""
journal:
  description: The journal as written (null after O(state=absent)).
  returned: always
  type: dict
hold_docker:
  description: Whether the hold file keeps docker.service from starting now.
  returned: always
  type: bool
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic


def write(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", 0o600)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/var/lib/cowstack-docker-storage/switch.json"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            phase=dict(type="str", choices=["saved", "vacating", "vacated", "configuring", "restarting", "switched",
                                            "rolled_back"]),
            record=dict(type="dict", default={}),
            hold_docker=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ("phase",))],
        supports_check_mode=True,
    )
    path = module.params["path"]
    try:
        with open(path) as handle:
            current = json.load(handle)
    except (IOError, OSError, ValueError):
        current = None if not os.path.exists(path) else {}
    hold = os.path.join(os.path.dirname(path), "hold-docker")
    hold_wanted = module.params["state"] == "present" and module.params["hold_docker"]
    hold_changed = os.path.exists(hold) != hold_wanted
    if hold_changed and not module.check_mode and not hold_wanted:
        os.unlink(hold)
    if module.params["state"] == "absent":
        changed = os.path.exists(path)
        if changed and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=changed or hold_changed, journal=None, hold_docker=False)
    record = dict(module.params["record"])
    record.pop("path", None)  # storage_facts adds where it read it
    record["phase"] = module.params["phase"]
    changed = current != record
    if (changed or hold_changed) and not module.check_mode:
        os.sync()  # the barrier: what the run wrote before this record reaches the disk before the record does
    if changed and not module.check_mode:
        write(path, record)
    if hold_changed and not module.check_mode and hold_wanted:
        write(hold, {"held_by": "cowstack.docker_storage switch", "phase": record["phase"]})
    result = dict(changed=changed or hold_changed, journal=record, hold_docker=hold_wanted)
    if changed and module._diff:
        result["diff"] = {"before": json.dumps(current, indent=2, sort_keys=True) + "\n" if current else "",
                          "after": json.dumps(record, indent=2, sort_keys=True) + "\n"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
