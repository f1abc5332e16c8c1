# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock, taken for this controller's ansible-playbook process; a holder known gone is taken over."""

from __future__ import annotations

import datetime
import os
import sys
import time
import uuid

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.cowstack.docker_storage.plugins.module_utils._lock import describe, refusal, stale
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils._controller import (
    controller_id, start_time as _start_time,
)

display = Display()


def _alive(pid, start):
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError) as exc:
        return getattr(exc, "errno", None) == 1  # EPERM: it runs, as another user
    return start is None or _start_time(pid) in (None, start)


def acquire(action, task_vars, args):
    """Take the run lock for this controller's ansible-playbook process (``action``: the running ActionBase).

    A holder known gone (a process of this controller that no longer runs) is taken over; a live one is waited
    for up to ``args['wait']`` seconds. -> the module's answer (``failed`` with the refusal when not taken)."""
    module = "cowstack.docker_storage.run_lock"
    pid = os.getppid()  # the ansible-playbook (or ansible) process; this worker is its child
    owner = {"controller": controller_id(), "pid": pid, "start": _start_time(pid),
             "program": os.path.basename(sys.argv[0]) or "ansible", "token": args.get("token") or uuid.uuid4().hex,
             "playbook": args.get("playbook"),
             "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    wait = int(args.get("wait") or 0)
    deadline = time.time() + wait
    break_token = None
    module_args = dict((k, v) for k, v in args.items() if k in ("path", "wait", "playbook"))
    while True:
        answer = action._execute_module(module_name=module, module_args=dict(
            module_args, state="present", owner=owner, break_token=break_token), task_vars=task_vars)
        if answer.get("failed") or answer.get("acquired") or action._task.check_mode:
            break
        holder = answer.get("holder") or {}
        if stale(holder, owner["controller"], _alive) and break_token is None:
            break_token = holder.get("token", "")
            continue
        if time.time() >= deadline:
            answer.update(failed=True, msg=refusal(holder, args.get("path") or "/run/cowstack-docker-storage/"
                                                   "role.lock", wait))
            break
        break_token = None
        time.sleep(min(5, max(1, deadline - time.time())))
    if answer.get("took_over"):
        display.warning("took over the run lock from %s, which no longer runs" % describe(answer["took_over"]))
    if action._task.check_mode and answer.get("holder"):
        display.warning("check mode: %s holds the run lock on this host; what this run reports may change under it"
                        % describe(answer["holder"]))
    return answer


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get("state", "present") == "absent":
            result.update(self._execute_module(module_name="cowstack.docker_storage.run_lock", module_args=args,
                                               task_vars=task_vars))
            return result
        result.update(acquire(self, task_vars, args))
        return result
