# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_storage role's preflight in one task: every input checked before the host is contacted, the facts
in one round trip, then the plan (_preflight.evaluate) on the controller. Warnings are shown as Ansible warnings."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.cowstack.docker_storage.plugins.action.run_lock import acquire
from ansible_collections.cowstack.docker_storage.plugins.module_utils._inputs import check as check_inputs
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate

display = Display()
NOTHING = " Nothing was changed."


def facts_args(inputs):
    """storage_facts' options for the role's inputs (the preflight's, and the audit's with the role's variables)."""
    lab = inputs.get("docker_storage_lab_file") or {}
    args = {"data_root": inputs["docker_storage_data_root"],
            "daemon_json_path": inputs.get("docker_storage_daemon_json_path"),
            "service_name": inputs.get("docker_storage_docker_service"),
            "devices": list(inputs.get("docker_storage_devices") or []),
            "journal_path": inputs.get("docker_storage_journal"),
            "containerd_config": inputs.get("docker_storage_containerd_config")}
    if lab.get("path"):
        args["lab_file"] = lab["path"]
    return dict((k, v) for k, v in args.items() if v is not None)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("inputs", "lock"))

    def _fail(self, result, errors, **extra):
        errors = [e.rstrip(". ") + "." for e in errors]
        result.update(failed=True, errors=errors, msg=" ".join(errors) + NOTHING, **extra)
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        inputs = self._task.args.get("inputs")
        if not isinstance(inputs, dict):
            return self._fail(result, ["preflight: inputs must be the role's variables, by name"])
        checked = check_inputs(inputs)  # before the host is contacted
        if checked["errors"]:
            return self._fail(result, checked["errors"])
        lock = self._task.args.get("lock")
        if isinstance(lock, dict):
            answer = acquire(self, task_vars, lock)
            if answer.get("failed"):
                return self._fail(result, [answer.get("msg", "the run lock could not be taken")])
            result["lock_token"] = answer.get("token")
        try:
            return self._plan(result, inputs, task_vars)
        except Exception:
            # the lock must not outlive a run that failed here: the role's release needs the token it never got
            if result.get("lock_token"):
                self._execute_module(module_name="cowstack.docker_storage.run_lock", task_vars=task_vars,
                                     module_args=dict((k, v) for k, v in lock.items() if k == "path")
                                     | {"state": "absent", "token": result["lock_token"]})
            raise

    def _plan(self, result, inputs, task_vars):
        gathered = self._execute_module(module_name="cowstack.docker_storage.storage_facts",
                                        module_args=facts_args(inputs), task_vars=task_vars)
        if gathered.get("failed") or "ansible_facts" not in gathered:
            return self._fail(result, ["storage_facts failed: %s" % gathered.get("msg", gathered)])
        facts = gathered["ansible_facts"]["docker_storage"]
        plan = evaluate(inputs, facts, check_mode=bool(self._task.check_mode))
        for warning in plan["warnings"]:
            display.warning(warning)
        result.update(changed=False, facts=facts, **dict((k, v) for k, v in plan.items() if k != "errors"))
        if plan["errors"]:
            return self._fail(result, plan["errors"])
        return result
