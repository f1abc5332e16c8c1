"""storage_facts on real filesystems on loop devices: each reported as it is, nothing changed."""

from __future__ import annotations

import json
import os
import time

import pytest

import realhost
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _retention as R

# kind -> expected backing_fs keys and the overlay2 verdict
EXPECTED = {
    "ext4": ({"fstype": "ext4", "d_type": True, "xfs_ftype": None, "pquota": False}, True),
    "ext4-nodtype": ({"fstype": "ext4", "d_type": False, "xfs_ftype": None, "pquota": False}, False),
    "xfs": ({"fstype": "xfs", "d_type": True, "xfs_ftype": 1, "pquota": False}, True),
    "xfs-pquota": ({"fstype": "xfs", "d_type": True, "xfs_ftype": 1, "pquota": True}, True),
    "btrfs": ({"fstype": "btrfs", "d_type": True, "xfs_ftype": None, "pquota": False}, True),
}


def _tree(path):
    listing = []
    for base, dirs, files in os.walk(path):
        listing.extend(os.path.join(base, n) for n in sorted(dirs + files))
    return sorted(listing)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_backing_fs_reported_as_it_is(kind, loopfs):
    expected, overlay2_ok = EXPECTED[kind]
    with loopfs(kind) as mnt:
        before = _tree(mnt)
        data_root = os.path.join(mnt, "docker", "not", "yet")
        facts = realhost.storage_facts(data_root)
        backing = facts["backing_fs"]
        assert backing["mount_point"] == mnt
        assert backing["source"].startswith("/dev/loop")
        for key, value in expected.items():
            assert backing[key] == value, (key, backing)
        assert facts["data_root"] == data_root and facts["data_root_source"] == "option"
        assert facts["compatible"]["overlay2"]["ok"] is overlay2_ok, facts["compatible"]["overlay2"]
        assert facts["compatible"]["btrfs"]["ok"] is (kind == "btrfs")
        assert facts["compatible"]["vfs"]["ok"] is True
        assert facts["prior_drivers"] == []
        # d_type on an empty filesystem is measured with a probe that leaves nothing behind.
        assert _tree(mnt) == before


def _without_docker(result):
    return dict(result["ansible_facts"]["docker_storage"], docker=None)


def test_check_mode_reports_no_change_and_the_same_facts():
    with realhost.loop_filesystem("btrfs") as mnt:
        normal = realhost.run_module("storage_facts", {"data_root": mnt})
        checked = realhost.run_module("storage_facts", {"data_root": mnt}, check_mode=True)
        again = realhost.run_module("storage_facts", {"data_root": mnt})
        for result in (normal, checked, again):
            assert result.get("changed") is False and not result.get("failed"), result
        assert _without_docker(normal) == _without_docker(checked) == _without_docker(again)


def test_prior_drivers_as_dockerd_counts_them():
    with realhost.loop_filesystem("ext4") as mnt:
        for name, non_empty in (("overlay2", True), ("btrfs", False), ("vfs", True), ("zfs", True)):
            os.makedirs(os.path.join(mnt, name))
            if non_empty:
                os.mkdir(os.path.join(mnt, name, "layer"))
        facts = realhost.storage_facts(mnt)
        assert facts["prior_drivers"] == ["overlay2", "zfs"]
        assert facts["default_driver"] is None
        assert "several drivers" in facts["default_driver_reason"]


def test_data_root_from_daemon_json_and_flag_conflicts(tmp_path):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"data-root": "/srv/docker-data", "storage-driver": "overlay2",
                                       "log-driver": "journald"}))
    units = tmp_path / "units"
    (units / "docker.service.d").mkdir(parents=True)
    (units / "docker.service").write_text("[Service]\nEnvironmentFile=-%s/env\nExecStart=/usr/sbin/dockerd -H fd:// "
                                          "$DOCKER_OPTS\n" % tmp_path)
    (tmp_path / "env").write_text('DOCKER_OPTS="--log-level warn"\n')
    (units / "docker.service.d" / "50-storage.conf").write_text(
        "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// -s overlay2 $DOCKER_OPTS\n")
    facts = realhost.storage_facts(None, daemon_json_path=str(daemon_json), unit_paths=[str(units)])
    assert facts["data_root"] == "/srv/docker-data" and facts["data_root_source"] == "daemon.json"
    conflicts = facts["daemon_json"]["flag_conflicts"]
    assert conflicts == [{"key": "storage-driver", "flag": "-s overlay2",
                          "file": str(units / "docker.service.d" / "50-storage.conf"), "line": 3}]
    assert {"flag": "--log-level", "key": "log-level", "value": "warn", "file": str(tmp_path / "env"), "line": 1} \
        in facts["service"]["flags"]


