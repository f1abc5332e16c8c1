"""Policies, the storage guide's scenarios with fallbacks, and every anti-pattern the choice reports."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import PolicyError, choose
from factsbuilder import facts


def _has(messages, fragment):
    return any(fragment in m for m in messages)


@pytest.mark.parametrize("policy", ["", "fastest", "OVERLAY2", "btrfs ", None, 3])
def test_unknown_policy_raises(policy):
    with pytest.raises(PolicyError) as err:
        choose(facts(), policy)
    assert "unknown policy or driver" in str(err.value) and "auto" in str(err.value)


# (policy, fs, docker, extra facts, prepare_storage) -> driver, prepare, reason fragment
SCENARIOS = [
    ("general", "ext4", "26.1.5", {}, False, "overlay2", None, "policy general"),
    ("general", "xfs", "20.10.24", {}, False, "overlay2", None, "policy general"),
    ("general", "btrfs", "26.1.5", {}, False, "btrfs", None, "anti-pattern"),
    ("general", "zfs", "26.1.5", {"zfs": "2.3.9"}, False, "zfs", None, "anti-pattern"),
    ("general", "ext4-nodtype", "26.1.5", {}, False, "vfs", None, "falls back to vfs"),
    ("enterprise", "zfs", "20.10.24", {"zfs": "2.1.11"}, False, "zfs", None, "policy enterprise"),
    ("enterprise", "ext4", "26.1.5", {}, False, "overlay2", None, "falls back to overlay2"),
    ("enterprise", "btrfs", "26.1.5", {}, False, "btrfs", None, "falls back to btrfs"),
    ("enterprise", "ext4", "26.1.5", {"zfs": "2.3.9"}, True, "zfs", "zfs", "prepares a zfs filesystem"),
    ("enterprise", "ext4", "26.1.5", {}, True, "overlay2", None, "falls back to overlay2"),
    ("large_images", "btrfs", "26.1.5", {}, False, "btrfs", None, "policy large_images"),
    ("large_images", "ext4", "26.1.5", {}, False, "overlay2", None, "falls back to overlay2"),
    ("large_images", "ext4", "26.1.5", {}, True, "btrfs", "btrfs", "prepares a btrfs filesystem"),
    ("large_images", "ext4", "26.1.5", {"btrfs": False}, True, "overlay2", None, "falls back"),
]


@pytest.mark.parametrize("policy, fs, docker, extra, prepare, driver, prepared, fragment", SCENARIOS)
def test_scenarios(policy, fs, docker, extra, prepare, driver, prepared, fragment):
    zfs = extra.pop("zfs", None)
    result = choose(facts(fs, docker, zfs=zfs, **extra), policy, prepare_storage=prepare)
    assert result["driver"] == driver, result
    assert result["prepare"] == prepared
    assert _has(result["reasons"], fragment), result["reasons"]
    assert result["image_store"] == "graphdriver"


def test_scenario_with_no_usable_driver_is_an_error():
    result = choose(facts("ext4", "26.1.5", prior=("overlay2", "btrfs")), "general")
    assert result["driver"] == "overlay2"  # explicit choice still possible; auto is not
    auto = choose(facts("ext4", "26.1.5", prior=("overlay2", "btrfs")), "auto")
    assert auto["driver"] is None and _has(auto["errors"], "several drivers")


@pytest.mark.parametrize("fs, docker, driver, store", [
    ("ext4", "20.10.24", "overlay2", "graphdriver"),
    ("btrfs", "20.10.24", "btrfs", "graphdriver"),
    ("btrfs", "26.1.5", "overlay2", "graphdriver"),
    ("ext4", "29.0.1", "overlayfs", "containerd"),
])
def test_auto_is_dockerds_choice(fs, docker, driver, store):
    result = choose(facts(fs, docker), "auto")
    assert (result["driver"], result["image_store"], result["default_driver"]) == (driver, store, driver)
    assert result["errors"] == []
    assert _has(result["reasons"], "policy auto")


def test_auto_on_btrfs_warns_about_overlay2_anti_pattern():
    result = choose(facts("btrfs", "26.1.5"), "auto")
    assert _has(result["warnings"], "overlay2 on a btrfs backing filesystem is an anti-pattern")


# Explicit driver names: (policy, fs, docker, extra, opts) -> error fragment or None, warning fragment or None
EXPLICIT = [
    ("btrfs", "ext4", "26.1.5", {}, None, "cannot run on this host", None),
    ("overlay2", "btrfs", "26.1.5", {}, None, None, "anti-pattern"),
    ("overlay2", "zfs", "26.1.5", {"zfs": "2.2.2"}, None, None, "open bugs"),
    ("devicemapper", "ext4", "20.10.24", {"devicemapper": True}, None, "loop-lvm", None),
    ("devicemapper", "ext4", "20.10.24", {"devicemapper": True}, ["dm.thinpooldev=/dev/mapper/tp"], None,
     "deprecated"),
    ("devicemapper", "ext4", "26.1.5", {"devicemapper": True}, None, "removed in Docker 25", None),
    ("aufs", "ext4", "26.1.5", {"aufs": True}, None, "removed in Docker 24", None),
    ("aufs", "ext4", "20.10.24", {"aufs": True}, None, None, "deprecated"),
    ("overlay", "ext4", "20.10.24", {}, None, None, "use overlay2"),
    ("vfs", "ext4", "26.1.5", {}, None, None, "no copy-on-write"),
    ("fuse-overlayfs", "ext4", "26.1.5", {"fuse_overlayfs": True}, None, None, "unnecessary on kernel >= 5.11"),
    ("zfs", "zfs", "26.1.5", {"zfs": "2.3.9"}, ["size=10G"], "moby#48852", None),
    ("zfs", "zfs", "26.1.5", {"zfs": "2.3.9"}, ["zfs.fsname=tank/docker"], None, None),
    ("zfs", "zfs", "26.1.5", {"zfs": "2.3.9"}, ["zfs.fsname=tank/$(reboot)"], "not a ZFS dataset name", None),
    ("overlay2", "ext4", "26.1.5", {}, ["overlay2.size=10G"], "pquota", None),
    ("overlay2", "xfs", "26.1.5", {}, ["overlay2.size=10G"], "without pquota", None),
    ("overlay2", "xfs-pquota", "26.1.5", {}, ["overlay2.size=10G"], None, None),
    ("overlay2", "xfs-pquota", "26.1.5", {}, ["overlay2.size=lots"], "not a size", None),
    ("overlay2", "ext4", "20.10.24", {}, ["overlay2.override_kernel_check=true"], None, "no effect"),
    ("overlay2", "ext4", "23.0.6", {}, ["overlay2.override_kernel_check=true"], None, "ignored since Docker 23"),
    ("overlay2", "ext4", "24.0.9", {}, ["overlay2.override_kernel_check=true"], "unknown option since Docker 24",
     None),
    ("overlay2", "ext4", "26.1.5", {}, ["overlay2.mountopt=nodev"], "unknown to the overlay2 driver", None),
    ("overlay2", "ext4", "26.1.5", {}, ["overlay2.size"], "not of the form key=value", None),
    ("btrfs", "btrfs", "26.1.5", {}, ["btrfs.min_space=10G"], None, "quotas"),
    ("vfs", "ext4", "26.1.5", {}, ["size=5G"], "pquota", None),
    ("vfs", "xfs-pquota", "26.1.5", {}, ["size=5G"], None, None),
    ("overlayfs", "ext4", "20.10.24", {}, None, "no containerd image store", None),
    ("native", "ext4", "26.1.5", {}, ["size=5G"], None, "not used by containerd snapshotters"),
]


@pytest.mark.parametrize("policy, fs, docker, extra, opts, error, warning", EXPLICIT)
def test_explicit_driver(policy, fs, docker, extra, opts, error, warning):
    zfs = extra.pop("zfs", None)
    result = choose(facts(fs, docker, zfs=zfs, **extra), policy, storage_opts=opts)
    if error:
        assert _has(result["errors"], error), result
    else:
        assert result["errors"] == [], result["errors"]
    if warning:
        assert _has(result["warnings"], warning), result["warnings"]


def test_explicit_snapshotter_on_26_is_containerd():
    result = choose(facts("ext4", "26.1.5"), "overlayfs")
    assert (result["driver"], result["image_store"], result["errors"]) == ("overlayfs", "containerd", [])


def test_explicit_graphdriver_on_29_pins_graphdriver():
    result = choose(facts("ext4", "29.0.0"), "overlay2")
    assert (result["driver"], result["image_store"]) == ("overlay2", "graphdriver")


def test_graphdriver_name_with_snapshotter_feature_maps_to_snapshotter():
    result = choose(facts("btrfs", "29.0.0", daemon_json={"features": {"containerd-snapshotter": True}}), "btrfs")
    assert (result["driver"], result["image_store"]) == ("btrfs", "containerd")
    assert _has(result["warnings"], "io.containerd.snapshotter.v1.btrfs")


def test_storage_opts_kept_for_same_driver_and_dropped_for_another():
    same = choose(facts("xfs-pquota", "26.1.5", daemon_json={"storage-driver": "overlay2",
                                                             "storage-opts": ["Overlay2.Size=20G"]}), "overlay2")
    assert same["storage_opts"] == ["overlay2.size=20G"] and same["errors"] == []
    other = choose(facts("btrfs", "26.1.5", daemon_json={"storage-driver": "overlay2",
                                                         "storage-opts": ["overlay2.size=20G"]}), "btrfs")
    assert other["storage_opts"] == [] and _has(other["warnings"], "belong to overlay2")


def test_flag_conflicts_are_errors():
    f = facts("ext4", "26.1.5", daemon_json={"storage-driver": "overlay2"})
    f["daemon_json"]["flag_conflicts"] = [{"key": "storage-driver", "flag": "-s overlay2",
                                           "file": "/etc/systemd/system/docker.service.d/x.conf", "line": 3}]
    result = choose(f, "auto")
    assert _has(result["errors"], "docker.service.d/x.conf line 3")


@pytest.mark.parametrize("version, fragment, rules", [
    (None, "version is unknown", "29"),
    ("19.03.15", "older than 20.10", "20.10"),
    ("30.1.0", "newer than the rules known", "29"),
])
def test_version_edges_warn(version, fragment, rules):
    f = facts("ext4", version)
    result = choose(f, "auto")
    assert _has(result["warnings"], fragment) and result["rules"] == rules


def test_docker_version_override():
    result = choose(facts("btrfs", "26.1.5"), "auto", docker_version="20.10.5")
    assert result["driver"] == "btrfs" and result["rules"] == "20.10"


def _containerd(fact_dict, managed=False, btrfs=None, zfs=None):
    fact_dict["containerd"] = {"managed_by_dockerd": managed, "root": "/var/lib/containerd", "snapshotters": {
        "btrfs": {"path": "/var/lib/containerd/io.containerd.snapshotter.v1.btrfs", "fstype": btrfs},
        "zfs": {"path": "/var/lib/containerd/io.containerd.snapshotter.v1.zfs", "fstype": zfs}}}
    return fact_dict


SNAPSHOTTER_ON = {"features": {"containerd-snapshotter": True}}


def test_containerd_btrfs_snapshotter_on_ext4_is_refused_before_any_change():
    result = choose(_containerd(facts("btrfs", "29.0.0", daemon_json=SNAPSHOTTER_ON), btrfs="ext4"), "btrfs")
    assert result["image_store"] == "containerd"
    assert _has(result["errors"], "here it is on ext4"), result["errors"]
    assert _has(result["errors"], "containerd-snapshotter: false")


def test_containerd_snapshotter_on_its_own_filesystem_is_fine():
    result = choose(_containerd(facts("zfs", "29.0.0", zfs="2.3.4", daemon_json=SNAPSHOTTER_ON), zfs="zfs"), "zfs")
    assert result["errors"] == [] and not _has(result["warnings"], "snapshotter needs")


def test_dockerd_managed_containerd_follows_the_data_root_even_when_it_is_about_to_be_made():
    on_btrfs = choose(_containerd(facts("btrfs", "29.0.0", daemon_json=SNAPSHOTTER_ON), managed=True), "btrfs")
    assert on_btrfs["errors"] == []
    on_ext4 = choose(_containerd(facts("ext4", "29.0.0", daemon_json=SNAPSHOTTER_ON), managed=True), "overlayfs")
    assert on_ext4["errors"] == []                             # overlayfs needs no particular filesystem


def test_unknown_containerd_location_only_warns():
    result = choose(facts("btrfs", "29.0.0", daemon_json=SNAPSHOTTER_ON), "btrfs")
    assert result["errors"] == [] and _has(result["warnings"], "not checked")
