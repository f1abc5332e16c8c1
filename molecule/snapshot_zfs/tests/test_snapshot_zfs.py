"""Verify the snapshot_zfs scenario (after its reboot) by asking ZFS, cron and Docker directly."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]

POOL = "dockerpool"
FOREIGN = ["zfs-auto-snap_daily-2024-01-01-0000", "before-upgrade", "autosnap_2024-01-01_00:00:00_daily"]


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def snapshots(host, dataset):
    out = run(host, "zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", dataset)
    return [line.split("@", 1)[1] for line in out.splitlines()]


def test_cron_entry_survives_the_reboot(host):
    cron = host.file("/etc/cron.d/cowstack-docker-storage-snapshot")
    assert cron.exists and cron.user == "root"
    assert ("*/30 * * * * root /usr/local/sbin/cowstack-snapshot --config "
            "/etc/cowstack-docker-storage/snapshot.json") in cron.content_string
    assert not host.file("/etc/systemd/system/cowstack-docker-storage-snapshot.timer").exists
    assert host.service("cron").is_running


def test_tool_config_and_retention_code_installed(host):
    assert host.file("/usr/local/sbin/cowstack-snapshot").mode == 0o755
    assert host.file("/usr/local/lib/cowstack-docker-storage/cowstack-snapshot.py").exists
    assert host.file("/usr/local/lib/cowstack-docker-storage/_retention.py").exists
    config = host.file("/etc/cowstack-docker-storage/snapshot.json")
    assert config.mode == 0o600 and config.user == "root"
    assert host.run("/usr/local/sbin/cowstack-snapshot --check-config").rc == 0


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


def test_docker_removed_the_image(host):
    images = run(host, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
    assert "cowstack/busybox:2" not in images and "cowstack/busybox:1" in images


def test_monitoring_check(host):
    cmd = host.run("/usr/local/sbin/cowstack-snapshot --check --warn 2h --critical 1d")
    assert cmd.rc == 0 and cmd.stdout.startswith("SNAPSHOTS OK"), cmd.stdout


def test_prune_benchmark_is_constant_in_commands(host):
    """bench/prune.py in the guest: 10,000 of ours (+100 others) over 25 datasets, pruned as planned with a
    number of zfs commands bounded per target, not per snapshot (the figures are in the molecule log)."""
    report = host.file("/root/prune-bench.txt").content_string
    assert "prune 10000 of ours in 25 target(s)" in report, report
    assert "result as planned: True" in report and "others left untouched: 100/100" in report, report
    assert "goal (commands constant in the number of snapshots: <= 8 per target, result as planned): met" in report
    assert not run(host, "zfs", "list", "-H", "-o", "name", "-r", POOL).count("cowstack-bench-")
