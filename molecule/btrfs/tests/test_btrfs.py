"""Verify the btrfs scenario (after its reboot) by asking the kernel, btrfs and Docker directly."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]

DISK = "/dev/disk/by-id/virtio-cowstack-disk1"


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


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
    before = json.loads(host.file("/root/daemon.json.before").content_string)
    now = json.loads(host.file("/etc/docker/daemon.json").content_string)
    for key in ("log-driver", "log-opts", "runtimes"):
        assert json.dumps(now[key]) == json.dumps(before[key])
    assert list(now)[:3] == list(before)[:3]
    assert now["storage-driver"] == "btrfs"
    assert host.file("/etc/docker/daemon.json").mode == 0o644


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


def test_volume_carried_over_by_the_switch(host):
    assert "cowstack-data" in run(host, "docker", "volume", "ls", "--format", "{{.Name}}").split()
    out = run(host, "docker", "run", "--rm", "--volume", "cowstack-data:/data", "cowstack/busybox:1",
              "/bin/busybox", "cat", "/data/kept.txt")
    assert out == "kept"
    # the source is kept where the previous state was moved aside
    assert host.file("/var/lib/docker.cowstack-overlay2/volumes/cowstack-data/_data/kept.txt").content_string == "kept\n"