@pytest.mark.parametrize("setup, fragment", [
    ("file_data_root", "is not a directory"),
    ("invalid_json", "is not valid JSON"),
    ("unreadable_json", "cannot be read"),
    ("relative_data_root", "must be an absolute path"),
    ("bad_service", "not a systemd service name"),
])
def test_bad_input_fails_with_what_to_do(tmp_path, setup, fragment):
    args = {"daemon_json_path": str(tmp_path / "daemon.json")}
    if setup == "file_data_root":
        (tmp_path / "file").write_text("x")
        args["data_root"] = str(tmp_path / "file")
    elif setup == "invalid_json":
        (tmp_path / "daemon.json").write_text('{"storage-driver": "overlay2",}')
    elif setup == "unreadable_json":
        (tmp_path / "daemon.json").mkdir()
    elif setup == "relative_data_root":
        args["data_root"] = "var/lib/docker"
    elif setup == "bad_service":
        args["service_name"] = "docker; reboot"
    before = sorted(os.listdir(tmp_path))
    result = realhost.run_module("storage_facts", args)
    assert result.get("failed") is True
    assert fragment in result["msg"], result["msg"]
    assert sorted(os.listdir(tmp_path)) == before


def test_lenient_mode_reports_invalid_daemon_json(tmp_path):
    (tmp_path / "daemon.json").write_text("not json")
    facts = realhost.storage_facts("/var/lib/docker", daemon_json_path=str(tmp_path / "daemon.json"), strict=False)
    assert facts["daemon_json"]["valid"] is False and "not valid JSON" in facts["daemon_json"]["error"]


def test_containerd_snapshotter_filesystem_as_it_is(tmp_path, loopfs):
    """A system containerd whose config moves its root onto a btrfs filesystem: the btrfs snapshotter's directory
    (not made yet) is reported on btrfs, and on the host's root filesystem with the default root. (The choice's
    refusal of a snapshotter on the wrong filesystem is unit-tested on these facts.)"""
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"containerd": "/run/containerd/containerd.sock"}))
    with loopfs("btrfs") as mnt:
        config = tmp_path / "config.toml"
        config.write_text('version = 2\nroot = "%s/containerd"\n\n[plugins]\n' % mnt)
        facts = realhost.storage_facts(str(tmp_path / "docker"), daemon_json_path=str(daemon_json),
                                       containerd_config=str(config))
        found = facts["containerd"]
        assert found["managed_by_dockerd"] is False and found["root"] == mnt + "/containerd"
        assert found["snapshotters"]["btrfs"] == {"path": mnt + "/containerd/io.containerd.snapshotter.v1.btrfs",
                                                  "fstype": "btrfs", "mount_point": mnt, "state": False}
        assert not os.path.exists(mnt + "/containerd")               # nothing made
        # snapshots of the containerd store on disk (what a stopped dockerd on that store left): state
        os.makedirs(mnt + "/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs")
        facts = realhost.storage_facts(str(tmp_path / "docker"), daemon_json_path=str(daemon_json),
                                       containerd_config=str(config))
        assert facts["containerd"]["snapshotters"]["overlayfs"]["state"] is True
        assert facts["containerd"]["snapshotters"]["btrfs"]["state"] is False
    config.write_text("version = 2\n")                           # back to /var/lib/containerd, on this host's root
    facts = realhost.storage_facts(str(tmp_path / "docker"), daemon_json_path=str(daemon_json),
                                   containerd_config=str(config))
    assert facts["containerd"]["snapshotters"]["btrfs"]["fstype"] != "btrfs"


def test_free_space_pool_and_snapshot_age_in_the_same_round_trip(loopfs, tmp_path):
    """On btrfs with the snapshot tool configured: the filesystem's size and free space, and the newest of our
    snapshots per target with its age, as ``cowstack-snapshot --check`` sees it (one snapshot an hour old: OK;
    a target without one: CRITICAL)."""
    with loopfs("btrfs") as mnt:
        target, bare = os.path.join(mnt, "docker"), os.path.join(mnt, "bare")
        for path in (target, bare):
            realhost.run(["btrfs", "subvolume", "create", path])
        os.makedirs(os.path.join(target, ".snapshots"), mode=0o700)
        name = R.snapshot_name("cowstack", "hourly", int(time.time()) - 3600)
        realhost.run(["btrfs", "subvolume", "snapshot", "-r", target, os.path.join(target, ".snapshots", name)])
        config = tmp_path / "snapshot.json"
        config.write_text(json.dumps({"policy": {"hourly": 24}, "targets": [target, bare],
                                      "monitor": {"warn": "2h", "critical": "6h"}}))
        facts = realhost.storage_facts(target, snapshot_config=str(config))
        backing, pool = facts["backing_fs"], facts["pool"]
        assert 0 < backing["free_bytes"] <= backing["size_bytes"] <= 1024 ** 3
        assert pool["kind"] == "btrfs" and pool["name"] == backing["source"] and pool["size_bytes"] > 0
        rows = dict((t["target"], t) for t in facts["snapshots"]["targets"])
        assert rows[target]["newest"] == name and rows[target]["count"] == 1 and rows[target]["state"] == "OK"
        assert 3600 <= rows[target]["age_seconds"] < 3700
        assert rows[bare]["count"] == 0 and rows[bare]["state"] == "CRITICAL"
        missing = realhost.storage_facts(target, snapshot_config=str(tmp_path / "none.json"))
        assert missing["snapshots"] is None
