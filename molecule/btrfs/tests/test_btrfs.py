"""Verify the btrfs scenario (after its reboot) by asking the kernel, btrfs and Docker directly."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "testinfra"))
# pylint: disable=wrong-import-position,unused-import
from switch_common import (  # noqa: E402,F401  (pytest collects the shared test here)
    assert_foreign_keys_kept, run, test_volume_carried_over_by_the_switch)
from snapshot_common import (  # noqa: E402,F401  (the whole stack: the role installed the snapshot schedule)
    test_cron_entry_survives_the_reboot, test_tool_config_and_retention_code_installed)

testinfra_hosts = ["all"]

DISK = "/dev/disk/by-id/virtio-cowstack-disk1"


def test_filesystem_on_the_virtio_disk_with_xxhash(host):
    assert run(host, "blkid", "-p", "-o", "value", "-s", "TYPE", DISK) == "btrfs"
    super_block = run(host, "btrfs", "inspect-internal", "dump-super", DISK)
    csum = [ln.split(None, 1)[1] for ln in super_block.splitlines() if ln.startswith("csum_type")]
    assert csum and "xxhash" in csum[0], super_block


def test_mounted_with_compression_and_noatime(host):
    fields = run(host, "findmnt", "--noheadings", "--output", "FSTYPE,OPTIONS", "/var/lib/docker").split()
    assert fields[0] == "btrfs"
    options = fields[1].split(",")
    assert "compress=zstd:3" in options and "noatime" in options and "subvol=/@docker" in options


def test_fstab_by_uuid(host):
    uuid = run(host, "blkid", "-p", "-o", "value", "-s", "UUID", DISK)
    lines = [ln for ln in host.file("/etc/fstab").content_string.splitlines() if " /var/lib/docker " in ln]
    assert len(lines) == 1
    fields = lines[0].split()
    assert fields[:3] == ["UUID=%s" % uuid, "/var/lib/docker", "btrfs"]
    assert {"noatime", "compress=zstd:3", "subvol=@docker"} <= set(fields[3].split(","))


def test_compressible_data_takes_less_space(host):
    # btrfs filesystem du --raw: Total Exclusive Set-shared Filename (logical bytes)
    total = int(host.file("/root/compress-du.txt").content_string.strip().splitlines()[-1].split()[0])
    assert total == 256 * 1024 * 1024
    # the allocated data on the whole filesystem stays far below the 256 MiB written
    usage = run(host, "btrfs", "filesystem", "usage", "--raw", "/var/lib/docker")
    used = [int(ln.split()[-1]) for ln in usage.splitlines() if ln.strip().startswith("Used:")][0]
    assert used < 96 * 1024 * 1024, usage


def test_docker_on_btrfs_with_the_foreign_keys(host):
    info = json.loads(run(host, "docker", "info", "--format", "{{json .}}"))
    assert info["Driver"] == "btrfs" and info["DockerRootDir"] == "/var/lib/docker"
    assert_foreign_keys_kept(host, "btrfs")


def test_images_of_this_run_and_the_hidden_ones_kept_aside(host):
    now = run(host, "docker", "image", "ls", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    assert sorted(now.splitlines()) == sorted(filter(None, host.file("/root/images_before.txt").content_string.split("\n")))
    # accept_hidden: the overlay2 images are not in the btrfs store but their state is on disk, moved aside
    repositories = json.loads(host.file("/var/lib/docker.cowstack-overlay2/image/overlay2/repositories.json").content_string)
    tags = {tag for repo in repositories.get("Repositories", {}).values() for tag in repo}
    assert {"cowstack/busybox:1", "cowstack/busybox:2"} <= tags
    assert host.file("/var/lib/docker.cowstack-overlay2/overlay2").is_directory


def test_docker_waits_for_the_mount(host):
    dropin = host.file("/etc/systemd/system/docker.service.d/10-cowstack-storage.conf").content_string
    assert "RequiresMountsFor=/var/lib/docker" in dropin
