"""Verify the snapshot_btrfs scenario (after its reboot) by asking btrfs, cron and Docker directly."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "testinfra"))
# pylint: disable=wrong-import-position,unused-import
from snapshot_common import (  # noqa: E402,F401  (pytest collects the shared tests here)
    run, test_cron_entry_survives_the_reboot, test_docker_removed_the_image, test_monitoring_check,
    test_tool_config_and_retention_code_installed)

testinfra_hosts = ["all"]

SNAPS = "/srv/pool/home/.snapshots"
FOREIGN = ["zfs-auto-snap_daily-2024-01-01-0000", "before-upgrade", "home.20240101T0000"]


def snapshots(host, directory):
    """Read-only subvolumes directly in ``directory``."""
    out = run(host, "btrfs", "subvolume", "list", "-r", "-o", directory)
    return sorted(line.rsplit("/", 1)[-1] for line in out.splitlines() if "/.snapshots/" in line)


def test_run_created_and_pruned_and_others_survived(host):
    premade = host.file("/root/snap_premade.txt").content_string.split()
    left = host.file(SNAPS).listdir()
    for name in FOREIGN:
        assert name in left
    ours = [n for n in left if n.startswith("cowstack_")]
    assert 1 <= len(ours) <= 5, ours
    assert premade[0] not in left and len(set(premade) & set(left)) <= 4
    assert set(ours) <= set(snapshots(host, "/srv/pool/home")), "our snapshots are read-only subvolumes"
    report = json.loads(host.file("/root/snap_run.json").content_string)
    assert all(t["error"] is None for t in report["targets"])
    assert report["commands"] <= 4


def test_data_root_snapshotted_without_the_layers(host):
    names = [n for n in host.file("/var/lib/docker/.snapshots").listdir() if n.startswith("cowstack_")]
    assert names
    newest = "/var/lib/docker/.snapshots/" + sorted(names)[-1]
    # nested subvolumes (Docker's layers) are empty directories in the snapshot, not copies
    layers = host.file(newest + "/btrfs/subvolumes").listdir()
    assert all(host.file("%s/btrfs/subvolumes/%s" % (newest, layer)).listdir() == [] for layer in layers)
    listing = run(host, "btrfs", "subvolume", "list", "-o", "/srv/pool")
    assert not any("btrfs/subvolumes/" in line and ".snapshots" in line for line in listing.splitlines())
