"""cowstack.docker_storage.snapshot through ansible: on real btrfs (loop device), and on ZFS through the
stand-in zfs of the unit tests (this kernel has no ZFS; the VM scenarios run the real one)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

import realhost
import snapshot_helpers as H
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R

pytestmark = pytest.mark.root

HOUR = 3600


@pytest.fixture
def data(loopfs):
    with loopfs("btrfs") as mnt:
        data = H.subvolume(os.path.join(mnt, "data"))
        now = int(time.time())
        history = [R.snapshot_name("cowstack", "hourly", now - HOUR * h) for h in range(12, 0, -1)]
        for name in history + ["before-upgrade"]:
            H.snapshot(data, os.path.join(data, ".snapshots", name))
        yield {"mnt": mnt, "path": data, "snaps": os.path.join(data, ".snapshots"), "history": history}


def test_take_list_prune_on_btrfs(data):
    path = data["path"]
    checked = realhost.run_module("snapshot", {"operation": "take", "target": path, "label": "pre-upgrade"},
                                  check_mode=True)
    assert checked["changed"] is True and checked["plan"]["take"].startswith("cowstack_pre-upgrade_")
    assert H.subvolumes_in(data["snaps"]) == sorted(data["history"] + ["before-upgrade"])

    taken = realhost.run_module("snapshot", {"operation": "take", "target": path, "label": "pre-upgrade"})
    assert taken["changed"] is True, taken
    assert taken["snapshot"] in H.subvolumes_in(data["snaps"])
    assert taken["plan"]["commands"][0][:4] == ["btrfs", "subvolume", "snapshot", "-r"]

    listed = realhost.run_module("snapshot", {"target": path})
    assert listed["changed"] is False
    assert [s["name"] for s in listed["snapshots"]] == data["history"] + [taken["snapshot"]]
    assert listed["others"] == ["before-upgrade"]
    assert 0 <= listed["snapshots"][-1]["age"] < 120 and listed["snapshots"][-1]["label"] == "pre-upgrade"

    policy = {"hourly": 3}
    dry = realhost.run_module("snapshot", {"operation": "prune", "target": path, "policy": policy}, check_mode=True)
    assert dry["changed"] is True and dry["plan"]["destroy"] == data["history"][:-3]
    assert len(dry["plan"]["commands"]) == 1                      # one batched delete
    assert len(H.subvolumes_in(data["snaps"])) == 14

    pruned = realhost.run_module("snapshot", {"operation": "prune", "target": path, "policy": policy})
    assert pruned["changed"] is True
    assert H.subvolumes_in(data["snaps"]) == sorted(data["history"][-3:] + ["before-upgrade", taken["snapshot"]])
    again = realhost.run_module("snapshot", {"operation": "prune", "target": path, "policy": policy})
    assert again["changed"] is False and again["plan"]["destroy"] == []

    # ad hoc labels are pruned only when named
    manual = realhost.run_module("snapshot", {"operation": "prune", "target": path, "labels": ["pre-upgrade"],
                                              "policy": {"daily": 1}})
    assert manual["changed"] is False


def test_diff_shows_the_names(data):
    rc, tasks = H.run_playbook([{"name": "prune", "cowstack.docker_storage.snapshot": {
        "operation": "prune", "target": data["path"], "policy": {"hourly": 10}}}], check=True, diff=True)[:2]
    result = tasks["prune"][0]
    assert rc == 0 and result["changed"] is True
    assert result["diff"]["before"].splitlines() == data["history"]
    assert result["diff"]["after"].splitlines() == data["history"][-10:]


@pytest.mark.parametrize("args, message", [
    ({"operation": "take", "prefix": "zfs-auto-snap"}, "another tool"),
    ({"operation": "take", "prefix": ""}, "non-empty"),
    ({"operation": "take", "label": "Pre_Upgrade"}, "label"),
    ({"operation": "prune", "policy": {"hourly": -2}}, "negative"),
    ({"operation": "prune", "policy": {"hourly": "x"}}, "whole number"),
    ({"operation": "prune", "policy": {"fortnightly": 2}}, "unknown period"),
    ({"operation": "prune"}, "policy"),
])
def test_bad_input_is_refused_before_anything_changes(data, args, message):
    result = realhost.run_module("snapshot", dict(args, target=data["path"]))
    assert result.get("failed") and message in result["msg"], result
    assert len(H.subvolumes_in(data["snaps"])) == 13


def test_targets_that_are_not_subvolumes_or_are_docker_layers(data):
    plain = os.path.join(data["mnt"], "plain")
    os.mkdir(plain)
    result = realhost.run_module("snapshot", {"operation": "take", "target": plain})
    assert result.get("failed") and "not a subvolume" in result["msg"]
    result = realhost.run_module("snapshot", {"operation": "take", "target": os.path.join(data["mnt"], "nothere")})
    assert result.get("failed") and "does not exist" in result["msg"]
    os.chmod(data["snaps"], 0o777)     # others could swap a snapshot for a link between listing and deleting
    result = realhost.run_module("snapshot", {"operation": "prune", "target": data["path"], "policy": {"hourly": 1}})
    assert result.get("failed") and "writable by group or others" in result["msg"]
    assert len(H.subvolumes_in(data["snaps"])) == 13
    os.chmod(data["snaps"], 0o700)
    docker = os.path.join(data["mnt"], "docker")
    os.makedirs(os.path.join(docker, "btrfs", "subvolumes"))
    layer = H.subvolume(os.path.join(docker, "btrfs", "subvolumes", "f" * 64))
    result = realhost.run_module("snapshot", {"operation": "take", "target": layer, "docker_data_roots": [docker]})
    assert result.get("failed") and "Docker" in result["msg"]
    assert not os.path.exists(os.path.join(layer, ".snapshots"))


def test_validate_returns_the_schedule_or_refuses(data):
    good = realhost.run_module("snapshot", {"operation": "validate", "config": {
        "policy": {"hourly": 24, "daily": 7}, "schedule": "*/30 * * * *", "targets": [{"target": data["path"]}]}})
    assert good["changed"] is False, good
    assert good["schedule"]["minute"] == "*/30" and good["schedule"]["on_calendar"] == "*-*-* *:00,30:00"
    assert good["config"]["targets"][0]["snapshot_dir"] == data["snaps"]
    bad = realhost.run_module("snapshot", {"operation": "validate", "config": {
        "policy": {"hourly": 24}, "schedule": "0 25 * * *", "targets": [{"target": data["path"] + "/nothere"}]}})
    assert bad.get("failed") and "cron hour" in bad["msg"]


def test_validate_in_check_mode_lets_a_target_yet_to_be_made_pass_with_a_warning(data):
    """A whole-stack --check on a new host: the storage role would make the subvolume the snapshot role names."""
    plain = os.path.join(data["mnt"], "plain")
    os.mkdir(plain)
    config = {"policy": {"hourly": 24}, "targets": [{"target": data["path"]}, {"target": plain},
                                                    {"target": os.path.join(data["mnt"], "later")}]}
    checked = realhost.run_module("snapshot", {"operation": "validate", "config": config}, check_mode=True)
    assert checked["changed"] is False and not checked.get("failed"), checked
    assert [p.split(" ")[0] for p in checked["pending"]] == [plain, os.path.join(data["mnt"], "later")]
    assert any("not a subvolume" in w for w in checked["warnings"])
    real = realhost.run_module("snapshot", {"operation": "validate", "config": config})
    assert real.get("failed") and real["problems"] == checked["pending"]
    # Docker's own layers are refused in check mode too
    docker = os.path.join(data["mnt"], "docker")
    os.makedirs(os.path.join(docker, "btrfs", "subvolumes"))
    layer = H.subvolume(os.path.join(docker, "btrfs", "subvolumes", "f" * 64))
    refused = realhost.run_module("snapshot", {"operation": "validate", "config": {
        "policy": {"hourly": 24}, "targets": [layer], "docker": {"data_roots": [docker]}}}, check_mode=True)
    assert refused.get("failed") and "Docker" in refused["msg"] and not refused.get("pending")


# -- ZFS, through the stand-in --------------------------------------------------------------------------

@pytest.fixture
def fake_zfs(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "zfs"
    wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, H.FAKE_ZFS))
    wrapper.chmod(0o755)
    state = tmp_path / "zfs.json"
    now = int(time.time())
    history = [R.snapshot_name("cowstack", "hourly", now - HOUR * h) for h in range(3000, 0, -1)]
    state.write_text(json.dumps({
        "datasets": {"tank/docker": {"type": "filesystem"}, "tank/docker/" + "e" * 64: {"type": "filesystem"},
                     "tank/home": {"type": "filesystem"}},
        "snapshots": {"tank/home": [[n, now] for n in history + ["zfs-auto-snap_daily-2024-01-01-0000"]]},
        "clock": now}))
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ["PATH"]))
    monkeypatch.setenv("FAKE_ZFS_STATE", str(state))

    def snapshots(dataset="tank/home"):
        return [s[0] for s in json.loads(state.read_text())["snapshots"].get(dataset, [])]

    def calls():
        return json.loads(state.read_text())["calls"]
    return {"history": history, "snapshots": snapshots, "calls": calls}


def test_zfs_take_and_batched_prune(fake_zfs):
    taken = realhost.run_module("snapshot", {"operation": "take", "target": "tank/docker"})
    assert taken["changed"] is True and fake_zfs["snapshots"]("tank/docker") == [taken["snapshot"]]
    assert ["snapshot", "tank/docker@" + taken["snapshot"]] in fake_zfs["calls"]()
    pruned = realhost.run_module("snapshot", {"operation": "prune", "target": "tank/home",
                                              "policy": {"hourly": 24, "daily": 30}})
    assert pruned["changed"] is True
    verbs = [c[0] for c in fake_zfs["calls"]() if c[0] != "snapshot"]
    # each run lists, changes, lists again to report: take 2 lists, prune 2 lists and one batched destroy
    assert verbs == ["list", "list", "list", "destroy", "list"]
    left = fake_zfs["snapshots"]()
    assert "zfs-auto-snap_daily-2024-01-01-0000" in left
    assert len(left) == len(R.plan_retention(fake_zfs["history"], {"hourly": 24, "daily": 30}, time.time())["keep"]) + 1


def test_zfs_docker_layer_and_missing_dataset_refused(fake_zfs):
    layer = realhost.run_module("snapshot", {"operation": "take", "target": "tank/docker/" + "e" * 64})
    assert layer.get("failed") and "Docker layer" in layer["msg"]
    missing = realhost.run_module("snapshot", {"operation": "take", "target": "tank/nothere"})
    assert missing.get("failed") and "does not exist" in missing["msg"]
    invalid = realhost.run_module("snapshot", {"operation": "validate", "config": {
        "policy": {"daily": 1}, "targets": ["tank/home", "tank/nothere"]}})
    assert invalid.get("failed") and "tank/nothere" in invalid["msg"]
    pending = realhost.run_module("snapshot", {"operation": "validate", "config": {
        "policy": {"daily": 1}, "targets": ["tank/home", "tank/nothere"]}}, check_mode=True)
    assert not pending.get("failed") and [p.split(":")[0] for p in pending["pending"]] == ["tank/nothere"]
    assert all(c[0] == "list" for c in fake_zfs["calls"]())
