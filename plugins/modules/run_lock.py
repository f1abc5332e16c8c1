#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_lock
short_description: One run of the docker_storage role at a time on a host
version_added: 0.1.0
description:
  - Takes (O(state=present)) or gives back (O(state=absent)) the host's run lock, a file under C(/run) (cleared at
    boot) naming the controller process that holds it. Two runs against one host would otherwise both move the
    data-root or restart docker.
  - The action plugin of the same name fills O(owner) with the controller, the C(ansible-playbook) process and its
    start time. A lock whose holder is a process of the same controller that no longer runs (killed, crashed) is
    taken over; a live holder, or one of another controller, makes the run fail (after waiting up to O(wait)
    seconds), naming the holder, before anything is changed.
  - The lock is bookkeeping of the run, not managed state - taking and giving it back reports no change. In check
    mode nothing is written; a held lock is reported as a warning.
requirements:
  - Root on the managed node (the lock lives under C(/run)).
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.ACTION
attributes:
  check_mode:
    support: full
    details: Nothing is written; a lock held by another run is reported as a warning.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Taking a lock this run holds, or giving back one it does not, changes nothing.
  platform:
    platforms: posix
options:
  path:
    description: The lock file (its directory is made root-only).
    type: path
    default: /run/cowstack-docker-storage/role.lock
  state:
    description: V(present) takes the lock, V(absent) gives it back.
    type: str
    choices: [present, absent]
    default: present
  token:
    description:
      - With O(state=absent), the RV(token) the lock was taken with; a lock with another token is left alone.
      - With O(state=present), a token this run already holds the lock with (taking it again is a no-op).
    type: str
  wait:
    description: Seconds to wait for a lock held by a live run before failing (V(0) fails at once).
    type: int
    default: 0
  playbook:
    description: What to name in the lock as the run's playbook (shown to a run that finds the lock held).
    type: str
  owner:
    description: Set by the action plugin (controller, pid, start, program, token); not for playbooks.
    type: dict
  break_token:
    description: Set by the action plugin - remove the lock only if it holds this token (a holder known gone).
    type: str
"""

EXAMPLES = r"""
- name: One run at a time
  cowstack.docker_storage.run_lock:
    wait: 600
  register: lock

- name: Give the lock back
  cowstack.docker_storage.run_lock:
    state: absent
    token: "{{ lock.token }}"
"""

RETURN = r"""
token:
  description: The lock's token (give it back with it); null in check mode.
  returned: always
  type: str
acquired:
  description: Whether this run holds the lock now.
  returned: always
  type: bool
holder:
  description: The lock's content when another run holds it (controller, pid, start, started, playbook, token).
  returned: when the lock is held by another run
  type: dict
took_over:
  description: The holder a lock was taken over from (a process of this controller that no longer ran).
  returned: when a stale lock was taken over
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def read(path):
    """The lock's content; None when there is no lock, ``{}`` when it is empty or unreadable (a run cut short while
    it wrote the file: its holder is known gone)."""
    try:
        with open(path) as handle:
            content = json.loads(handle.read() or "{}")
    except (IOError, OSError):
        return None if not os.path.lexists(path) else {}
    except ValueError:
        return {}
    return content if isinstance(content, dict) else {}


def take(path, owner):
    """Create the lock file with ``owner`` unless it exists (O_EXCL); -> whether it was created."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if os.path.exists(path):
            return False
        raise exc
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(owner, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/run/cowstack-docker-storage/role.lock"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            token=dict(type="str", no_log=False),
            wait=dict(type="int", default=0),
            playbook=dict(type="str"),
            owner=dict(type="dict"),
            break_token=dict(type="str", no_log=False),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isabs(path):
        module.fail_json(msg="path %r must be absolute" % path)
    holder = read(path)
    if module.params["state"] == "absent":
        mine = isinstance(holder, dict) and holder.get("token") and holder.get("token") == module.params["token"]
        if mine and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=False, acquired=False, token=None, released=bool(mine))
    owner = module.params["owner"] or {}
    if not owner.get("token"):
        module.fail_json(msg="owner.token is missing: run_lock is used through its action plugin")
    if module.check_mode:
        result = dict(changed=False, acquired=False, token=None)
        if holder is not None:
            result["holder"] = holder
        module.exit_json(**result)
    if isinstance(holder, dict) and holder.get("token") == owner["token"]:
        module.exit_json(changed=False, acquired=True, token=owner["token"], took_over=None)
    took_over = None
    if holder is not None and module.params["break_token"] is not None and \
            (holder or {}).get("token", "") == module.params["break_token"]:
        os.unlink(path)
        took_over, holder = holder, None
    if holder is None and take(path, owner):
        module.exit_json(changed=False, acquired=True, token=owner["token"], took_over=took_over)
    module.exit_json(changed=False, acquired=False, token=None, holder=read(path) or {})


if __name__ == "__main__":
    main()
