"""Verify the snapshot_zfs scenario (after its reboot) by asking ZFS, cron and Docker directly."""

from __future__ import annotations

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "testinfra"))
# pylint: disable=wrong-import-position,unused-import
from snapshot_common import (  # noqa: E402,F401  (pytest collects the shared tests here)
    run, test_cron_entry_survives_the_reboot, test_docker_removed_the_image, test_monitoring_check,
    test_tool_config_and_retention_code_installed)

testinfra_hosts = ["all"]

POOL = "dockerpool"
FOREIGN = ["zfs-auto-snap_daily-2024-01-01-0000", "before-upgrade", "autosnap_2024-01-01_00:00:00_daily"]


def snapshots(host, dataset):
    out = run(host, "zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", dataset)
    return [line.split("@", 1)[1] for line in out.splitlines()]


def test_run_created_and_pruned_and_others_survived(host):
    premade = host.file("/root/snap_premade.txt").content_string.split()
    left = snapshots(host, POOL + "/home")
    for name in FOREIGN:
        assert name in left
    ours = [n for n in left if n.startswith("cowstack_")]
    # hourly 3, daily 2: at most 3 + 2 of ours after every run; the pre-made ones beyond the policy are gone
    assert 1 <= len(ours) <= 5, ours
    assert premade[0] not in left and len(set(premade) & set(left)) <= 4
    report = json.loads(host.file("/root/snap_run.json").content_string)
    assert all(t["error"] is None for t in report["targets"])
    assert report["commands"] <= 6


def test_docker_layers_never_snapshotted_and_opted_out(host):
    out = run(host, "zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", POOL + "/docker")
    assert all(line.startswith(POOL + "/docker@cowstack_") for line in out.splitlines()), out
    assert run(host, "zfs", "get", "-H", "-o", "value", "com.sun:auto-snapshot", POOL + "/docker") == "false"


def test_prune_benchmark_is_constant_in_commands(host):
    """bench/prune.py in the guest: 10,000 of ours (+100 others; a tenth on Debian 12) spread over datasets, pruned
    as planned with a number of zfs commands bounded per target, not per snapshot (figures in the molecule log)."""
    report = host.file("/root/prune-bench.txt").content_string
    match = re.search(r"prune (\d+) of ours in (\d+) target\(s\) \(\+(\d+) others\)", report)
    assert match and int(match.group(1)) >= 1000 and int(match.group(3)) > 0, report
    others = int(match.group(3))
    assert "result as planned: True" in report and "others left untouched: %d/%d" % (others, others) in report, report
    assert "goal (commands constant in the number of snapshots: <= 8 per target, result as planned): met" in report
    assert not run(host, "zfs", "list", "-H", "-o", "name", "-r", POOL).count("cowstack-bench-")
