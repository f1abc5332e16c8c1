"""dockerd's own rules per Docker band: default pick, prior state, removed drivers, containerd store."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import (
    BANDS, DEPRECATED, GRAPHDRIVERS, REMOVED_IN, band_for, compatibility, dockerd_pick, driver_check, host_view,
)
from factsbuilder import facts


@pytest.mark.parametrize("version, since", [
    ("19.03.15", (20, 10)), ("20.10.24+dfsg1", (20, 10)), ("23.0.6", (23, 0)), ("24.0.9", (24, 0)),
    ("25.0.5", (25, 0)), ("26.1.5", (25, 0)), ("28.5.1", (25, 0)), ("29.0.0", (29, 0)), ("29.7.1", (29, 0)),
    ("31.0", (29, 0)), (None, (29, 0)),
])
def test_band_for(version, since):
    assert band_for(version).since == since


def test_bands_are_ordered_and_end_with_vfs():
    assert [b.since for b in BANDS] == sorted(b.since for b in BANDS)
    for band in BANDS:
        assert band.priority[-1] == "vfs"
        assert not set(band.removed) & set(band.priority)
        # the label column names the band's first release
        assert ".".join(str(n) for n in band.since).startswith(band.label)


def test_the_removal_releases_come_from_the_table():
    assert REMOVED_IN == {"aufs": "24", "overlay": "24", "devicemapper": "25"}
    assert "removed in 25" in DEPRECATED["devicemapper"]


# (backing fs, docker version, prior state, zfs version) -> (driver dockerd picks, image store)
DEFAULTS = [
    # Docker 20.10: btrfs and zfs win when data-root is on them.
    ("ext4", "20.10.24", (), None, "overlay2", "graphdriver"),
    ("ext4-nodtype", "20.10.24", (), None, "vfs", "graphdriver"),
    ("xfs", "20.10.24", (), None, "overlay2", "graphdriver"),
    ("xfs-ftype0", "20.10.24", (), None, "vfs", "graphdriver"),
    ("xfs-pquota", "20.10.24", (), None, "overlay2", "graphdriver"),
    ("btrfs", "20.10.24", (), None, "btrfs", "graphdriver"),
    ("zfs", "20.10.24", (), "2.1.11", "zfs", "graphdriver"),
    ("zfs", "20.10.24", (), None, "vfs", "graphdriver"),
    ("nfs", "20.10.24", (), None, "vfs", "graphdriver"),
    # Docker 23+: btrfs and zfs became opt-in (overlay2 first).
    ("btrfs", "23.0.6", (), None, "overlay2", "graphdriver"),
    ("btrfs", "26.1.5", (), None, "overlay2", "graphdriver"),
    ("zfs", "26.1.5", (), "2.1.11", "zfs", "graphdriver"),
    ("zfs", "26.1.5", (), "2.3.9", "overlay2", "graphdriver"),
    ("ext4-nodtype", "24.0.9", (), None, "vfs", "graphdriver"),
    ("xfs-ftype0", "26.1.5", (), None, "vfs", "graphdriver"),
    # Prior state: the prior driver wins; several refuse; a broken prior refuses; vfs is ignored.
    ("btrfs", "20.10.24", ("overlay2",), None, "overlay2", "graphdriver"),
    ("btrfs", "26.1.5", ("btrfs",), None, "btrfs", "graphdriver"),
    ("ext4", "26.1.5", ("vfs",), None, "overlay2", "graphdriver"),
    ("btrfs", "20.10.24", ("overlay2", "btrfs"), None, None, "graphdriver"),
    ("ext4", "26.1.5", ("btrfs",), None, None, "graphdriver"),
    ("ext4", "20.10.24", ("aufs",), None, None, "graphdriver"),
    ("ext4", "25.0.5", ("aufs",), None, "overlay2", "graphdriver"),
    ("ext4", "24.0.9", ("devicemapper", "overlay2"), None, None, "graphdriver"),
    ("ext4", "25.0.5", ("devicemapper", "overlay2"), None, "overlay2", "graphdriver"),
    ("ext4-nodtype", "26.1.5", ("overlay2",), None, "overlay2", "graphdriver"),
    # Docker 29: containerd image store on fresh installs, graphdriver with prior state.
    ("ext4", "29.0.0", (), None, "overlayfs", "containerd"),
    ("btrfs", "29.1.0", (), None, "overlayfs", "containerd"),
    ("ext4", "29.0.0", ("overlay2",), None, "overlay2", "graphdriver"),
    ("btrfs", "29.0.0", ("btrfs",), None, "btrfs", "graphdriver"),
    ("ext4", "29.0.0", ("vfs",), None, "overlayfs", "containerd"),
    # the containerd store starts with an unusable snapshotter (seen on Docker 28: btrfs on ext4); usable False
    ("ext4-nodtype", "29.0.0", (), None, "overlayfs", "containerd"),
]


@pytest.mark.parametrize("fs, docker, prior, zfs, driver, store", DEFAULTS)
def test_dockerd_default(fs, docker, prior, zfs, driver, store):
    host = host_view(facts(fs, docker, prior, zfs))
    pick = dockerd_pick(host, band_for(docker))
    assert (pick["driver"], pick["image_store"]) == (driver, store), pick["reason"]
    assert pick["reason"]


def test_several_prior_drivers_message_names_them():
    pick = dockerd_pick(host_view(facts("btrfs", "20.10.24", ("overlay2", "btrfs"))), band_for("20.10"))
    assert "several drivers" in pick["reason"] and "btrfs, overlay2" in pick["reason"]


@pytest.mark.parametrize("config, driver, store", [
    ({"features": {"containerd-snapshotter": False}}, "overlay2", "graphdriver"),
    ({"features": {"containerd-snapshotter": True}}, "overlayfs", "containerd"),
    ({"userns-remap": "default"}, "overlay2", "graphdriver"),
    ({"storage-driver": "overlay2"}, "overlay2", "graphdriver"),
    ({"storage-driver": "vfs"}, "vfs", "graphdriver"),
    ({"storage-driver": "native"}, "native", "containerd"),
    # Docker 28 reports the name as written on the containerd store (molecule/containerd's oracle)
    ({"storage-driver": "overlay2", "features": {"containerd-snapshotter": True}}, "overlay2", "containerd"),
    ({"storage-driver": "btrfs"}, None, "graphdriver"),
])
def test_docker29_config(config, driver, store):
    pick = dockerd_pick(host_view(facts("ext4", "29.1.0")), band_for("29.1.0"), config)
    assert (pick["driver"], pick["image_store"]) == (driver, store), pick["reason"]


@pytest.mark.parametrize("version", ["20.10.24", "23.0.1", "26.1.5"])
def test_containerd_store_needs_opt_in_before_29(version):
    pick = dockerd_pick(host_view(facts("ext4", version)), band_for(version), {})
    assert pick["image_store"] == "graphdriver"
    opted = dockerd_pick(host_view(facts("ext4", version)), band_for(version),
                         {"features": {"containerd-snapshotter": True}})
    assert opted["image_store"] == ("graphdriver" if version.startswith(("20.", "23.")) else "containerd")


# (driver, backing fs, docker, extra facts) -> ok, reason fragment
CHECKS = [
    ("overlay2", "ext4", "26.1.5", {}, True, "supports d_type"),
    ("overlay2", "ext4-nodtype", "26.1.5", {}, False, "no d_type"),
    ("overlay2", "xfs-ftype0", "20.10.24", {}, False, "ftype=1"),
    ("overlay2", "nfs", "26.1.5", {}, False, "nfs4"),
    ("overlay2", "overlay", "26.1.5", {}, False, "overlay"),
    ("overlay2", "ext4", "26.1.5", {"overlay": False}, False, "modprobe overlay"),
    ("overlay2", "zfs", "26.1.5", {"zfs_version": "2.1.11"}, False, "OpenZFS >= 2.2"),
    ("overlay2", "zfs", "26.1.5", {"zfs_version": "2.2.0"}, True, "open bugs"),
    ("overlay2", "btrfs", "26.1.5", {}, True, "native choice"),
    ("overlay", "ext4", "20.10.24", {}, True, "d_type"),
    ("overlay", "ext4", "24.0.0", {}, False, "removed in Docker 24"),
    ("aufs", "ext4", "20.10.24", {}, False, "/proc/filesystems"),
    ("aufs", "ext4", "20.10.24", {"aufs": True}, True, "aufs"),
    ("aufs", "ext4", "24.0.0", {"aufs": True}, False, "removed in Docker 24"),
    ("devicemapper", "ext4", "20.10.24", {}, False, "udev"),
    ("devicemapper", "ext4", "24.0.9", {"devicemapper": True}, True, "loop-lvm"),
    ("devicemapper", "ext4", "25.0.0", {"devicemapper": True}, False, "removed in Docker 25"),
    ("btrfs", "btrfs", "26.1.5", {}, True, "on btrfs"),
    ("btrfs", "xfs", "26.1.5", {}, False, "data-root is on xfs"),
    ("zfs", "zfs", "26.1.5", {}, False, "zfs command is missing"),
    ("zfs", "zfs", "26.1.5", {"zfs": True, "zfs_device": False}, False, "/dev/zfs"),
    ("zfs", "ext4", "26.1.5", {"zfs": True, "zfs_device": True}, False, "ZFS dataset"),
    ("zfs", "zfs", "26.1.5", {"zfs": True, "zfs_device": True}, True, "ZFS dataset"),
    ("vfs", "nfs", "26.1.5", {}, True, "full"),
    ("fuse-overlayfs", "ext4", "26.1.5", {}, False, "missing"),
    ("fuse-overlayfs", "ext4", "26.1.5", {"fuse_overlayfs": True}, True, "present"),
    ("nosuch", "ext4", "26.1.5", {}, False, "unknown storage driver"),
]


@pytest.mark.parametrize("driver, fs, docker, extra, ok, fragment", CHECKS)
def test_driver_check(driver, fs, docker, extra, ok, fragment):
    result_ok, reason = driver_check(driver, host_view(facts(fs, docker, **extra)), band_for(docker))
    assert result_ok is ok
    assert fragment in reason


def test_kernel_too_old_for_overlay2():
    ok, reason = driver_check("overlay2", host_view(facts("ext4", kernel="3.10.0")), band_for("20.10"))
    assert not ok and "older than 4.0" in reason


def test_d_type_missing_is_accepted_with_prior_overlay2_state():
    ok, reason = driver_check("overlay2", host_view(facts("ext4-nodtype", prior=("overlay2",))), band_for("26.1"))
    assert ok and "already exists" in reason


def test_compatibility_covers_every_known_driver():
    result = compatibility(host_view(facts("btrfs", "20.10.24")), band_for("20.10"))
    assert set(result) == set(GRAPHDRIVERS)
    assert result["btrfs"]["ok"] and result["vfs"]["ok"] and not result["zfs"]["ok"]
    assert all(isinstance(v["reason"], str) and v["reason"] for v in result.values())


@pytest.mark.parametrize("fs, wanted, reported, usable", [
    ("ext4", "btrfs", "btrfs", False), ("ext4", "zfs", "zfs", False), ("ext4", "vfs", "vfs", True),
    ("ext4", "overlay2", "overlay2", True), ("ext4", None, "overlayfs", True), ("btrfs", "btrfs", "btrfs", True),
])
def test_the_containerd_store_as_docker_28_runs_it(fs, wanted, reported, usable):
    """What molecule/containerd's oracle saw on Docker 28.5.2: with features.containerd-snapshotter on, dockerd
    starts with whatever snapshotter is named and reports the name as written; whether that snapshotter can work
    on the filesystem is ``usable`` (the role's choice refuses an unusable one)."""
    config = dict({"features": {"containerd-snapshotter": True}}, **({"storage-driver": wanted} if wanted else {}))
    pick = dockerd_pick(host_view(facts(fs, "28.5.2")), band_for("28.5.2"), config)
    assert (pick["driver"], pick["image_store"], pick["usable"]) == (reported, "containerd", usable), pick["reason"]
