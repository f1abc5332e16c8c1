"""Verify the lab scenario (after its reboot) by asking the kernel, btrfs and Docker directly."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def test_loop_device_is_back(host):
    out = run(host, "losetup", "--noheadings", "--output", "NAME,BACK-FILE", "--list")
    assert "/var/lib/cowstack/docker-lab.img" in out
    assert host.service("cowstack-docker-storage-lab.service").is_enabled


def test_mounted_with_compression_and_noatime(host):
    fields = run(host, "findmnt", "--noheadings", "--output", "FSTYPE,OPTIONS", "/var/lib/docker").split()
    assert fields[0] == "btrfs"
    options = fields[1].split(",")
    assert "compress=zstd:3" in options and "noatime" in options and "subvol=/@docker" in options


def test_fstab_by_uuid_waits_for_the_loop_unit(host):
    uuid = run(host, "findmnt", "--noheadings", "--output", "UUID", "/var/lib/docker")
    lines = [ln for ln in host.file("/etc/fstab").content_string.splitlines() if " /var/lib/docker " in ln]
    assert len(lines) == 1
    assert lines[0].startswith("UUID=%s /var/lib/docker btrfs " % uuid)
    assert "x-systemd.requires=cowstack-docker-storage-lab.service" in lines[0]


def test_compressible_data_takes_less_space(host):
    # btrfs filesystem du --raw: Total Exclusive Set-shared Filename
    line = host.file("/root/compress-du.txt").content_string.strip().splitlines()[-1].split()
    total, exclusive = int(line[0]), int(line[1])
    assert total == 256 * 1024 * 1024
    # du counts logical bytes; the physical usage is read from the extent sizes via compsize-like stats:
    usage = run(host, "btrfs", "filesystem", "usage", "--raw", "/var/lib/docker")
    used = [int(ln.split()[-1]) for ln in usage.splitlines() if ln.strip().startswith("Used:")][0]
    assert used < 64 * 1024 * 1024, usage
    assert exclusive >= 0


def test_docker_on_btrfs(host):
    info = json.loads(run(host, "docker", "info", "--format", "{{json .}}"))
    assert info["Driver"] == "btrfs" and info["DockerRootDir"] == "/var/lib/docker"
    assert "cowstack/busybox:1" in run(host, "docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
