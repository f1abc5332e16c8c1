# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the audit's JSON report on the controller; the managed hosts are not contacted."""

from __future__ import annotations

import json
import os
import re

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import fleet_report

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def _write_json(path, data):
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", 0o644)


def _summaries_from_results(hosts, result_var, hostvars):
    """``{host: summary}`` from each host's registered storage_audit result; hosts without one listed apart."""
    summaries, missing = {}, []
    for host in hosts:
        try:
            registered = hostvars[host].get(result_var)
        except KeyError:
            registered = None
        audit = registered.get("audit") if isinstance(registered, dict) else None
        if isinstance(audit, dict):
            summaries[host] = audit
        else:
            missing.append(host)
    return summaries, missing


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "summaries", "hosts", "result_var"))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=dict(
            dest=dict(type="path", required=True),
            summaries=dict(type="dict"),
            hosts=dict(type="list", elements="str"),
            result_var=dict(type="str", default="docker_storage_audit_result"),
        ), mutually_exclusive=[("summaries", "hosts")], required_one_of=[("summaries", "hosts")])[1]
        dest = args["dest"]
        missing = []
        if args["hosts"] is not None:
            summaries, missing = _summaries_from_results(args["hosts"], args["result_var"],
                                                         task_vars.get("hostvars") or {})
        else:
            summaries = args["summaries"]
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest)
            written = []
            for host, summary in sorted(summaries.items()):
                path = os.path.join(dest, "%s.json" % _SAFE_NAME.sub("_", host))
                _write_json(path, summary)
                written.append(path)
            fleet = fleet_report(summaries)
            fleet["not_audited"] = sorted(missing)
            fleet_path = os.path.join(dest, "fleet.json")
            _write_json(fleet_path, dict(fleet, summaries=summaries))
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("cannot write the audit report under %s: %s (choose another "
                                    "docker_storage_audit_report_dir)" % (dest, to_native(exc)))
        # The report is the audit's output on the controller; no managed host changed. Its lines are shown
        # once here for the whole fleet rather than by a task per host.
        result.update(changed=False, files=written + [fleet_path], fleet=fleet,
                      lines=dict((host, (summaries[host] or {}).get("lines")) for host in sorted(summaries)),
                      _ansible_verbose_always=True)
        return result
