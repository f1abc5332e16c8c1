"""Modern Docker in the pure rules: the API version negotiated, messages naming the real version, Docker 29.0.0's
reading of storage-driver zfs as a snapshotter, and the default image store following daemon.json's feature."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._docker_info import negotiate
from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import (
    band_for, band_label, dockerd_pick, host_view, image_store_decision, rules_label,
)
from factsbuilder import facts


@pytest.mark.parametrize("version, asked", [
    ({"ApiVersion": "1.41", "MinAPIVersion": "1.12"}, "1.41"),   # Docker 20.10
    ({"ApiVersion": "1.51", "MinAPIVersion": "1.24"}, "1.51"),   # 28.5
    ({"ApiVersion": "1.52", "MinAPIVersion": "1.44"}, "1.52"),   # 29.0
    ({"ApiVersion": "1.54", "MinAPIVersion": "1.40"}, "1.52"),   # 29.3: newer than what the facts read
    ({"ApiVersion": "1.60", "MinAPIVersion": "1.55"}, "1.55"),   # a future daemon that refuses 1.52
    ({}, None),
])
def test_api_version_negotiated(version, asked):
    assert negotiate(version) == asked


def test_messages_name_the_real_version_and_rules_the_band():
    band = band_for("28.5.2+dfsg4")
    assert band_label(band) == "28.5.2" and rules_label(band) == "25"
    result = choose(facts("ext4", "28.5.2"), "auto")
    assert any("Docker 28.5.2's own choice" in r for r in result["reasons"]), result["reasons"]
    assert result["rules"] == "25"
    assert band_label(band_for(None)) == "29"


@pytest.mark.parametrize("version, driver, store", [
    ("29.0.0", "zfs", "containerd"),
    ("29.0.0", "fuse-overlayfs", "containerd"),
    ("29.0.0", "btrfs", "graphdriver"),
    ("29.0.0", "overlay2", "graphdriver"),
    ("29.0.1", "zfs", "graphdriver"),
    ("29.1.3", "zfs", "graphdriver"),
    ("28.5.2", "zfs", "graphdriver"),
])
def test_docker_29_0_0_reads_zfs_as_a_snapshotter(version, driver, store):
    host = host_view(facts("zfs", version, zfs="2.3.9"))
    assert image_store_decision(host, band_for(version), {"storage-driver": driver})[0] == store


def test_the_29_0_0_trap_is_warned_about_and_the_pin_avoids_it():
    result = choose(facts("zfs", "29.0.0", zfs="2.3.9"), "zfs")
    assert result["image_store"] == "containerd" and result["driver"] == "zfs"
    assert any("moby#51475" in w and "features.containerd-snapshotter to false" in w for w in result["warnings"])
    pinned = choose(facts("zfs", "29.0.0", zfs="2.3.9", daemon_json={"features": {"containerd-snapshotter": False}}),
                    "zfs")
    assert pinned["image_store"] == "graphdriver" and not any("moby#51475" in w for w in pinned["warnings"])


def test_default_image_store_follows_the_feature_in_daemon_json():
    """A Docker 26 host with the containerd store switched on: dockerd would pick the overlayfs snapshotter, not
    overlay2 (the facts used to say overlay2 beside 'overlayfs (containerd store)')."""
    host = host_view(facts("ext4", "26.1.5"))
    on = dockerd_pick(host, band_for("26.1.5"), {"features": {"containerd-snapshotter": True}})
    assert (on["driver"], on["image_store"]) == ("overlayfs", "containerd")
    off = dockerd_pick(host, band_for("26.1.5"), {"features": {}})
    assert (off["driver"], off["image_store"]) == ("overlay2", "graphdriver")


def test_overlay2_on_zfs_per_openzfs_version():
    old = choose(facts("zfs", "26.1.5", zfs="2.1.11"), "overlay2")
    assert old["errors"] and "OpenZFS >= 2.2" in " ".join(old["errors"])
    new = choose(facts("zfs", "26.1.5", zfs="2.3.9"), "overlay2")
    assert not new["errors"] and any("moby#51546" in w for w in new["warnings"])
