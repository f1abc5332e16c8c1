"""The audit playbook end to end: one facts round trip, changed=0, a JSON report, bad input refused."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

import realhost


def audit(tmp_path, *extra, check=False):
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), "playbooks/audit.yml",
            "-e", "docker_storage_audit_report_dir=%s" % (tmp_path / "report")]
    for item in extra:
        argv += ["-e", item]
    if check:
        argv += ["--check", "--diff"]
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    return subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)


def recap(output):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert match, output[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


@pytest.mark.parametrize("check", [False, True])
def test_audit_changes_nothing_and_writes_the_report(tmp_path, check):
    proc = audit(tmp_path, check=check)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    counts = recap(proc.stdout)
    assert counts["changed"] == 0 and counts["failed"] == 0
    report = json.loads((tmp_path / "report" / "localhost.json").read_text())
    fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
    assert report["recommended"] and report["backing_fs"] and report["lines"]
    assert fleet["hosts"] == 1 and fleet["summaries"]["localhost"] == report and fleet["not_audited"] == []
    assert "dockerd:     would pick" in proc.stdout
    # one task per host (facts and summary), then the report once: the recap counts both for the one host
    assert counts["ok"] == 2


def test_audit_sees_a_running_daemon_through_its_socket(tmp_path, loopfs):
    with loopfs("btrfs") as mnt:
        data_root = os.path.join(mnt, "docker")
        # the driver named: dockerd's own pick on btrfs is btrfs on Docker 20.10 and overlay2 from 23.0 (Debian 13's 26.1)
        with realhost.dockerd(data_root, driver="btrfs") as daemon:
            assert daemon.started, daemon.error_line()
            host = "unix://" + daemon.socket
            proc = audit(tmp_path, "docker_storage_docker_host=%s" % host, "docker_storage_data_root=%s" % data_root,
                         "docker_storage_policy=large_images")
            assert proc.returncode == 0, proc.stdout[-3000:]
            report = json.loads((tmp_path / "report" / "localhost.json").read_text())
            assert report["current_driver"] == daemon.driver == "btrfs"
            assert report["recommended"] == "btrfs" and report["drift"] == []
            assert "running btrfs (graphdriver store), 0 images" in report["docker"]


def test_a_host_the_policy_cannot_serve_fails_and_is_still_reported(tmp_path):
    proc = audit(tmp_path, "docker_storage_policy=zfs")
    assert proc.returncode != 0
    assert "policy zfs cannot be applied on this host as it stands" in proc.stdout, proc.stdout[-3000:]
    counts = recap(proc.stdout)
    assert counts["failed"] == 1 and counts["changed"] == 0
    fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
    assert fleet["with_errors"] == ["localhost"] and fleet["not_audited"] == []
    report = json.loads((tmp_path / "report" / "localhost.json").read_text())
    assert report["recommended"] == "zfs" and report["errors"]


def test_an_unknown_policy_fails_before_the_host_is_contacted(tmp_path):
    proc = audit(tmp_path, "docker_storage_policy=fastest", "ansible_python_interpreter=/nonexistent/python")
    assert proc.returncode != 0
    assert "unknown policy or driver 'fastest'" in proc.stdout, proc.stdout[-3000:]
    assert "/nonexistent/python" not in proc.stdout  # no module ran
    assert json.loads((tmp_path / "report" / "fleet.json").read_text())["not_audited"] == ["localhost"]


@pytest.mark.parametrize("extra, fragment", [
    ('{"docker_storage_storage_opts": ["overlay2.nosuch=1"]}', "unknown to the"),
    ("docker_storage_policy=zfs", "storage-driver zfs cannot run on this host"),
])
def test_bad_input_fails_with_the_reason(tmp_path, extra, fragment):
    proc = audit(tmp_path, extra)
    assert proc.returncode != 0
    assert fragment in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert recap(proc.stdout)["changed"] == 0


def test_inventory_values_apply(tmp_path):
    """The playbook's defaults sit in its tasks, not in play vars, which would beat the inventory's."""
    host_vars = tmp_path / "host_vars"
    host_vars.mkdir()
    (host_vars / "localhost.yml").write_text("docker_storage_policy: general\ndocker_storage_audit_report_dir: %s\n"
                                             % (tmp_path / "from-inventory"))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml"]
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
    assert recap(proc.stdout)["changed"] == 0, proc.stdout[-3000:]
    report = json.loads((tmp_path / "from-inventory" / "localhost.json").read_text())
    assert report["policy"] == "general"
