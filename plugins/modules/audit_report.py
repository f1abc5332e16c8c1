#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: audit_report
short_description: Write the Docker storage audit as JSON on the controller
version_added: 0.1.0
description:
  - Writes one JSON file per host and a C(fleet.json) summary (counts per driver, hosts with drift, warnings or
    errors) under O(dest) on the controller.
  - Runs on the controller only; the managed hosts are not contacted, so the task reports no change.
  - Files are written atomically (temporary file, then rename), mode 0644.
author:
  - cowstack maintainers (@cowstack)
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
    description: Mapping of host name to the summary of P(cowstack.docker_storage.audit_summary#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the audit report once for all hosts
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
fleet:
  description: The fleet summary also written to C(fleet.json).
  returned: success
  type: dict
"""
