# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's audit in one task: the storage_facts module (one round trip), then the summary on the controller.

One task per host instead of facts + set_fact + debug + assert: on a fleet each templated per-host task costs
a worker fork and a Jinja2 pass (about 70 ms a host here), which put the audit's slope at 2.3x ping's."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import summarize
from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import PolicyError, check_policy

_FACT_ARGS = ("data_root", "daemon_json_path", "docker_host")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(_FACT_ARGS + ("policy", "storage_opts", "fail_on_errors"))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=dict(
            data_root=dict(type="path"),
            daemon_json_path=dict(type="path"),
            docker_host=dict(type="str"),
            policy=dict(type="str", default="auto"),
            storage_opts=dict(type="raw"),
            fail_on_errors=dict(type="bool", default=True),
        ))[1]
        try:
            check_policy(args["policy"])  # before the host is contacted
        except PolicyError as exc:
            raise AnsibleActionFail("docker_storage audit: %s" % to_native(exc))
        module_args = dict((k, args[k]) for k in _FACT_ARGS if args[k] is not None)
        gathered = self._execute_module(module_name="cowstack.docker_storage.storage_facts",
                                        module_args=module_args, task_vars=task_vars)
        for key in ("warnings", "deprecations"):
            if gathered.get(key):
                result[key] = gathered[key]
        if gathered.get("failed") or "ansible_facts" not in gathered:
            result.update(failed=True, msg="storage_facts failed: %s" % gathered.get("msg", gathered))
            return result
        facts = gathered["ansible_facts"]["docker_storage"]
        # the policy was checked above, so summarize cannot raise PolicyError here
        summary = summarize(facts, args["policy"], storage_opts=args["storage_opts"],
                            host=task_vars.get("inventory_hostname"))
        result.update(changed=False, audit=summary)
        if summary["errors"] and args["fail_on_errors"]:
            result.update(failed=True, msg="policy %s cannot be applied on this host as it stands: %s"
                          % (args["policy"], "; ".join(summary["errors"])))
        else:
            result.update(msg=summary["lines"],
                          ansible_facts={"docker_storage": facts, "docker_storage_audit": summary})
        return result
