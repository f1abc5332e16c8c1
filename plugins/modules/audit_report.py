#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: audit_report
short_description: Write the Docker storage audit on the controller as JSON, Markdown and HTML
version_added: 0.1.0
description:
  - Writes under O(dest) on the controller C(fleet.json) (counts per driver, hosts with drift, warnings or
    errors, and every host's summary), C(fleet.md) and C(fleet.html) for people (what needs attention first -
    errors, warnings, hosts not audited - then the fleet table with the free space under data-root and in the
    pool and the age of the newest snapshot per target, then each host's detail), C(fleet.prom) for monitoring
    (Prometheus' text format, for node_exporter's textfile collector - per host the drift count, errors, warnings
    and free space, and when the report was written), and C(hosts/<host>.json) per host.
  - C(fleet.html) is one self-contained file that loads nothing (inline style and script); its table filters by
    host or message, status and driver, also preset from the address (C(fleet.html#status=warning&driver=overlay2&q=web)).
  - Host files live in C(hosts/), so no host name (C(fleet) included) collides with the fleet's files; names are
    encoded one to one (C(%XX) for bytes outside C([A-Za-z0-9_.-]) and for a leading dot).
  - The report describes one run. A later call of the same ansible-playbook run (the next batch under C(serial),
    or another play) adds to it; a call of another run replaces it, and the host files of an earlier run whose
    hosts this run did not audit are removed (listed in C(stale_removed)) rather than kept and marked - kept, they
    would read as current to anything that reads C(hosts/*.json), and the fleet files, which describe this run,
    would disagree with the directory. Keep a report per run with a dated O(dest).
  - Runs on the controller only; the managed hosts are not contacted, so the task reports no change.
  - Files are written atomically (temporary file, then rename), mode 0644.
requirements:
  - None on the managed nodes; it runs on the controller only.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
attributes:
  check_mode:
    support: full
    details: The report is written in check mode too; it is the audit's output, not managed state.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Writes the same files for the same summaries.
  platform:
    platforms: posix
options:
  dest:
    description: Directory on the controller for the report; created if missing.
    type: path
    required: true
  summaries:
    description:
      - Mapping of host name to the summary of P(cowstack.docker_storage.audit_summary#filter).
      - Exactly one of O(summaries) and O(hosts) is required.
    type: dict
  hosts:
    description:
      - Host names whose registered M(cowstack.docker_storage.storage_audit) result (O(result_var)) holds their
        summary; read from C(hostvars) on the controller, so hosts that failed the audit are reported too.
      - A host without such a result (unreachable, or its facts could not be gathered) is listed in the fleet
        summary's C(not_audited).
    type: list
    elements: str
  result_var:
    description: Name of the variable the M(cowstack.docker_storage.storage_audit) result was registered as.
    type: str
    default: docker_storage_audit_result
"""

EXAMPLES = r"""
- name: Audit every host, then write the report once, failed hosts included
  block:
    - name: Audit Docker storage
      cowstack.docker_storage.storage_audit:
        policy: enterprise
      register: docker_storage_audit_result
  always:
    - name: Write the audit report
      cowstack.docker_storage.audit_report:
        dest: "{{ playbook_dir }}/audit-report"
        hosts: "{{ ansible_play_hosts_all }}"
      run_once: true

- name: Write the report from summaries made with the audit_summary filter
  cowstack.docker_storage.audit_report:
    dest: "{{ playbook_dir }}/audit-report"
    summaries: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'docker_storage_audit'))) }}"
  run_once: true
"""

RETURN = r"""
files:
  description: The files written.
  returned: success
  type: list
  elements: str
removed:
  description: Host files of an earlier run removed (hosts this run did not audit, or the layout before C(hosts/)).
  returned: success
  type: list
  elements: str
fleet:
  description: The fleet summary, also written to C(fleet.json).
  returned: success
  type: dict
  contains:
    hosts:
      description: Number of hosts audited.
      type: int
    drivers_now:
      description: Number of hosts per driver in use (V(none) for no driver).
      type: dict
      sample: {"overlay2": 12, "zfs": 3}
    recommended:
      description: Number of hosts per driver the policy recommends.
      type: dict
    with_drift:
      description: Hosts whose driver or image store differs from the recommendation.
      type: list
      elements: str
    with_warnings:
      description: Hosts with warnings.
      type: list
      elements: str
    with_errors:
      description: Hosts where the policy cannot be applied as it stands.
      type: list
      elements: str
    not_audited:
      description: Hosts of O(hosts) without an audit result (unreachable, or their facts could not be gathered).
      type: list
      elements: str
    stale_removed:
      description: Hosts whose file an earlier run left and this run removed, since it did not audit them.
      type: list
      elements: str
    run:
      description: The run that wrote the report (C(id) - controller, ansible-playbook pid and its start time).
      type: dict
    written:
      description: When the report was written (UTC).
      type: str
lines:
  description: Each audited host's readable summary lines (host name to list of lines), shown once for the fleet.
  returned: success
  type: dict
"""
