#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Over 400 lines: DOCUMENTATION and RETURN are 215 of them; the rest is the Installer, which plans every step
# before it applies any.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: snapshot_install
short_description: Install, update or remove the cowstack-snapshot tool, its configuration and its systemd timer
version_added: 0.1.0
description:
  - The install half of the P(cowstack.docker_storage.docker_storage_snapshot#role) role in one host round trip
    (the role then adds or removes the cron entry with M(ansible.builtin.cron)). It replaces ten tasks, each a
    round trip of its own, which made the role's idempotent rerun slow on remote hosts.
  - With O(state=present) it first checks O(config) and each target on this host exactly as
    M(cowstack.docker_storage.snapshot) with O(cowstack.docker_storage.snapshot#module:operation=validate) does
    (policy, prefix, schedule; each target exists and is a ZFS dataset or btrfs subvolume, not one of Docker's
    layers), and for O(scheduler=systemd) that the schedule can be a timer. Nothing is written when any check fails.
  - It then writes, each only when its content, mode or owner differ, atomically and root-owned, the
    collection's C(_retention.py), the other module_utils files the tool imports (C(_schedule.py),
    C(_snapshot_config.py), C(_snapshot_fs.py), C(_mountinfo.py), which this module carries with it) and the tool
    in O(lib_dir), the wrapper O(bin), and the JSON configuration
    O(config_path) (mode 0600; a changed configuration is checked by the installed tool's C(--check-config)
    before it replaces the old one). With O(zfs_opt_out) it sets C(com.sun:auto-snapshot=false) on the datasets
    mounted at Docker's data-roots, so other snapshot tools skip them.
  - O(scheduler=systemd) writes the service and timer (C(Persistent=true)) to O(systemd_dir), enables the timer
    (the C(timers.target.wants) link C(systemctl enable) makes, so it also works where systemd is not running,
    as in an image build), and on a running systemd reloads it and restarts the timer when a unit changed, or
    starts it when it is not active. O(scheduler=cron) removes that timer and its units if they are there.
  - O(state=absent) stops and removes the timer and its units, the configuration, the wrapper and the tool (with the
    files it imports), and
    the tool's and configuration's directories when nothing else is left in them. Snapshots are kept.
requirements:
  - Python 3.7 or later for the installed tool (O(python)); C(zfs) (zfsutils-linux) for ZFS targets, C(btrfs)
    (btrfs-progs) for btrfs targets.
  - systemd (C(systemctl), C(systemd-analyze)) with O(scheduler=systemd).
  - Root.
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.STATE_MODULE
options:
  state:
    description: V(present) installs or updates; V(absent) removes (snapshots are kept).
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The C(cowstack-snapshot) configuration (keys C(version), C(prefix), C(policy), C(frequent_minutes),
        C(schedule), C(targets), C(docker), C(monitor), C(lock_file)), written as JSON. Required with O(state=present).
    type: dict
  tool_source:
    description: Source of the C(cowstack-snapshot) tool (the role's C(files/cowstack-snapshot.py)). Required with O(state=present).
    type: str
  retention_source:
    description:
      - Source of the collection's C(plugins/module_utils/_retention.py), installed beside the tool, so the tool
        and the modules share one copy of the rules. Required with O(state=present).
    type: str
  config_path:
    description: Where the configuration is written.
    type: path
    default: /etc/cowstack-docker-storage/snapshot.json
  lib_dir:
    description: Directory of the tool, its C(_retention.py) and the other files it imports.
    type: path
    default: /usr/local/lib/cowstack-docker-storage
  bin:
    description: The wrapper that runs the tool (its directory is created, root:root 0755, when missing; an existing one is left as it is).
    type: path
    default: /usr/local/sbin/cowstack-snapshot
  python:
    description:
      - Interpreter the wrapper runs the tool with (Python 3.7 or later; the tool needs only the standard library).
      - A name without C(/) is looked up on the host's PATH and written to the wrapper as its absolute path.
      - Either must be an executable file on the host, or nothing is written (every scheduled run would fail).
    type: path
    default: /usr/bin/python3
  scheduler:
    description:
      - V(systemd) installs and enables the timer; V(cron) removes the timer if there is one (the cron entry
        itself is M(ansible.builtin.cron)'s job, with the fields in RV(schedule)).
    type: str
    choices: [cron, systemd]
    default: cron
  on_calendar:
    description:
      - systemd C(OnCalendar=) to use instead of the schedule translated from cron; checked with
        C(systemd-analyze calendar). Needed when the cron schedule restricts both day of month and day of week.
    type: str
    default: ""
  unit:
    description: Name of the service and timer units, without suffix.
    type: str
    default: cowstack-docker-storage-snapshot
  systemd_dir:
    description:
      - Directory of the units. The timer is enabled by a link in its C(timers.target.wants), which is where
        C(systemctl enable) puts it for the default C(/etc/systemd/system).
    type: path
    default: /etc/systemd/system
  zfs_opt_out:
    description: Set C(com.sun:auto-snapshot=false) on the datasets mounted at Docker's data-roots.
    type: bool
    default: true
notes:
  - Needs root. The diff shows the configuration, wrapper and units in full, and the tool and the files it imports
    by size and SHA-256.
seealso:
  - module: cowstack.docker_storage.snapshot
  - module: ansible.builtin.cron
"""

EXAMPLES = r"""
- name: Install the snapshot tool and a systemd timer for a btrfs subvolume
  cowstack.docker_storage.snapshot_install:
    config:
      version: 1
      prefix: cowstack
      policy: {hourly: 24, daily: 14}
      schedule: "0 * * * *"
      targets:
        - target: /srv/data
    tool_source: "{{ lookup('ansible.builtin.file', 'cowstack-snapshot.py', rstrip=false) }}"
    retention_source: "{{ lookup('ansible.builtin.file', retention_py, rstrip=false) }}"
    scheduler: systemd
  vars:
    retention_py: "{{ playbook_dir }}/collections/ansible_collections/cowstack/docker_storage/plugins/module_utils/_retention.py"

- name: Remove it (snapshots are kept)
  cowstack.docker_storage.snapshot_install:
    state: absent
"""

RETURN = r"""
plan:
  description: The steps planned, in order (outside check mode, all of them were taken).
  returned: always
  type: list
  elements: str
  sample: ["write /etc/cowstack-docker-storage/snapshot.json", "restart cowstack-docker-storage-snapshot.timer"]
changes:
  description: What was changed (in check mode, what would be), in order; the same as RV(plan) after a run that did not fail.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/cowstack-docker-storage/snapshot.json", "restart cowstack-docker-storage-snapshot.timer"]
schedule:
  description:
    - The schedule checked as cron reads it, in the fields M(ansible.builtin.cron) takes (C(minute), C(hour),
      C(day), C(month), C(weekday), C(special_time)) and C(on_calendar), as
      RV(cowstack.docker_storage.snapshot#module:schedule) describes them (one check makes both).
  returned: when O(state=present)
  type: dict
on_calendar:
  description: The C(OnCalendar=) the timer uses (O(on_calendar), or the translated schedule).
  returned: when O(state=present) and O(scheduler=systemd)
  type: str
  sample: "*-*-* *:00:00"
config:
  description:
    - The configuration normalised (durations in seconds, policies complete), as
      RV(cowstack.docker_storage.snapshot#module:config) describes it (one check makes both).
  returned: when O(state=present)
  type: dict
pending:
  description: In check mode, targets that do not exist yet (an earlier task of the run may create them), with the reason.
  returned: when O(state=present)
  type: list
  elements: str
docker_zfs_datasets:
  description: The datasets mounted exactly at Docker's data-roots on this host.
  returned: when O(state=present)
  type: list
  elements: str
"""

import hashlib
import json
import os
import re
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils import (
    _mountinfo, _schedule, _snapshot_config, _snapshot_fs)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._atomic import write_atomic
from ansible_collections.cowstack.docker_storage.plugins.module_utils._command import run_c
from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, StepFailed, command, settle
from ansible_collections.cowstack.docker_storage.plugins.module_utils._snapshot_host import Host, checked_config
from ansible_collections.cowstack.docker_storage.plugins.module_utils._systemd_unit import parse_show

UNIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.@-]*$")
TOOL = "cowstack-snapshot.py"
RETENTION = "_retention.py"
# The other module_utils files the tool imports (as plain modules) beside _retention.py (which retention_source
# brings): the copies this module was packaged with, the same collection's.
LIBRARY = (_schedule, _snapshot_config, _snapshot_fs, _mountinfo)
LIBRARY_NAMES = tuple(module.__name__.rsplit(".", 1)[-1] + ".py" for module in LIBRARY)
MANAGED = "# Managed by Ansible (cowstack.docker_storage.snapshot_install): local changes are overwritten.\n"
AUTO_SNAPSHOT = "com.sun:auto-snapshot"


def wrapper_text(python, tool):
    return ("#!/bin/sh\n"
            "# cowstack.docker_storage.docker_storage_snapshot: runs the snapshot tool (managed by Ansible)\n"
            'exec %s %s "$@"\n' % (shlex.quote(python), shlex.quote(tool)))


def config_text(config):
    # the layout of Ansible's to_nice_json(indent=2), which wrote this file before this module did
    return json.dumps(config, indent=2, sort_keys=True, separators=(",", ": ")) + "\n"


def service_text(command, config_path):
    return (MANAGED + "[Unit]\n"
            "Description=cowstack.docker_storage snapshots with retention\n"
            "After=local-fs.target zfs-mount.service\n"
            "ConditionPathExists=%s\n\n"
            "[Service]\n"
            "Type=oneshot\n"
            "ExecStart=%s\n"
            "Nice=10\n"
            "IOSchedulingClass=idle\n" % (config_path, command))


def timer_text(schedule, on_calendar, service):
    return (MANAGED + "[Unit]\n"
            "Description=cowstack.docker_storage snapshots with retention (%s)\n\n"
            "[Timer]\n"
            "OnCalendar=%s\n"
            "Persistent=true\n"
            "Unit=%s\n\n"
            "[Install]\n"
            "WantedBy=timers.target\n" % (schedule, on_calendar, service))


def library_files():
    """File name and source of each of LIBRARY, read through its loader (the module may run from a zip)."""
    return [(name, module.__loader__.get_source(module.__name__)) for name, module in zip(LIBRARY_NAMES, LIBRARY)]


def summary(text):
    if text is None:
        return ""
    data = text.encode("utf-8")
    return "%d bytes, sha256 %s\n" % (len(data), hashlib.sha256(data).hexdigest())


class Installer(object):
    """Plans every change first (``self.plan``), then applies them outside check mode."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.plan = Plan()
        self.systemd_running = os.path.isdir("/run/systemd/system")
        self.planned_dirs = set()

    @property
    def steps(self):
        return self.plan.steps

    @property
    def done(self):
        return self.plan.done

    @property
    def diffs(self):
        return self.plan.files

    # --- planning --------------------------------------------------------------------------------------------
    def step(self, describe, action, diff=None):
        self.plan.add(describe, action, diff)

    def directory(self, path):
        if path in self.planned_dirs:
            return
        self.planned_dirs.add(path)
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
            self.module.fail_json(msg="%s exists and is not a directory; move it away first" % path)
        if not os.path.isdir(path):
            self.step("create directory %s" % path, lambda: self.make_directory(path))
            return
        st = os.stat(path)
        if st.st_uid != 0 or st.st_gid != 0 or st.st_mode & 0o7777 != 0o755:
            self.step("set owner root:root, mode 0755 on %s" % path, lambda: self.fix_attrs(path, 0o755))

    def file(self, path, content, mode, show=True, validate=None):
        """Plan writing ``content`` to ``path``; returns True when something would change."""
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            self.module.fail_json(msg="%s exists and is not a regular file; move it away first" % path)
        old = None
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                old = handle.read().decode("utf-8", "replace")
        if old != content:
            self.step("write %s" % path, lambda: self.write(path, content, mode, validate),
                      (path, old if show else summary(old), content if show else summary(content)))
            return True
        st = os.stat(path)
        if st.st_uid != 0 or st.st_gid != 0 or st.st_mode & 0o7777 != mode:
            self.step("set owner root:root, mode %04o on %s" % (mode, path), lambda: self.fix_attrs(path, mode))
            return True
        return False

    def absent(self, path, what="remove"):
        if os.path.lexists(path):
            self.step("%s %s" % (what, path), lambda: os.unlink(path),
                      None if os.path.islink(path) else (path, "present\n", "absent\n"))
            return True
        return False

    def timer_names(self):
        unit = self.p["unit"]
        if not UNIT_NAME.match(unit) or unit.endswith((".service", ".timer")):
            self.module.fail_json(msg="unit %r is not a unit name: give it without .service/.timer, with letters, "
                                      "digits and :_.@- only" % unit)
        base = os.path.join(self.p["systemd_dir"], unit)
        return {"service": base + ".service", "timer": base + ".timer",
                "wants": os.path.join(self.p["systemd_dir"], "timers.target.wants", unit + ".timer"),
                "timer_name": unit + ".timer", "service_name": unit + ".service"}

    def plan_timer(self, on_calendar):
        names = self.timer_names()
        command = "%s --config %s" % (self.p["bin"], self.p["config_path"])
        changed = self.file(names["service"], service_text(command, self.p["config_path"]), 0o644)
        changed = self.file(names["timer"], timer_text(self.p["config"].get("schedule"), on_calendar,
                                                       names["service_name"]), 0o644) or changed
        link = names["wants"]
        if os.readlink(link) != names["timer"] if os.path.islink(link) else True:
            if os.path.lexists(link) and not os.path.islink(link):
                self.module.fail_json(msg="%s exists and is not a link; remove it first" % link)
            self.step("enable %s" % names["timer_name"], lambda: self.link(names["timer"], link))
            changed = True
        if not self.systemd_running:
            return
        states = [{}] if changed else self.unit_states(names["timer_name"], names["service_name"])
        state = states[0]
        if changed or any(s.get("NeedDaemonReload") == "yes" for s in states):
            # also when an earlier run wrote the units (either of them) but failed before systemd read them
            self.step("reload systemd and restart %s" % names["timer_name"],
                      lambda: self.systemctl(["daemon-reload"], ["restart", names["timer_name"]]))
        elif state.get("ActiveState") != "active":
            self.step("start %s" % names["timer_name"], lambda: self.systemctl(["start", names["timer_name"]]))

    def plan_no_timer(self):
        names = self.timer_names()
        present = [k for k in ("wants", "timer", "service") if os.path.lexists(names[k])]
        if self.systemd_running and os.path.lexists(names["timer"]) and \
                self.unit_states(names["timer_name"])[0].get("ActiveState") in ("active", "activating"):
            self.step("stop %s" % names["timer_name"], lambda: self.systemctl(["stop", names["timer_name"]]))
        self.absent(names["wants"], "disable (remove link)")
        self.absent(names["timer"])
        self.absent(names["service"])
        if present and self.systemd_running:
            self.step("reload systemd", lambda: self.systemctl(["daemon-reload"]))

    def plan_zfs_opt_out(self, datasets):
        if not datasets:
            return
        # set locally, as community.general.zfs did: an inherited false would follow a later change of the parent
        out = Host(self.module).run(["zfs", "get", "-H", "-o", "name,value,source", AUTO_SNAPSHOT] + list(datasets))
        values, sources = {}, {}
        for line in out.splitlines():
            fields = line.split("\t")
            if len(fields) == 3:
                values[fields[0]], sources[fields[0]] = fields[1], fields[2]
        for dataset in datasets:
            if values.get(dataset, "-").strip() != "false" or sources.get(dataset) != "local":
                self.step("set %s=false on %s" % (AUTO_SNAPSHOT, dataset),
                          lambda ds=dataset: Host(self.module).run(["zfs", "set", AUTO_SNAPSHOT + "=false", ds],
                                                                   step=True),
                          (dataset, "%s: %s (%s)\n" % (AUTO_SNAPSHOT, values.get(dataset, "-").strip(),
                                                       sources.get(dataset, "-")),
                           "%s: false (local)\n" % AUTO_SNAPSHOT))

    def unit_states(self, *units):
        """``ActiveState`` and ``NeedDaemonReload`` of each unit as systemd sees it now (one ``systemctl show``,
        a block per unit, in order)."""
        argv = [self.systemctl_bin(), "show", "--property=ActiveState,NeedDaemonReload"] + list(units)
        dummy, out, dummy = run_c(self.module, argv)
        blocks = [dict(pairs) for pairs in parse_show(out)]
        return blocks + [{}] * (len(units) - len(blocks))

    def check_on_calendar(self, value):
        analyze = self.module.get_bin_path("systemd-analyze")
        if not analyze:
            self.module.fail_json(msg="on_calendar %s cannot be checked: this host has no systemd-analyze"
                                      % json.dumps(value))
        rc, out, err = run_c(self.module, [analyze, "calendar", value])
        if rc != 0:
            self.module.fail_json(msg="on_calendar %s is not a calendar systemd accepts (systemd-analyze calendar: %s)"
                                      % (json.dumps(value), (err or out).strip()))

    # --- applying --------------------------------------------------------------------------------------------
    def make_directory(self, path):
        # exist_ok: a directory planned apart may have been made already as the parent of another (bin and lib_dir)
        os.makedirs(path, 0o755, exist_ok=True)
        self.fix_attrs(path, 0o755)

    def fix_attrs(self, path, mode):
        os.chown(path, 0, 0)
        os.chmod(path, mode)

    def write(self, path, content, mode, validate=None):
        # root-owned with its final mode before the rename (atomic_move would take the old file's mode first)
        write_atomic(path, content, mode, owner=(0, 0), validate=validate)
        self.module.set_default_selinux_context(path, False)

    def check_with_tool(self, path):
        tool = os.path.join(self.p["lib_dir"], TOOL)
        rc, out, err = run_c(self.module, [self.p["python"], tool, "--check-config", "--config", path])
        if rc != 0:
            raise StepFailed("the installed tool refuses the configuration (rc %d): %s" % (rc, (err or out).strip()),
                             rc=rc)

    def link(self, target, link):
        directory = os.path.dirname(link)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)

    def systemctl_bin(self):
        return self.module.get_bin_path("systemctl", required=True)

    def systemctl(self, *commands):
        for args in commands:
            command(self.module, [self.systemctl_bin()] + args)

    def apply(self, result=None):
        """The steps, in order; a failure fails the module naming the steps done (``changes``) and the failed one."""
        self.plan.apply(self.module, dict(result or {}, changes=self.plan.done))


def present(module, inst):
    p = module.params
    for name in ("config", "tool_source", "retention_source"):
        if p[name] is None:
            module.fail_json(msg="state=present needs %s" % name)
    host = Host(module)
    config, pending, docker = checked_config(module, host, p["config"])
    schedule = config.get("schedule")
    on_calendar = None
    if p["scheduler"] == "systemd":
        if p["on_calendar"]:
            inst.check_on_calendar(p["on_calendar"])
            on_calendar = p["on_calendar"]
        elif schedule is None:
            module.fail_json(msg="scheduler=systemd needs a schedule in config or on_calendar")
        elif schedule.get("on_calendar") is None:
            module.fail_json(msg="%s restricts both day of month and day of week (cron runs when either matches); "
                                 "systemd cannot express that: set on_calendar (the role's "
                                 "docker_storage_snapshot_on_calendar)" % p["config"].get("schedule"))
        else:
            on_calendar = schedule["on_calendar"]
        inst.timer_names()
    if not os.path.isabs(p["python"]):
        found = module.get_bin_path(p["python"])
        if not found:
            module.fail_json(msg="python %r is not on this host's PATH: give the interpreter's absolute path" % p["python"])
        p["python"] = found
    elif not (os.path.isfile(p["python"]) and os.access(p["python"], os.X_OK)):
        module.fail_json(msg="python %s is not an executable file on this host: every scheduled run would fail; "
                             "give an interpreter this host has (python3 is looked up on PATH)" % p["python"])

    if p["zfs_opt_out"]:
        inst.plan_zfs_opt_out(docker["zfs_dedicated"])
    tool = os.path.join(p["lib_dir"], TOOL)
    inst.directory(p["lib_dir"])
    inst.file(os.path.join(p["lib_dir"], RETENTION), p["retention_source"], 0o644, show=False)
    for name, source in library_files():
        inst.file(os.path.join(p["lib_dir"], name), source, 0o644, show=False)
    inst.file(tool, p["tool_source"], 0o644, show=False)
    if not os.path.lexists(os.path.dirname(p["bin"])):
        inst.directory(os.path.dirname(p["bin"]))  # an existing bin directory (/usr/local/sbin) is not ours to chmod
    inst.file(p["bin"], wrapper_text(p["python"], tool), 0o755)
    inst.directory(os.path.dirname(p["config_path"]))
    inst.file(p["config_path"], config_text(p["config"]), 0o600, validate=inst.check_with_tool)
    if p["scheduler"] == "systemd":
        inst.plan_timer(on_calendar)
    else:
        inst.plan_no_timer()
    result = {"schedule": schedule, "config": config, "pending": pending,
              "docker_zfs_datasets": docker["zfs_dedicated"]}
    if on_calendar is not None:
        result["on_calendar"] = on_calendar
    return result


def absent(module, inst):
    p = module.params
    inst.plan_no_timer()
    gone = set()
    library = [os.path.join(p["lib_dir"], name) for name in (TOOL, RETENTION) + LIBRARY_NAMES]
    for path in [p["config_path"], p["bin"]] + library:
        if os.path.lexists(path) and not os.path.islink(path) and not os.path.isfile(path):
            module.fail_json(msg="%s is not a file; not removing it" % path)
        if inst.absent(path):
            gone.add(path)
    # a directory is removed when nothing but what this run removes is in it
    for directory in sorted(set((p["lib_dir"], os.path.dirname(p["config_path"])))):
        if os.path.isdir(directory) and not os.path.islink(directory):
            rest = [n for n in os.listdir(directory) if os.path.join(directory, n) not in gone]
            if not rest:
                inst.step("remove empty directory %s" % directory, lambda d=directory: os.rmdir(d))
    return {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            config=dict(type="dict"),
            # long, and shown in the diff by size and checksum only: kept out of the host's log
            tool_source=dict(type="str", no_log=True),
            retention_source=dict(type="str", no_log=True),
            config_path=dict(type="path", default="/etc/cowstack-docker-storage/snapshot.json"),
            lib_dir=dict(type="path", default="/usr/local/lib/cowstack-docker-storage"),
            bin=dict(type="path", default="/usr/local/sbin/cowstack-snapshot"),
            python=dict(type="path", default="/usr/bin/python3"),
            scheduler=dict(type="str", default="cron", choices=["cron", "systemd"]),
            on_calendar=dict(type="str", default=""),
            unit=dict(type="str", default="cowstack-docker-storage-snapshot"),
            systemd_dir=dict(type="path", default="/etc/systemd/system"),
            zfs_opt_out=dict(type="bool", default=True),
        ),
        required_if=[("state", "present", ("config", "tool_source", "retention_source"))],
        supports_check_mode=True,
    )
    for name in ("config_path", "lib_dir", "bin", "systemd_dir"):
        path = module.params[name]
        if not os.path.isabs(path) or ".." in path.split("/"):
            module.fail_json(msg="%s must be an absolute path without .., not %r" % (name, path))
        module.params[name] = os.path.normpath(path)
    inst = Installer(module)
    result = present(module, inst) if module.params["state"] == "present" else absent(module, inst)
    # what was changed: in check mode the plan, else the steps done (all of them, or those before a failure)
    result["changes"] = inst.plan.describe() if module.check_mode else inst.plan.done
    module.exit_json(**settle(module, inst.plan, result))


if __name__ == "__main__":
    main()
