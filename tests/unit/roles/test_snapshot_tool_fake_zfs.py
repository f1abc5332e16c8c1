"""The standalone snapshot tool, run as cron would run it (a separate python3, only the tool and the files
snapshot_install puts beside it in its directory), against a stand-in zfs that keeps its state in a JSON file. This exercises the ZFS
code path on a host without ZFS; the real thing runs in the VM scenarios and bench/prune.py."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R
from ansible_collections.cowstack.docker_storage.plugins.modules import snapshot_install as S

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
TOOL = os.path.join(ROOT, "roles", "docker_storage_snapshot", "files", "cowstack-snapshot.py")
LIBRARY = [os.path.join(ROOT, "plugins", "module_utils", name) for name in (S.RETENTION,) + S.LIBRARY_NAMES]
NOW = 1735689600  # 2025-01-01 00:00:00 UTC
LAYER = "ab" * 32


def stamp(epoch, label="hourly", prefix="cowstack"):
    return R.snapshot_name(prefix, label, epoch)


class Host(object):
    """A tool installed in a directory of its own, a fake zfs first on PATH, a config file."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.lib = tmp_path / "lib"
        self.lib.mkdir()
        shutil.copy(TOOL, self.lib / "cowstack-snapshot.py")
        for path in LIBRARY:
            shutil.copy(path, self.lib / os.path.basename(path))
        bindir = tmp_path / "bin"
        bindir.mkdir()
        wrapper = bindir / "zfs"
        wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, os.path.join(HERE, "fake_zfs.py")))
        wrapper.chmod(0o755)
        self.state = tmp_path / "zfs.json"
        self.env = dict(os.environ, PATH="%s:/usr/bin:/bin" % bindir, FAKE_ZFS_STATE=str(self.state))
        self.env.pop("PYTHONPATH", None)
        self.config = tmp_path / "snapshot.json"
        self.lock = tmp_path / "lock"

    def zfs(self, snapshots, held=(), datasets=None):
        datasets = datasets or {"tank/docker": {"type": "filesystem"}, "tank/home": {"type": "filesystem"},
                                "tank/vol": {"type": "volume"}, "tank/docker/" + LAYER: {"type": "filesystem"}}
        self.state.write_text(json.dumps({"datasets": datasets, "snapshots": snapshots, "held": list(held),
                                          "clock": NOW}))

    def configure(self, **doc):
        doc.setdefault("policy", {"hourly": 3, "daily": 2})
        doc.setdefault("targets", ["tank/docker"])
        doc.setdefault("lock_file", str(self.lock))
        self.config.write_text(json.dumps(doc))

    def run(self, *args):
        # -I: no PYTHONPATH, no site, script directory not on sys.path: the tool must find _retention itself
        argv = ["/usr/bin/python3", "-I", str(self.lib / "cowstack-snapshot.py"), "--config", str(self.config),
                "--now", str(NOW)] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, check=False)

    def snapshots(self, dataset="tank/docker"):
        return [s[0] for s in json.loads(self.state.read_text())["snapshots"].get(dataset, [])]

    def calls(self):
        return json.loads(self.state.read_text()).get("calls", [])


@pytest.fixture
def host(tmp_path):
    if not os.path.exists("/usr/bin/python3"):
        pytest.skip("no /usr/bin/python3")
    return Host(tmp_path)


FOREIGN = ["zfs-auto-snap_daily-2024-12-30-0000", "autosnap_2024-12-31_00:00:00_daily", "before-upgrade",
           "cowstack_manual_20240101T000000Z"]


def history(hours=48):
    return [[stamp(NOW - 3600 * h), NOW - 3600 * h] for h in range(hours, 0, -1)]


