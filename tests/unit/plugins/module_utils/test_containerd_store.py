"""The containerd image store chosen by the role (docker_storage_image_store), and where the prepared filesystem
goes: under the data-root when dockerd runs its own containerd, else at the system containerd's snapshotter
directory, which is never moved aside. Pure rules; the containerd scenario runs them on Docker 28."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._preflight import evaluate
from test_bad_inputs import BTRFS, DEFAULTS, ZFS, device, host, system_containerd
from factsbuilder import facts as make_facts

SNAP = "/var/lib/containerd/io.containerd.snapshotter.v1.%s"


def _wanted(inputs, store):
    return dict(copy.deepcopy(DEFAULTS), docker_storage_image_store=store, **copy.deepcopy(inputs))


def _host(wanted, version="28.5.2", containerd=None, **extra):
    facts = host(wanted, **extra)
    facts["docker"].update(version=version)
    facts["containerd"] = containerd if containerd is not None else system_containerd()
    return facts


@pytest.mark.parametrize("store, feature", [("graphdriver", False), ("containerd", True)])
def test_the_store_is_chosen_and_pinned(store, feature):
    wanted = _wanted({}, store)
    result = evaluate(dict(wanted, docker_storage_pin_image_store=True), _host(wanted))
    assert result["errors"] == [] and result["choice"]["image_store"] == store
    assert result["choice"]["driver"] == ("overlayfs" if feature else "overlay2")
    assert result["daemon"]["content"]["features"] == {"containerd-snapshotter": feature}


def test_auto_keeps_what_daemon_json_says():
    wanted = _wanted({}, "auto")
    facts = _host(wanted, daemon_json={"exists": True, "valid": True, "content": {
        "features": {"containerd-snapshotter": True}}, "flag_conflicts": []})
    assert evaluate(wanted, facts)["choice"]["image_store"] == "containerd"
    assert evaluate(wanted, _host(wanted))["choice"]["image_store"] == "graphdriver"     # Docker 28: opt-in


@pytest.mark.parametrize("inputs, fs", [(BTRFS, "btrfs"), (ZFS, "zfs")])
def test_system_containerd_gets_the_filesystem_at_its_snapshotter_directory(inputs, fs):
    wanted = _wanted(inputs, "containerd")
    result = evaluate(wanted, _host(wanted))
    assert result["errors"] == [], result["errors"]
    assert result["choice"]["image_store"] == "containerd" and result["choice"]["prepare"] == fs
    assert result["prepare_at"] == SNAP % fs
    assert result["vacate"] is False               # the data-root is not touched


@pytest.mark.parametrize("inputs, fs", [(BTRFS, "btrfs"), (ZFS, "zfs")])
def test_dockerds_own_containerd_keeps_it_under_the_data_root(inputs, fs):
    wanted = _wanted(inputs, "containerd")
    managed = {"managed_by_dockerd": True, "root": "/var/lib/docker/containerd/daemon", "certain": True,
               "snapshotters": {fs: {"path": "/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.%s" % fs,
                                     "fstype": "ext4", "mount_point": "/", "state": False}}}
    result = evaluate(wanted, _host(wanted, containerd=managed))
    assert result["errors"] == [] and result["prepare_at"] == "/var/lib/docker"


def test_the_graphdriver_store_prepares_under_the_data_root():
    wanted = _wanted(BTRFS, "graphdriver")
    result = evaluate(wanted, _host(wanted))
    assert result["errors"] == [] and result["prepare_at"] == "/var/lib/docker"
    assert result["choice"]["image_store"] == "graphdriver"


def test_a_non_empty_data_root_is_not_moved_aside_for_the_containerd_store():
    """dockerd's graphdriver state stays where it is: the prepared filesystem goes to containerd's directory."""
    wanted = _wanted(BTRFS, "containerd")
    facts = _host(wanted, data_root_empty=False)
    result = evaluate(wanted, facts)
    assert result["errors"] == [] and result["vacate"] is False
    assert "storage" not in result["daemon"]["switch"]


def test_the_snapshotter_directory_on_the_right_filesystem_with_state_is_kept():
    """Converged: the btrfs filesystem is there with snapshots on it; a rerun plans it again, refusing nothing."""
    wanted = _wanted(BTRFS, "containerd")
    converged = system_containerd(state=True)
    converged["snapshotters"]["btrfs"].update(fstype="btrfs", mount_point=SNAP % "btrfs")
    facts = _host(wanted, containerd=converged)
    facts["devices"] = [device("/dev/vdb", probe={"TYPE": "btrfs"}, holds=["a btrfs signature"],
                               mounted_at=[SNAP % "btrfs"])]
    result = evaluate(wanted, facts)
    assert result["errors"] == [] and result["prepare_at"] == SNAP % "btrfs"
    # the same device mounted somewhere else is someone else's
    facts["devices"][0]["mounted_at"] = ["/srv/other"]
    assert any("is mounted at /srv/other" in e for e in evaluate(wanted, facts)["errors"])


def test_choose_refuses_the_containerd_store_where_docker_has_none():
    chosen = choose(make_facts("ext4", "23.0.6"), "overlay2", image_store="containerd")
    assert any("Docker 23.0.6 has no containerd image store" in e for e in chosen["errors"])
