"""The standalone snapshot tool on real btrfs (loop device): it creates, prunes by the policy, leaves other
people's and tools' snapshots alone, refuses Docker's layers and things that are not subvolumes, and a run
that fails half way deletes nothing it did not plan to."""

from __future__ import annotations

import json
import os
import time

import pytest

import realhost
import snapshot_helpers as H
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R

pytestmark = pytest.mark.root

NOW = int(time.time())
HOUR = 3600


def ours(epoch, label="hourly"):
    return R.snapshot_name("cowstack", label, epoch)


@pytest.fixture
def btrfs(loopfs, tmp_path):
    """A btrfs subvolume with 30 hours of our hourly snapshots plus other snapshots and a look-alike directory."""
    with loopfs("btrfs") as mnt:
        data = H.subvolume(os.path.join(mnt, "data"))
        with open(os.path.join(data, "file"), "w") as handle:
            handle.write("hello")
        snaps = os.path.join(data, ".snapshots")
        history = [ours(NOW - HOUR * h) for h in range(30, 0, -1)]
        for name in history:
            H.snapshot(data, os.path.join(snaps, name))
        foreign = ["before-upgrade", "data.20240101T0000", "zfs-auto-snap_hourly-2024-01-01-0000",
                   "cowstack_manual_20240101T000000Z"]
        for name in foreign:
            H.snapshot(data, os.path.join(snaps, name), readonly=False)
        # named like ours but a plain directory: not a snapshot, never deleted
        os.mkdir(os.path.join(snaps, ours(NOW - 40 * HOUR)))
        tool = H.install_tool(str(tmp_path / "lib"))
        config = H.write_json(str(tmp_path / "snapshot.json"), {
            "policy": {"hourly": 4, "daily": 2}, "targets": [data], "lock_file": str(tmp_path / "lock")})
        yield {"mnt": mnt, "data": data, "snaps": snaps, "history": history, "foreign": foreign, "tool": tool,
               "config": config, "tmp": tmp_path}


def test_run_creates_and_prunes_and_spares_the_others(btrfs):
    start = time.time()
    proc = H.run_tool(btrfs["tool"], btrfs["config"], "--json", "--now", NOW)
    elapsed = time.time() - start
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    taken = report["targets"][0]["taken"]
    expected = R.plan_retention(btrfs["history"] + [taken], {"hourly": 4, "daily": 2}, NOW)
    left = H.subvolumes_in(btrfs["snaps"])
    assert sorted(expected["keep"] + btrfs["foreign"]) == left
    assert os.path.isdir(os.path.join(btrfs["snaps"], ours(NOW - 40 * HOUR)))
    # one snapshot command and one batched delete, no listing command
    assert report["commands"] == 2
    assert elapsed < 10
    # the new snapshot is read-only and holds the data; the nested snapshots are not in it
    new = os.path.join(btrfs["snaps"], taken)
    assert realhost.run(["btrfs", "property", "get", "-ts", new, "ro"]).stdout.strip() == "ro=true"
    with open(os.path.join(new, "file")) as handle:
        assert handle.read() == "hello"
    nested = os.path.join(new, ".snapshots")
    assert H.subvolumes_in(nested) == [] and all(os.listdir(os.path.join(nested, n)) == [] for n in os.listdir(nested))
    # a second run in the same second finds its snapshot and changes nothing more
    again = H.run_tool(btrfs["tool"], btrfs["config"], "--json", "--now", NOW)
    assert again.returncode == 0 and json.loads(again.stdout)["targets"][0]["destroy"] == []
    assert H.subvolumes_in(btrfs["snaps"]) == left


def test_dry_run_list_and_check(btrfs):
    before = H.subvolumes_in(btrfs["snaps"])
    dry = H.run_tool(btrfs["tool"], btrfs["config"], "--dry-run", "--now", NOW)
    assert dry.returncode == 0 and "destroy " + btrfs["history"][0] in dry.stdout
    assert H.subvolumes_in(btrfs["snaps"]) == before
    listed = json.loads(H.run_tool(btrfs["tool"], btrfs["config"], "--list", "--json", "--now", NOW).stdout)
    assert [r["name"] for r in listed[0]["snapshots"]] == ["cowstack_manual_20240101T000000Z"] + btrfs["history"]
    assert listed[0]["snapshots"][-1]["age"] == HOUR
    check = H.run_tool(btrfs["tool"], btrfs["config"], "--check", "--now", NOW)
    assert check.returncode == 0 and check.stdout.startswith("SNAPSHOTS OK"), check.stdout
    late = H.run_tool(btrfs["tool"], btrfs["config"], "--check", "--now", NOW + 3 * HOUR)
    assert late.returncode == 1 and "WARNING" in late.stdout
    dead = H.run_tool(btrfs["tool"], btrfs["config"], "--check", "--now", NOW + 7 * HOUR, "--critical", "5h")
    assert dead.returncode == 2 and "CRITICAL" in dead.stdout


