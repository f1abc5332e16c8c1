"""The docker_storage_snapshot role on this host, on a btrfs subvolume (loop device): cron by default, the
systemd timer variant (enabled offline, no systemd runs here), switching between them, removal keeping the
snapshots, and bad input refused before anything is installed. Everything it writes outside the
scratch directory (a file in /etc/cron.d, two units in /etc/systemd/system) has a unique name and is
removed afterwards."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import stat
import subprocess

import pytest

import realhost
import snapshot_helpers as H

pytestmark = pytest.mark.root

ROLE = "cowstack.docker_storage.docker_storage_snapshot"
UNIT_DIR = "/etc/systemd/system"


@pytest.fixture
def site(loopfs, tmp_path):
    name = "cowstack-test-%d" % os.getpid()
    with loopfs("btrfs") as mnt:
        data = H.subvolume(os.path.join(mnt, "data"))
        H.snapshot(data, os.path.join(data, ".snapshots", "before-upgrade"))
        base = str(tmp_path)
        variables = {
            "docker_storage_snapshot_targets": [{"target": data}],
            "docker_storage_snapshot_policy": {"hourly": 2, "daily": 3},
            "docker_storage_snapshot_schedule": "17 */2 * * *",
            "docker_storage_snapshot_lib_dir": base + "/lib/cowstack",
            "docker_storage_snapshot_bin": base + "/sbin/cowstack-snapshot",
            "docker_storage_snapshot_config": base + "/etc/cowstack/snapshot.json",
            "docker_storage_snapshot_lock_file": base + "/lock",
            "docker_storage_snapshot_cron_file": name,
            "docker_storage_snapshot_unit": name,
        }
        os.makedirs(base + "/sbin")
        paths = {"cron": "/etc/cron.d/" + name, "metrics_cron": "/etc/cron.d/%s-metrics" % name, "service": "%s/%s.service" % (UNIT_DIR, name),
                 "timer": "%s/%s.timer" % (UNIT_DIR, name),
                 "wants": "%s/timers.target.wants/%s.timer" % (UNIT_DIR, name),
                 "lib": variables["docker_storage_snapshot_lib_dir"], "bin": variables["docker_storage_snapshot_bin"],
                 "config": variables["docker_storage_snapshot_config"]}
        try:
            yield {"data": data, "snaps": os.path.join(data, ".snapshots"), "vars": variables, "paths": paths}
        finally:
            for key in ("cron", "metrics_cron", "service", "timer", "wants"):
                if os.path.lexists(paths[key]):
                    os.unlink(paths[key])


def converge(site, check=False, **overrides):
    variables = dict(site["vars"], **overrides)
    play = {"hosts": "localhost", "gather_facts": False, "vars": variables, "roles": [{"role": ROLE}]}
    rc, tasks, stats, out = H.run_playbook(play, check=check)
    assert rc == 0 and not H.failures(tasks), (H.failures(tasks), out[-3000:])
    return stats


def test_cron_install_is_idempotent_and_the_tool_runs_by_hand(site):
    paths = site["paths"]
    stats = converge(site, check=True)                       # a fresh host in check mode: nothing written
    assert stats["changed"] > 0 and not os.path.exists(paths["cron"]) and not os.path.exists(paths["lib"])
    assert converge(site)["changed"] > 0
    with open(paths["cron"]) as handle:
        cron = handle.read()
    assert "17 */2 * * * root %s --config %s\n" % (paths["bin"], paths["config"]) in cron
    # the retention code beside the tool is the collection's own file
    assert filecmp.cmp(os.path.join(paths["lib"], "_retention.py"), H.RETENTION, shallow=False)
    for name, path in H.LIBRARY.items():
        assert filecmp.cmp(os.path.join(paths["lib"], name), path, shallow=False), name
    assert filecmp.cmp(os.path.join(paths["lib"], "cowstack-snapshot.py"), H.TOOL, shallow=False)
    assert stat.S_IMODE(os.stat(paths["bin"]).st_mode) == 0o755
    mode = os.stat(paths["config"]).st_mode
    assert stat.S_IMODE(mode) == 0o600
    with open(paths["config"]) as handle:
        config = json.load(handle)
    assert config["policy"]["daily"] == 3 and config["targets"] == [{"target": site["data"]}]
    assert converge(site)["changed"] == 0
    assert converge(site, check=True)["changed"] == 0
    # what cron would run
    proc = subprocess.run([paths["bin"], "--config", paths["config"]], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, check=False)
    assert proc.returncode == 0, proc.stderr
    left = H.subvolumes_in(site["snaps"])
    assert len(left) == 2 and "before-upgrade" in left
    # no __pycache__ left
    assert sorted(os.listdir(paths["lib"])) == sorted(["_retention.py", "cowstack-snapshot.py"] + list(H.LIBRARY))
    check = subprocess.run([paths["bin"], "--config", paths["config"], "--check"], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0 and check.stdout.startswith("SNAPSHOTS OK")


def test_metrics_file_and_its_refresh(site, tmp_path):
    """The metrics file every run writes, and a cron refresh of it; the refresh removed again; a refresh without
    a file refused before anything is written."""
    paths, prom = site["paths"], str(tmp_path / "textfile" / "cowstack-snapshot.prom")
    wanted = {"docker_storage_snapshot_metrics_file": prom, "docker_storage_snapshot_metrics_refresh": "*/5"}
    assert converge(site, check=True, **wanted)["changed"] > 0 and not os.path.exists(paths["metrics_cron"])
    assert converge(site, **wanted)["changed"] > 0
    with open(paths["metrics_cron"]) as handle:
        assert "*/5 * * * * root %s --config %s --metrics\n" % (paths["bin"], paths["config"]) in handle.read()
    with open(paths["config"]) as handle:
        assert json.load(handle)["metrics_file"] == prom
    assert converge(site, **wanted)["changed"] == 0
    proc = subprocess.run([paths["bin"], "--config", paths["config"]], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, check=False)
    assert proc.returncode == 0, proc.stderr
    with open(prom) as handle:
        text = handle.read()
    assert 'cowstack_snapshot_count{target="%s"} 1' % site["data"] in text and "cowstack_snapshot_last_run_success 1" in text
    assert converge(site, docker_storage_snapshot_metrics_file=prom)["changed"] > 0     # the refresh goes
    assert not os.path.exists(paths["metrics_cron"]) or "--metrics" not in open(paths["metrics_cron"]).read()
    rc, tasks, _stats, out = H.run_playbook({"hosts": "localhost", "gather_facts": False, "roles": [{"role": ROLE}],
                                             "vars": dict(site["vars"], docker_storage_snapshot_metrics_refresh="*/5")})
    assert rc != 0 and "docker_storage_snapshot_metrics_file is empty" in out, out[-2000:]


def test_switching_to_the_systemd_timer_and_back(site):
    paths = site["paths"]
    converge(site)
    assert os.path.exists(paths["cron"])
    assert converge(site, docker_storage_snapshot_scheduler="systemd")["changed"] > 0
    assert not os.path.exists(paths["cron"])
    with open(paths["timer"]) as handle:
        timer = handle.read()
    assert "OnCalendar=*-*-* 00,02,04,06,08,10,12,14,16,18,20,22:17:00\n" in timer
    assert "Persistent=true\n" in timer
    with open(paths["service"]) as handle:
        assert "ExecStart=%s --config %s\n" % (paths["bin"], paths["config"]) in handle.read()
    assert os.path.islink(paths["wants"])                    # enabled for the next boot (systemd is not running)
    if shutil.which("systemd-analyze"):
        verify = realhost.run(["systemd-analyze", "verify", paths["timer"], paths["service"]], check=False)
        assert verify.returncode == 0, verify.stderr
        calendar = realhost.run(["systemd-analyze", "calendar", timer.split("OnCalendar=")[1].splitlines()[0]],
                                check=False)
        assert calendar.returncode == 0, calendar.stderr
    assert converge(site, docker_storage_snapshot_scheduler="systemd")["changed"] == 0
    # an explicit OnCalendar= wins
    converge(site, docker_storage_snapshot_scheduler="systemd", docker_storage_snapshot_on_calendar="hourly")
    with open(paths["timer"]) as handle:
        assert "OnCalendar=hourly\n" in handle.read()
    assert converge(site)["changed"] > 0
    assert os.path.exists(paths["cron"])
    for key in ("service", "timer", "wants"):
        assert not os.path.lexists(paths[key]), key


def test_absent_removes_jobs_config_and_tool_and_keeps_snapshots(site):
    paths = site["paths"]
    converge(site)
    subprocess.run([paths["bin"], "--config", paths["config"]], check=True)
    snaps = H.subvolumes_in(site["snaps"])
    assert len(snaps) == 2
    assert converge(site, docker_storage_snapshot_state="absent")["changed"] > 0
    for key in ("cron", "service", "timer", "lib", "bin", "config"):
        assert not os.path.lexists(paths[key]), key
    assert not os.path.exists(os.path.dirname(paths["config"]))
    assert H.subvolumes_in(site["snaps"]) == snaps
    assert converge(site, docker_storage_snapshot_state="absent")["changed"] == 0


BAD = {
    "negative count": ({"docker_storage_snapshot_policy": {"daily": -1}}, "must not be negative"),
    "not an integer": ({"docker_storage_snapshot_policy": {"daily": "seven"}}, "daily"),
    "unknown period": ({"docker_storage_snapshot_policy": {"daily": 1, "fortnightly": 2}}, "fortnightly"),
    "cron rejects": ({"docker_storage_snapshot_schedule": "61 * * * *"}, "cron minute"),
    "cron six fields": ({"docker_storage_snapshot_schedule": "0 * * * * *"}, "5 fields"),
    "systemd cannot": ({"docker_storage_snapshot_schedule": "0 0 1 * 1", "docker_storage_snapshot_scheduler": "systemd"},
                       "docker_storage_snapshot_on_calendar"),
    "bad OnCalendar": ({"docker_storage_snapshot_on_calendar": "every tuesday", "docker_storage_snapshot_scheduler":
                        "systemd"}, "systemd-analyze"),
    "missing target": ({"docker_storage_snapshot_targets": [{"target": "/nonexistent/subvolume"}]}, "does not exist"),
    "not a subvolume": ({"docker_storage_snapshot_targets": [{"target": "/tmp"}]}, "not on btrfs"),
    "no zfs dataset": ({"docker_storage_snapshot_targets": [{"target": "tank/nothere"}]}, "tank/nothere"),
    "empty prefix": ({"docker_storage_snapshot_prefix": ""}, "prefix"),
    "zfs-auto-snap prefix": ({"docker_storage_snapshot_prefix": "zfs-auto-snap"}, "another tool"),
    "no targets": ({"docker_storage_snapshot_targets": []}, "empty"),
    "unknown option": ({"docker_storage_snapshot_targets": [{"target": "/srv", "keep": 3}]}, "keep"),
    "bad scheduler": ({"docker_storage_snapshot_scheduler": "anacron"}, "anacron"),
}


def test_bad_input_is_refused_before_anything_is_installed(site):
    tasks = []
    for case in sorted(BAD):
        variables = dict(site["vars"], **BAD[case][0])
        record = "{{ refused | default({}) | combine({%r: ansible_failed_result.msg | string}) }}" % case
        tasks.append({
            "name": case,
            "block": [{"name": "role " + case, "ansible.builtin.include_role": {"name": ROLE}, "vars": variables}],
            "rescue": [{"name": "record " + case, "ansible.builtin.set_fact": {"refused": record}}],
        })
    tasks.append({"name": "report", "ansible.builtin.debug": {"var": "refused"}})
    rc, results, dummy, out = H.run_playbook(tasks)
    assert rc == 0, out[-3000:]
    refused = results["report"][0]["refused"]
    for case, (dummy, message) in BAD.items():
        assert case in refused, case
        assert message in refused[case], (case, refused[case])
    paths = site["paths"]
    for key in ("cron", "service", "timer", "lib", "config"):
        assert not os.path.lexists(paths[key]), key
