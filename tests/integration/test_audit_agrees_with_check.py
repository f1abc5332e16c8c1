"""The audit against the role's variables and `--check --diff` of the role agree on one real host: a private
data-root on btrfs on a loop device, with its fstab line and the snapshot cron job. Drift made by hand (a remount
without noatime, an fstab line without it, another cron schedule) is what both see; after a real run neither sees
anything. The daemon and the drop-in are off here (this host runs no systemd): the unit tests cover those areas."""

from __future__ import annotations

import json
import os
import re
import subprocess

import realhost
import test_role_btrfs_real

site = test_role_btrfs_real.site  # the fixture, for this module's test
vars_for = test_role_btrfs_real.vars_for

# the role's tasks that fix each area (the btrfs task's plan says which of its parts would change)
TASK_AREAS = {"Install the cron job": "snapshots", "Install the snapshot tool, its configuration and (systemd) its timer":
              "snapshots",
              "Docker service waits for the storage under the data-root": "drop-in"}
BTRFS_TASK = "Btrfs filesystem and subvolume mounted at the data-root (or the containerd snapshotter's directory)"


def run_json(argv):
    env = realhost.ansible_env()
    proc = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON (rc %s): %s %s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))


def role_check(tmp_path, extra):
    """The areas `--check --diff` of the role would change."""
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                        "    - role: cowstack.docker_storage.docker_storage\n")
    proc, document = run_json([os.path.join(realhost.VENV_BIN, "ansible-playbook"), str(playbook), "-e",
                               json.dumps(extra), "--check", "--diff"])
    assert document["stats"]["localhost"]["failures"] == 0, proc.stdout[-3000:]
    areas = set()
    for play in document["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost") or {}
            if not result.get("changed"):
                continue
            name = task["task"]["name"].split(" : ", 1)[-1]
            if name == BTRFS_TASK:
                for step in result.get("plan") or result.get("changes") or []:
                    text = step if isinstance(step, str) else json.dumps(step)
                    areas.add("mount" if text.startswith("remount") else "fstab" if text.startswith("fstab") else
                              "storage")
            else:
                assert name in TASK_AREAS, "a task the audit does not know of changed: %s" % name
                areas.add(TASK_AREAS[name])
    return areas


def audit(tmp_path, extra):
    """The areas of the audit's drift (the report's host file), and its lines."""
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), "playbooks/audit.yml", "-e", json.dumps(extra),
            "-e", "docker_storage_audit_report_dir=%s" % (tmp_path / "report")]
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s", proc.stdout), proc.stdout[-2000:]
    report = json.loads((tmp_path / "report" / "hosts" / "localhost.json").read_text())
    return set(i["area"] for i in report["drift_items"]), report


def test_the_audit_and_check_mode_see_the_same_drift(site, tmp_path):
    name = "cowstack-test-%d" % os.getpid()
    base = str(tmp_path / "snap")
    cron = "/etc/cron.d/" + name
    try:
        with realhost.loop_devices(1) as (device,):
            extra = vars_for(site, [device], docker_storage_snapshots=True,
                             docker_storage_snapshot_targets=[{"target": site["data_root"]}],
                             docker_storage_snapshot_lib_dir=base + "/lib", docker_storage_snapshot_bin=base + "/bin",
                             docker_storage_snapshot_config=base + "/etc/snapshot.json",
                             docker_storage_snapshot_lock_file=base + "/run/lock",
                             docker_storage_snapshot_cron_file=name, docker_storage_snapshot_unit=name)
            # a new host: both see the storage to make
            assert "storage" in audit(tmp_path, extra)[0]
            assert "storage" in role_check(tmp_path, extra)
            proc, document = run_json([os.path.join(realhost.VENV_BIN, "ansible-playbook"),
                                       str(tmp_path / "play.yml"), "-e", json.dumps(extra)])
            assert document["stats"]["localhost"]["failures"] == 0, proc.stdout[-3000:]
            assert audit(tmp_path, extra)[0] == set() == role_check(tmp_path, extra)

            # drift by hand
            realhost.run(["mount", "-o", "remount,strictatime", site["data_root"]])  # relatime keeps noatime
            fstab = open(site["fstab"]).read()
            assert "noatime," in fstab
            open(site["fstab"], "w").write(fstab.replace("noatime,", ""))
            job = open(cron).read()
            assert "0 * * * *" in job
            open(cron, "w").write(job.replace("0 * * * *", "7 * * * *"))

            seen, report = audit(tmp_path, extra)
            assert seen == {"mount", "fstab", "snapshots"}, report["drift_items"]
            assert seen == role_check(tmp_path, extra)
            assert any("without noatime" in line for line in report["lines"]), report["lines"]
            assert any("'7 * * * *', '0 * * * *' wanted" in line for line in report["lines"]), report["lines"]

            proc, document = run_json([os.path.join(realhost.VENV_BIN, "ansible-playbook"),
                                       str(tmp_path / "play.yml"), "-e", json.dumps(extra)])
            assert document["stats"]["localhost"]["failures"] == 0, proc.stdout[-3000:]
            assert audit(tmp_path, extra)[0] == set() == role_check(tmp_path, extra)

            # an installed file of the snapshot tool edited by hand: both see it, a run puts it back
            retention = os.path.join(base, "lib", "_retention.py")
            with open(retention, "a") as handle:
                handle.write("# edited by hand\n")
            seen, report = audit(tmp_path, extra)
            assert seen == {"snapshots"} == role_check(tmp_path, extra), report["drift_items"]
            assert any("snapshot tool's files %s differ" % retention in line for line in report["lines"]), report["lines"]
            proc, document = run_json([os.path.join(realhost.VENV_BIN, "ansible-playbook"),
                                       str(tmp_path / "play.yml"), "-e", json.dumps(extra)])
            assert document["stats"]["localhost"]["failures"] == 0, proc.stdout[-3000:]
            assert "# edited by hand" not in open(retention).read()
            assert audit(tmp_path, extra)[0] == set() == role_check(tmp_path, extra)
    finally:
        for path in (cron, cron + "-metrics"):
            if os.path.exists(path):
                os.unlink(path)
