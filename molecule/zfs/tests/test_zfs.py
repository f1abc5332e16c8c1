"""Verify the zfs scenario by asking ZFS and Docker directly (not the collection's modules)."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]

DATASET = "dockerpool/docker"


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def test_pool_on_the_virtio_disk(host):
    status = run(host, "zpool", "status", "-P", "dockerpool")
    assert "virtio-cowstack-disk1" in status or "/dev/vdb" in status, status
    assert "ONLINE" in status
    assert run(host, "zpool", "get", "-H", "-p", "-o", "value", "ashift", "dockerpool") == "12"


def test_dataset_properties(host):
    out = run(host, "zfs", "get", "-H", "-p", "-o", "property,value",
              "compression,atime,checksum,dedup,mountpoint,mounted,com.sun:auto-snapshot", DATASET)
    props = dict(line.split("\t") for line in out.splitlines())
    assert props == {"compression": "lz4", "atime": "off", "checksum": "sha256", "dedup": "off",
                     "mountpoint": "/var/lib/docker", "mounted": "yes", "com.sun:auto-snapshot": "false"}


def test_docker_runs_zfs_on_the_dataset(host):
    info = json.loads(run(host, "docker", "info", "--format", "{{json .}}"))
    assert info["Driver"] == "zfs"
    assert info["DockerRootDir"] == "/var/lib/docker"
    status = dict(info["DriverStatus"])
    assert status.get("Parent Dataset") == DATASET


def test_same_image_ids_and_tags_after_the_switch(host):
    before = host.file("/root/images_before.txt").content_string.split("\n")
    now = run(host, "docker", "image", "ls", "--all", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    assert sorted(filter(None, before)) == sorted(now.splitlines())


def test_foreign_daemon_json_keys_survive(host):
    before = json.loads(host.file("/root/daemon.json.before").content_string)
    now = json.loads(host.file("/etc/docker/daemon.json").content_string)
    for key in ("log-driver", "log-opts", "runtimes"):
        assert json.dumps(now[key]) == json.dumps(before[key])
    assert list(now)[:3] == list(before)[:3]
    assert now["storage-driver"] == "zfs"
    assert host.file("/etc/docker/daemon.json").mode == 0o644


def test_previous_state_kept_aside(host):
    assert host.file("/var/lib/docker.cowstack-overlay2").is_directory
    assert host.file("/var/lib/docker.cowstack-overlay2/overlay2").is_directory


def test_docker_waits_for_zfs(host):
    dropin = host.file("/etc/systemd/system/docker.service.d/10-cowstack-storage.conf").content_string
    assert "RequiresMountsFor=/var/lib/docker" in dropin and "zfs-mount.service" in dropin
    for unit in ("zfs-import-cache.service", "zfs-mount.service"):
        assert host.service(unit).is_enabled


def test_volume_carried_over_by_the_switch(host):
    assert "cowstack-data" in run(host, "docker", "volume", "ls", "--format", "{{.Name}}").split()
    out = run(host, "docker", "run", "--rm", "--volume", "cowstack-data:/data", "cowstack/busybox:1",
              "/bin/busybox", "cat", "/data/kept.txt")
    assert out == "kept"
    assert host.file("/var/lib/docker.cowstack-overlay2/volumes/cowstack-data/_data/kept.txt").content_string == "kept\n"
