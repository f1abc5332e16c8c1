#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bench_report
short_description: Write the Docker storage benchmark's report on the controller - JSON, Markdown and a plot
version_added: 0.1.0
description:
  - Reads each host's registered M(cowstack.docker_storage.storage_bench) result from C(hostvars) and writes
    under O(dest) on the controller - C(hosts/<host>.json) per host, C(bench.md) (a row per figure, a column per
    host with its driver and filesystem, the ratio to the raw filesystem, and a fleet comparison when there are
    two hosts or more), C(fleet.json) (the comparison, the hosts that failed or were not measured) and
    C(bench.png) (one panel per figure, the hosts side by side, each beside its raw filesystem).
  - The plot needs matplotlib on the controller, imported only here; without it a warning says
    C(pip install matplotlib) and the JSON and Markdown are still written.
  - Host file names are made safe (a name that had to be changed gets a hash of the real name), and live in
    C(hosts/), so no host name can overwrite the report's own files.
  - Host files left by an earlier run of ansible-playbook are removed, so they are never mixed into this run's
    report; with C(serial), every batch rewrites the report from all the hosts measured so far in this run, and
    the hosts still to come are listed as not measured.
  - Runs on the controller only; files are written atomically (temporary file, then rename), mode 0644.
requirements:
  - None on the managed nodes. matplotlib on the controller for the plot.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
attributes:
  check_mode:
    support: full
    details:
      - The report is written in check mode too (it is the benchmark's output, not managed state); the
        docker_storage_bench role skips it in check mode, where nothing is measured.
  diff_mode:
    support: none
  idempotent:
    support: N/A
    details: The report of a new benchmark run replaces the previous one; no managed host changes.
  platform:
    platforms: posix
options:
  dest:
    description: Directory on the controller for the report; created if missing.
    type: path
    required: true
  hosts:
    description:
      - Host names whose registered M(cowstack.docker_storage.storage_bench) result (O(result_var)) is reported;
        a host without one is listed as not measured.
    type: list
    elements: str
    required: true
  result_var:
    description: Name of the variable the M(cowstack.docker_storage.storage_bench) result was registered as.
    type: str
    default: docker_storage_bench_result
  plot:
    description: Draw C(bench.png).
    type: bool
    default: true
seealso:
  - module: cowstack.docker_storage.storage_bench
"""

EXAMPLES = r"""
- name: Benchmark every host, then write the report once, failed hosts included
  block:
    - name: Benchmark the storage driver
      cowstack.docker_storage.storage_bench:
        runs: 5
      register: docker_storage_bench_result
  always:
    - name: Write the report
      cowstack.docker_storage.bench_report:
        dest: "{{ playbook_dir }}/bench-report"
        hosts: "{{ ansible_play_hosts_all }}"
      run_once: true
"""

RETURN = r"""
files:
  description: Paths of the per-host JSON, C(fleet.json), the Markdown table and (when drawn) the PNG plot.
  type: list
  elements: str
  returned: success
fleet:
  description:
    - What C(fleet.json) holds - C(measured), C(failed) (host to error), C(not_measured), C(stale_removed) and
      C(comparison) (per figure, each host's median, the smallest and each relative to it).
  returned: success
  type: dict
stale_removed:
  description: Host files of an earlier run that were removed.
  returned: success
  type: list
  elements: str
lines:
  description: The Markdown report's lines.
  returned: success
  type: list
  elements: str
"""
