# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the audit's report on the controller (JSON, Markdown, HTML); the managed hosts are not contacted.

The layout, and what a write keeps of an earlier one (a batch of the same run) or removes (another run's host
files), are in ``plugin_utils/_report_files.py``."""

from __future__ import annotations

import datetime
import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import fleet_report
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils import _report_files as files
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils import _report_render as render
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils._controller import run_id


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


def write_report(dest, summaries, missing, run):
    """Write the report for ``summaries`` (plus what an earlier batch of the same ``run`` wrote) under ``dest``.

    -> ``(fleet, every summary reported, files written, files removed)``."""
    hosts_dir = os.path.join(dest, files.HOSTS_DIR)
    if not os.path.isdir(hosts_dir):
        os.makedirs(hosts_dir)
    previous = files.read_json(os.path.join(dest, "fleet.json"))
    summaries, missing, stale = files.merge(previous, run, summaries, missing)
    written, removed = [], []
    for host, summary in sorted(summaries.items()):
        path = os.path.join(hosts_dir, files.host_file_name(host))
        _write_json(path, summary)
        written.append(path)
    for host, path in files.stale_files(dest, summaries):
        os.unlink(path)
        removed.append(path)
        if host is not None and host not in summaries and host not in stale:
            stale.append(host)
    fleet = fleet_report(summaries)
    now = datetime.datetime.now(datetime.timezone.utc)
    fleet.update(not_audited=missing, stale_removed=sorted(set(stale) - set(summaries)), run={"id": run},
                 written=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 layout={"fleet": list(files.FLEET_FILES), "hosts": files.HOSTS_DIR + "/<host>.json"})
    for name, text in (("fleet.md", render.markdown(fleet, summaries)), ("fleet.html", render.html(fleet, summaries)),
                       ("fleet.prom", render.prometheus(fleet, summaries, int(now.timestamp())))):
        write_atomic(os.path.join(dest, name), text, 0o644)
        written.append(os.path.join(dest, name))
    # fleet.json last: it names the run, and a batch that failed before this point is not taken as written
    _write_json(os.path.join(dest, "fleet.json"), dict(fleet, summaries=summaries))
    written.append(os.path.join(dest, "fleet.json"))
    return fleet, summaries, written, removed


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
        given = sorted(summaries)
        try:
            fleet, summaries, written, removed = write_report(dest, summaries, missing, run_id())
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("cannot write the audit report under %s: %s (choose another "
                                    "docker_storage_audit_report_dir)" % (dest, to_native(exc)))
        # The report is the audit's output on the controller; no managed host changed. Its lines are shown
        # once here for the whole fleet rather than by a task per host (under serial, for this batch's call).
        result.update(changed=False, files=written, removed=removed, fleet=fleet,
                      lines=dict((host, (summaries[host] or {}).get("lines")) for host in given),
                      _ansible_verbose_always=True)
        return result