def test_half_failed_run_deletes_only_what_it_planned(btrfs):
    # a snapshot holding a nested subvolume cannot be deleted (ENOTEMPTY): the batch fails half way
    busy = os.path.join(btrfs["snaps"], btrfs["history"][3])
    realhost.run(["btrfs", "property", "set", "-ts", busy, "ro", "false"])
    H.subvolume(os.path.join(busy, "nested"))
    proc = H.run_tool(btrfs["tool"], btrfs["config"], "--prune-only", "--now", NOW)
    assert proc.returncode == 1 and "failed" in proc.stderr, proc.stderr
    left = H.subvolumes_in(btrfs["snaps"])
    planned = R.plan_retention(btrfs["history"], {"hourly": 4, "daily": 2}, NOW)
    assert set(btrfs["history"]) - set(left) <= set(planned["destroy"])
    assert btrfs["history"][3] in left
    assert all(name in left for name in planned["keep"] + btrfs["foreign"])


def test_refusals(btrfs, loopfs):
    tmp = btrfs["tmp"]
    # Docker's layer subvolumes under a btrfs data-root
    docker_root = os.path.join(btrfs["mnt"], "docker")
    os.makedirs(os.path.join(docker_root, "btrfs", "subvolumes"))
    layer = H.subvolume(os.path.join(docker_root, "btrfs", "subvolumes", "a" * 64))
    config = H.write_json(str(tmp / "layer.json"), {"policy": {"hourly": 1}, "targets": [layer],
                                                    "docker": {"data_roots": [docker_root]}})
    proc = H.run_tool(btrfs["tool"], config, "--check-config")
    assert proc.returncode == 2 and "Docker" in proc.stderr
    proc = H.run_tool(btrfs["tool"], config)
    assert proc.returncode == 1 and not os.path.exists(os.path.join(layer, ".snapshots"))
    # a plain directory on btrfs, a path that does not exist, a subvolume on another filesystem type
    plain = os.path.join(btrfs["mnt"], "plain")
    os.mkdir(plain)
    config = H.write_json(str(tmp / "plain.json"), {"policy": {"hourly": 1},
                                                    "targets": [plain, os.path.join(btrfs["mnt"], "nothere")]})
    proc = H.run_tool(btrfs["tool"], config, "--check-config")
    assert proc.returncode == 2
    assert "not a subvolume" in proc.stderr and "does not exist" in proc.stderr
    with loopfs("ext4", "64M") as ext4:
        config = H.write_json(str(tmp / "ext4.json"), {"policy": {"hourly": 1}, "targets": [ext4]})
        proc = H.run_tool(btrfs["tool"], config, "--check-config")
        assert proc.returncode == 2 and "not on btrfs" in proc.stderr
    # a subvolume another user owns: its default .snapshots is theirs to swap for a link before a delete
    alice = H.subvolume(os.path.join(btrfs["mnt"], "alice"))
    os.chown(alice, 1000, 1000)
    lock = str(tmp / "lock")
    config = H.write_json(str(tmp / "alice.json"), {"policy": {"hourly": 1}, "targets": [alice], "lock_file": lock})
    proc = H.run_tool(btrfs["tool"], config)
    assert proc.returncode == 1 and "%s is owned by uid 1000" % alice in proc.stderr, proc.stderr
    assert not os.path.exists(os.path.join(alice, ".snapshots"))
    kept_apart = os.path.join(btrfs["mnt"], "alice-snapshots")   # a snapshot_dir only root can write: fine
    config = H.write_json(str(tmp / "alice2.json"), {"policy": {"hourly": 1}, "lock_file": lock,
                                                     "targets": [{"target": alice, "snapshot_dir": kept_apart}]})
    proc = H.run_tool(btrfs["tool"], config)
    assert proc.returncode == 0, proc.stderr
    assert len(H.subvolumes_in(kept_apart)) == 1 and oct(os.stat(kept_apart).st_mode & 0o777) == oct(0o700)
    # bad policy and prefix: refused before anything runs
    config = H.write_json(str(tmp / "bad.json"), {"prefix": "", "policy": {"hourly": -1}, "targets": [btrfs["data"]]})
    proc = H.run_tool(btrfs["tool"], config)
    assert proc.returncode == 2 and "prefix" in proc.stderr and "negative" in proc.stderr
    assert H.subvolumes_in(btrfs["snaps"]) == sorted(btrfs["history"] + btrfs["foreign"])
