"""Optional backends left out of a dockerd / containerd build (Debian's docker.io 28 and containerd 2.1 have no
ZFS): read from the binary, and the rules refuse what the binary cannot run, before anything is prepared."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._builtin import (
    GRAPHDRIVER_PACKAGES, SNAPSHOTTER_PACKAGES, built_with)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import (
    band_for, dockerd_pick, driver_check, host_view, missing_build)
from factsbuilder import facts

SID = {"graphdrivers_built": {"btrfs": True, "zfs": False}, "snapshotters_built": {"btrfs": True, "zfs": False}}


def test_built_with_reads_the_package_paths(tmp_path):
    dockerd = tmp_path / "dockerd"
    dockerd.write_bytes(b"\x7fELF" + b"\0" * 4096 + b"github.com/docker/docker/daemon/graphdriver/btrfs.Init" + b"\0")
    assert built_with(str(dockerd), GRAPHDRIVER_PACKAGES) == {"btrfs": True, "zfs": False}
    containerd = tmp_path / "containerd"
    containerd.write_bytes(b"github.com/containerd/zfs/v2/plugin\0github.com/containerd/containerd/v2/plugins/"
                           b"snapshots/btrfs\0")
    assert built_with(str(containerd), SNAPSHOTTER_PACKAGES) == {"btrfs": True, "zfs": True}


@pytest.mark.parametrize("path", [None, "/nonexistent/dockerd"])
def test_an_unreadable_binary_says_nothing(path, tmp_path):
    assert built_with(path, GRAPHDRIVER_PACKAGES) == {}
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert built_with(str(empty), GRAPHDRIVER_PACKAGES) == {}


def test_the_zfs_graphdriver_left_out_fails_on_a_zfs_dataset():
    host = host_view(facts("zfs", "28.5.2", zfs="2.4.4", **SID))
    ok, reason = driver_check("zfs", host, band_for("28.5.2"))
    assert not ok and "built without the zfs graphdriver" in reason
    assert driver_check("zfs", host_view(facts("zfs", "28.5.2", zfs="2.4.4")), band_for("28.5.2"))[0]
    assert driver_check("btrfs", host_view(facts("btrfs", "28.5.2", **SID)), band_for("28.5.2"))[0]


def test_the_zfs_snapshotter_left_out_is_not_usable():
    config = {"features": {"containerd-snapshotter": True}, "storage-driver": "zfs"}
    pick = dockerd_pick(host_view(facts("zfs", "28.5.2", zfs="2.4.4", **SID)), band_for("28.5.2"), config)
    assert pick["driver"] == "zfs" and pick["usable"] is False
    assert "built without the zfs snapshotter" in pick["reason"]
    full = dockerd_pick(host_view(facts("zfs", "28.5.2", zfs="2.4.4")), band_for("28.5.2"), config)
    assert full["usable"] is True


def test_missing_build_names_the_binary():
    host = host_view(facts("ext4", "28.5.2", **SID))
    assert missing_build("zfs", host, "graphdriver") == "this dockerd was built without the zfs graphdriver"
    assert missing_build("zfs", host, "containerd") == "this containerd was built without the zfs snapshotter"
    assert "dockerd" in missing_build("zfs", host) and "containerd" in missing_build("zfs", host)
    assert missing_build("btrfs", host) is None and missing_build("overlay2", host) is None


def test_enterprise_is_not_prepared_for_a_dockerd_without_zfs():
    """Devices given for ZFS, the zfs tools and module present, dockerd without the driver: an error before
    anything is made, never a pool dockerd cannot use."""
    host_facts = facts("ext4", "28.5.2", zfs="2.4.4", **SID)
    choice = choose(host_facts, "enterprise", prepare_storage=True, require_filesystem=True)
    assert choice["prepare"] is None and choice["driver"] is None
    assert any("built without the zfs graphdriver" in e for e in choice["errors"]), choice["errors"]
    # without devices it falls back, saying why
    loose = choose(host_facts, "enterprise", prepare_storage=True)
    assert loose["prepare"] is None and loose["driver"] == "overlay2"
    assert any("built without the zfs graphdriver" in r for r in loose["reasons"]), loose["reasons"]


def test_a_requested_zfs_driver_is_refused_not_prepared():
    choice = choose(facts("ext4", "28.5.2", zfs="2.4.4", **SID), "zfs", prepare_storage=True)
    assert choice["prepare"] is None
    assert any("built without the zfs graphdriver" in e for e in choice["errors"]), choice["errors"]
