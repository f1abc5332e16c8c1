"""The audit playbook end to end: one facts round trip, changed=0, a JSON report, bad input refused."""

from __future__ import annotations

import json
import os
import pathlib
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
    report = json.loads((tmp_path / "report" / "hosts" / "localhost.json").read_text())
    fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
    assert report["recommended"] and report["backing_fs"] and report["lines"]
    assert fleet["hosts"] == 1 and fleet["summaries"]["localhost"] == report and fleet["not_audited"] == []
    assert "### localhost" in (tmp_path / "report" / "fleet.md").read_text()
    assert 'data-host="localhost"' in (tmp_path / "report" / "fleet.html").read_text()
    assert "free under data-root" in (tmp_path / "report" / "fleet.md").read_text()
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
            report = json.loads((tmp_path / "report" / "hosts" / "localhost.json").read_text())
            assert report["current_driver"] == daemon.driver == "btrfs"
            assert report["recommended"] == "btrfs"
            # the driver runs as the policy asks; the role would still write daemon.json (there is none), and says so
            assert report["drift"] and all(line.startswith("daemon.json: ") for line in report["drift"]), report["drift"]
            assert any('storage-driver: absent now, "btrfs" wanted' in line for line in report["drift"])
            assert "running btrfs (graphdriver store), 0 images" in report["docker"]


def test_a_host_the_policy_cannot_serve_fails_and_is_still_reported(tmp_path):
    proc = audit(tmp_path, "docker_storage_policy=zfs")
    assert proc.returncode != 0
    assert "policy zfs cannot be applied on this host as it stands" in proc.stdout, proc.stdout[-3000:]
    counts = recap(proc.stdout)
    assert counts["failed"] == 1 and counts["changed"] == 0
    fleet = json.loads((tmp_path / "report" / "fleet.json").read_text())
    assert fleet["with_errors"] == ["localhost"] and fleet["not_audited"] == []
    report = json.loads((tmp_path / "report" / "hosts" / "localhost.json").read_text())
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
    report = json.loads((tmp_path / "from-inventory" / "hosts" / "localhost.json").read_text())
    assert report["policy"] == "general"


# -- the fleet report: host names, earlier runs, serial batches ----------------------------------------------

def fleet_run(tmp_path, names, report, playbook="playbooks/audit.yml", *extra, host_vars=None, ok=True):
    """The audit over local-connection aliases of this machine named ``names``, into ``report``."""
    inventory = tmp_path / ("hosts-%s.ini" % "-".join(names))
    python = os.path.join(realhost.VENV_BIN, "python")
    inventory.write_text("[fleetgrp]\n" + "".join(
        "%s ansible_connection=local ansible_python_interpreter=%s %s\n" % (name, python, (host_vars or {}).get(name, ""))
        for name in names))
    argv = [os.path.join(realhost.VENV_BIN, "ansible-playbook"), "-i", str(inventory), str(playbook),
            "-e", "docker_storage_audit_report_dir=%s" % report]
    for item in extra:
        argv += ["-e", item]
    env = dict(realhost.ansible_env(), ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.run(argv, cwd=realhost.ROOT, env=env, capture_output=True, text=True, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout[-3000:] + proc.stderr
    return json.loads((report / "fleet.json").read_text())


def host_file(report, name):
    return json.loads((report / "hosts" / ("%s.json" % name)).read_text())


def test_a_host_named_fleet_keeps_its_own_file(tmp_path):
    report = tmp_path / "report"
    fleet = fleet_run(tmp_path, ["fleet", "web1"], report)
    assert sorted(fleet["summaries"]) == ["fleet", "web1"] and fleet["hosts"] == 2
    assert host_file(report, "fleet")["host"] == "fleet" and host_file(report, "web1")["host"] == "web1"


def test_a_host_of_an_earlier_run_only_is_not_reported_as_current(tmp_path):
    report = tmp_path / "report"
    fleet_run(tmp_path, ["web1", "web2"], report)
    assert (report / "hosts" / "web2.json").exists()
    fleet = fleet_run(tmp_path, ["web1"], report)
    assert sorted(fleet["summaries"]) == ["web1"] and fleet["hosts"] == 1
    assert not (report / "hosts" / "web2.json").exists()  # removed, and named as such
    assert fleet["stale_removed"] == ["web2"] and fleet["not_audited"] == []
    assert "web2" not in (report / "fleet.md").read_text().split("## Stale")[0]


def serial_playbook(tmp_path, hosts="ansible_play_hosts_all"):
    playbook = tmp_path / "audit-serial.yml"
    text = (pathlib.Path(realhost.ROOT) / "playbooks" / "audit.yml").read_text()
    text = text.replace("  gather_facts: false\n", "  gather_facts: false\n  serial: 1\n", 1)
    text = text.replace('hosts: "{{ ansible_play_hosts_all }}"', 'hosts: "{{ %s }}"' % hosts, 1)
    assert "serial: 1" in text and hosts in text
    playbook.write_text(text)
    return playbook


@pytest.mark.parametrize("hosts", ["ansible_play_hosts_all", "ansible_play_batch"])
def test_serial_batches_add_up_to_the_whole_fleet(tmp_path, hosts):
    """Under serial the report is written after every batch; the last one holds every batch's hosts."""
    playbook = serial_playbook(tmp_path, hosts)
    report = tmp_path / "report"
    names = ["db1", "fleet", "web1"]
    fleet = fleet_run(tmp_path, names, report, playbook)
    assert sorted(fleet["summaries"]) == names and fleet["hosts"] == 3 and fleet["not_audited"] == []
    assert sorted(p.name for p in (report / "hosts").iterdir()) == ["%s.json" % n for n in names]


@pytest.mark.parametrize("fail_on_errors", [True, False])
def test_serial_with_a_host_the_policy_cannot_serve(tmp_path, fail_on_errors):
    """Ansible stops a play when every host of a batch failed: with serial 1, the first host the policy cannot
    serve ends the audit, and the rest are reported not_audited. docker_storage_audit_fail_on_errors=false reports
    its errors without failing it, so every batch runs."""
    report = tmp_path / "report"
    fleet = fleet_run(tmp_path, ["db1", "web1", "web2"], report, serial_playbook(tmp_path),
                      "docker_storage_audit_fail_on_errors=%s" % fail_on_errors,
                      host_vars={"db1": "docker_storage_policy=zfs"}, ok=not fail_on_errors)
    assert fleet["with_errors"] == ["db1"]
    if fail_on_errors:
        assert sorted(fleet["summaries"]) == ["db1"] and fleet["not_audited"] == ["web1", "web2"]
    else:
        assert sorted(fleet["summaries"]) == ["db1", "web1", "web2"] and fleet["not_audited"] == []
