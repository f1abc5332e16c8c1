# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's audit in one task: the storage_facts module (one round trip), then the summary on the controller.

One task per host instead of facts + set_fact + debug + assert: on a fleet each templated per-host task costs
a worker fork and a Jinja2 pass (about 70 ms a host here), which put the audit's slope at 2.3x ping's."""

from __future__ import annotations

import hashlib
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cowstack.docker_storage.plugins.action.preflight import facts_args
from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import add_drift, summarize
from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import PolicyError, check_policy
from ansible_collections.cowstack.docker_storage.plugins.module_utils._drift import drift, reads
from ansible_collections.cowstack.docker_storage.plugins.module_utils._inputs import check as check_inputs
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate
from ansible_collections.cowstack.docker_storage.plugins.modules.snapshot_install import LIBRARY_NAMES, RETENTION, TOOL

try:  # ansible-core 2.19+: only trusted strings are templates
    from ansible.template import trust_as_template
except ImportError:  # older cores template every string
    def trust_as_template(value):
        return value

_FACT_ARGS = ("data_root", "daemon_json_path", "docker_host")
COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(COLLECTION, "roles")
# the snapshot tool's files as snapshot_install writes them in its lib_dir: name -> the collection's file
TOOL_SOURCES = dict([(TOOL, os.path.join(ROLES, "docker_storage_snapshot", "files", TOOL))] + [
    (name, os.path.join(COLLECTION, "plugins", "module_utils", name)) for name in (RETENTION,) + LIBRARY_NAMES])
# the role's own paths (roles/docker_storage/vars/main.yml), templated with its variables
_PATHS = {"storage_dropin": "docker_storage__storage_dropin", "containerd_dropin": "docker_storage__containerd_dropin",
          "hold_file": "docker_storage__hold_file"}


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(_FACT_ARGS + ("policy", "storage_opts", "fail_on_errors", "role_variables"))

    def _role(self, task_vars):
        """The docker_storage role's inputs, its paths and the snapshot role's variables, as a play of the roles
        would see them on this host: the roles' defaults, the host's variables over them, the role's vars over
        those."""
        def trusted(value):
            if isinstance(value, dict):
                return dict((k, trusted(v)) for k, v in value.items())
            if isinstance(value, list):
                return [trusted(v) for v in value]
            return trust_as_template(value) if isinstance(value, str) else value

        def load(role, kind):
            # the collection's own files, templated as the role's would be
            return trusted(self._loader.load_from_file(os.path.join(ROLES, role, kind, "main.yml")) or {})
        snapshot_defaults = load("docker_storage_snapshot", "defaults")
        role_vars = load("docker_storage", "vars")
        variables = dict(snapshot_defaults)
        variables.update(load("docker_storage", "defaults"))
        variables.update(task_vars)
        variables.update(role_vars)
        templar = self._templar.copy_with_new_env(available_variables=variables)
        inputs = templar.template(role_vars["docker_storage__inputs"])
        paths = dict((k, templar.template(role_vars[v])) for k, v in _PATHS.items())
        snapshot = {"docker_storage_snapshots": templar.template(variables.get("docker_storage_snapshots", False))}
        if snapshot["docker_storage_snapshots"] in (True, "true", "True", "yes"):
            snapshot.update((k, templar.template(variables[k])) for k in sorted(snapshot_defaults) if k in variables)
            snapshot["docker_storage_snapshots"] = True
            snapshot["config_doc"] = templar.template(load("docker_storage_snapshot", "vars")["__docker_storage_snapshot_doc"])
            lib_dir = snapshot.get("docker_storage_snapshot_lib_dir")
            if isinstance(lib_dir, str) and os.path.isabs(lib_dir):
                snapshot["tool_files"] = dict((os.path.join(lib_dir, name), _digest(source))
                                              for name, source in TOOL_SOURCES.items())
        return inputs, paths, snapshot

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
            role_variables=dict(type="bool", default=False),
        ))[1]
        if args["role_variables"]:
            inputs, paths, snapshot = self._role(task_vars)
            checked = check_inputs(inputs)  # before the host is contacted
            if checked["errors"]:
                raise AnsibleActionFail("docker_storage audit: %s" % " ".join(checked["errors"]))
            module_args = dict(facts_args(inputs), **reads(inputs, paths, snapshot))
            if snapshot.get("docker_storage_snapshot_config"):
                module_args["snapshot_config"] = snapshot["docker_storage_snapshot_config"]
            policy, storage_opts = inputs.get("docker_storage_policy") or "auto", inputs.get("docker_storage_storage_opts")
        else:
            try:
                check_policy(args["policy"])  # before the host is contacted
            except PolicyError as exc:
                raise AnsibleActionFail("docker_storage audit: %s" % to_native(exc))
            module_args = dict((k, args[k]) for k in _FACT_ARGS if args[k] is not None)
            policy, storage_opts = args["policy"], args["storage_opts"]
        if args["docker_host"]:
            module_args["docker_host"] = args["docker_host"]
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
        summary = summarize(facts, policy, storage_opts=storage_opts, host=task_vars.get("inventory_hostname"))
        if args["role_variables"]:
            # the role's own plan (the preflight's, in check mode): every drift it would fix
            plan = evaluate(inputs, facts, check_mode=True)
            add_drift(summary, drift(checked["inputs"], facts, plan, paths, snapshot), plan)
        result.update(changed=False, audit=summary)
        if summary["errors"] and args["fail_on_errors"]:
            result.update(failed=True, msg="policy %s cannot be applied on this host as it stands: %s"
                          % (policy, "; ".join(summary["errors"])))
        else:
            result.update(msg=summary["lines"],
                          ansible_facts={"docker_storage": facts, "docker_storage_audit": summary})
        return result
