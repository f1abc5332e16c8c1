"""Checks both snapshot scenarios (snapshot_zfs, snapshot_btrfs) share: the schedule after the reboot, the installed
tool and its config, Docker still removing an image after a run, and the monitoring check. A scenario's test file
imports the ``test_*`` functions it wants; pytest collects them there."""

from __future__ import annotations

import shlex

CRON_LINE = ("*/30 * * * * root /usr/local/sbin/cowstack-snapshot --config "
             "/etc/cowstack-docker-storage/snapshot.json")


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def test_cron_entry_survives_the_reboot(host):
    cron = host.file("/etc/cron.d/cowstack-docker-storage-snapshot")
    assert cron.exists and cron.user == "root"
    assert CRON_LINE in cron.content_string
    assert not host.file("/etc/systemd/system/cowstack-docker-storage-snapshot.timer").exists
    assert host.service("cron").is_running


def test_tool_config_and_retention_code_installed(host):
    assert host.file("/usr/local/sbin/cowstack-snapshot").mode == 0o755
    assert host.file("/usr/local/lib/cowstack-docker-storage/cowstack-snapshot.py").exists
    assert host.file("/usr/local/lib/cowstack-docker-storage/_retention.py").exists
    config = host.file("/etc/cowstack-docker-storage/snapshot.json")
    assert config.mode == 0o600 and config.user == "root"
    assert host.run("/usr/local/sbin/cowstack-snapshot --check-config").rc == 0


def test_docker_removed_the_image(host):
    images = run(host, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
    assert "cowstack/busybox:2" not in images and "cowstack/busybox:1" in images


def test_monitoring_check(host):
    cmd = host.run("/usr/local/sbin/cowstack-snapshot --check --warn 2h --critical 1d")
    assert cmd.rc == 0 and cmd.stdout.startswith("SNAPSHOTS OK"), cmd.stdout