def test_run_takes_then_prunes_in_a_constant_number_of_commands(host):
    host.zfs({"tank/docker": history() + [[n, NOW - 50000] for n in FOREIGN]})
    host.configure()
    proc = host.run("--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    taken = report["targets"][0]["taken"]
    assert taken == stamp(NOW, "daily")  # the first snapshot of a new day
    left = host.snapshots()
    ours = sorted(n for n in left if n not in FOREIGN)
    # hourly 3: the new one, 23:00, 22:00; daily 2: the new one (Jan 1) and Dec 31 23:00
    assert ours == sorted([taken, stamp(NOW - 3600), stamp(NOW - 7200)])
    assert all(f in left for f in FOREIGN)
    verbs = [c[0] for c in host.calls()]
    assert verbs == ["list", "snapshot", "destroy"], host.calls()
    assert report["commands"] == 3
    assert not any("-r" in c or "-R" in c for c in host.calls())


def test_ten_thousand_snapshots_cost_a_handful_of_commands(host):
    host.zfs({"tank/docker": [[stamp(NOW - 60 * m, "frequently"), NOW - 60 * m] for m in range(10000, 0, -1)]})
    host.configure(policy={"frequently": 4, "hourly": 24, "daily": 7})
    proc = host.run("--json", "--prune-only")
    assert proc.returncode == 0, proc.stderr
    calls = host.calls()
    assert [c[0] for c in calls].count("list") == 1
    assert 1 <= [c[0] for c in calls].count("destroy") <= 4
    assert len(host.snapshots()) == 4 + 23 + 6  # the newest quarter hours, hours and days (overlapping newest)


def test_a_failed_batch_stops_and_destroys_nothing_unplanned(host):
    snaps = [[stamp(NOW - 60 * m, "frequently"), NOW - 60 * m] for m in range(10000, 0, -1)]
    held = "tank/docker@" + snaps[5000][0]  # in the second of four batches
    host.zfs({"tank/docker": snaps + [[n, NOW - 50000] for n in FOREIGN], "tank/home": history(5)}, held=[held])
    host.configure(policy={"frequently": 4}, targets=["tank/docker", "tank/home"])
    proc = host.run("--prune-only")
    assert proc.returncode == 1
    assert "dataset is busy" in proc.stderr
    left = host.snapshots()
    planned = set(R.plan_retention([s[0] for s in snaps], {"frequently": 4}, NOW)["destroy"])
    assert all(f in left for f in FOREIGN)
    assert set(s[0] for s in snaps) - set(left) <= planned            # nothing unplanned went
    assert held.split("@")[1] in left
    assert len([c for c in host.calls() if c[0] == "destroy" and c[1].startswith("tank/docker@")]) == 2
    # the other target was still processed
    assert host.snapshots("tank/home") == [s[0] for s in history(5)][-4:]


def test_dry_run_changes_nothing(host):
    host.zfs({"tank/docker": history()})
    host.configure()
    proc = host.run("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "take %s" % stamp(NOW, "daily") in proc.stdout and "destroy " in proc.stdout
    assert host.snapshots() == [s[0] for s in history()]
    assert [c[0] for c in host.calls()] == ["list"]


def test_docker_layer_datasets_are_refused_at_run_time(host):
    host.zfs({})
    host.configure(targets=["tank/docker/" + LAYER], docker={"zfs_fsnames": ["tank/docker"]})
    proc = host.run()
    assert proc.returncode == 1 and "layer dataset" in proc.stderr
    assert host.calls() == []
    assert host.run("--check-config").returncode == 2


def test_check_config_refuses_missing_targets_and_bad_config(host):
    host.zfs({})
    host.configure(targets=["tank/docker", "tank/nothere", "tank/vol"])
    proc = host.run("--check-config")
    assert proc.returncode == 2 and "tank/nothere" in proc.stderr and "does not exist" in proc.stderr
    host.configure(prefix="zfs-auto-snap", policy={"daily": -1})
    proc = host.run("--check-config")
    assert proc.returncode == 2 and "zfs-auto-snap" in proc.stderr and "negative" in proc.stderr
    host.config.write_text("{not json")
    assert host.run().returncode == 2


def test_lock_prevents_overlapping_runs(host):
    host.zfs({"tank/docker": history(2)})
    host.configure()
    with open(host.lock, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        proc = host.run()
    assert proc.returncode == 75 and "another run" in proc.stderr
    assert host.calls() == []
    assert host.run().returncode == 0


def test_lock_in_a_directory_others_can_write_is_refused(host, tmp_path):
    host.zfs({"tank/docker": history(2)})
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)                       # like /run/lock: any user could create and hold the lock first
    host.configure(lock_file=str(shared / "snapshot.lock"))
    proc = host.run()
    assert proc.returncode == 1 and "cannot lock" in proc.stderr and "writable by group or others" in proc.stderr
    assert host.calls() == [] and not (shared / "snapshot.lock").exists()
    fresh = tmp_path / "run" / "cowstack"      # a missing directory is made root-only
    host.configure(lock_file=str(fresh / "snapshot.lock"))
    assert host.run().returncode == 0
    assert oct(fresh.stat().st_mode & 0o777) == oct(0o700)


def test_a_failed_snapshot_still_prunes(host):
    """A full pool is the usual reason a snapshot fails: pruning still relieves it, and the run fails."""
    host.zfs({"tank/docker": history()}, datasets={"tank/docker": {"type": "filesystem", "full": True}})
    host.configure()
    proc = host.run("--json")
    assert proc.returncode == 1 and "out of space" in proc.stderr
    planned = R.plan_retention([s[0] for s in history()], {"hourly": 3, "daily": 2}, NOW)
    assert sorted(host.snapshots()) == sorted(planned["keep"])
    entry = json.loads(proc.stdout)["targets"][0]
    assert entry["taken"] is None and entry["destroy"] == planned["destroy"] and "out of space" in entry["error"]


@pytest.mark.parametrize("age, code, word", [(600, 0, "OK"), (3 * 3600, 1, "WARNING"), (7 * 3600, 2, "CRITICAL"),
                                             (None, 2, "CRITICAL")])
def test_check_mode_for_monitoring(host, age, code, word):
    host.zfs({"tank/docker": [[stamp(NOW - age), NOW - age]] if age else [["before-upgrade", NOW]]})
    host.configure(monitor={"warn": "2h", "critical": "6h"})
    proc = host.run("--check")
    assert proc.returncode == code and proc.stdout.startswith("SNAPSHOTS " + word), proc.stdout
    assert [c[0] for c in host.calls()] == ["list"]


def test_list_shows_only_ours_with_age(host):
    host.zfs({"tank/docker": history(2) + [[n, NOW] for n in FOREIGN]})
    host.configure()
    proc = host.run("--list", "--json")
    rows = json.loads(proc.stdout)[0]["snapshots"]
    assert [r["name"] for r in rows] == [FOREIGN[3]] + [s[0] for s in history(2)]
    assert rows[-1]["age"] == 3600 and rows[-1]["used"] == 4096


def test_metrics_for_a_dataset_cost_one_zfs_list(host, tmp_path):
    """With metrics_file, a run adds one `zfs list -Hp -o used,available` per target, and no second listing."""
    host.zfs({"tank/docker": history(3)})
    metrics = tmp_path / "prom" / "cowstack.prom"
    host.configure(metrics_file=str(metrics))
    proc = host.run()
    assert proc.returncode == 0, proc.stderr
    assert [c[0] for c in host.calls()] == ["list", "snapshot", "destroy", "list"], host.calls()
    assert host.calls()[-1] == ["list", "-Hp", "-o", "used,available", "tank/docker"]
    text = metrics.read_text()
    assert 'cowstack_storage_used_bytes{target="tank/docker"} 1048576' in text
    assert 'cowstack_storage_available_bytes{target="tank/docker"} 1073741824' in text
    assert 'cowstack_snapshot_count{target="tank/docker"} %d' % len(host.snapshots()) in text
    assert "cowstack_snapshot_last_run_success 1" in text
