"""Verify the snapshot_btrfs scenario (after its reboot) by asking btrfs, cron and Docker directly."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]

SNAPS = "/srv/pool/home/.snapshots"
FOREIGN = ["zfs-auto-snap_daily-2024-01-01-0000", "before-upgrade", "home.20240101T0000"]


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def snapshots(host, directory):
    """Read-only subvolumes directly in ``directory``."""
    out = run(host, "btrfs", "subvolume", "list", "-r", "-o", directory)
    return sorted(line.rsplit("/", 1)[-1] for line in out.splitlines() if "/.snapshots/" in line)


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


def test_docker_removed_the_image(host):
    images = run(host, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
    assert "cowstack/busybox:2" not in images and "cowstack/busybox:1" in images


def test_monitoring_check(host):
    cmd = host.run("/usr/local/sbin/cowstack-snapshot --check --warn 2h --critical 1d")
    assert cmd.rc == 0 and cmd.stdout.startswith("SNAPSHOTS OK"), cmd.stdout
