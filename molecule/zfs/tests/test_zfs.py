"""Verify the zfs scenario by asking ZFS and Docker directly (not the collection's modules)."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "testinfra"))
# pylint: disable=wrong-import-position,unused-import
from switch_common import (  # noqa: E402,F401  (pytest collects the shared test here)
    assert_foreign_keys_kept, run, test_volume_carried_over_by_the_switch)

testinfra_hosts = ["all"]

DATASET = "dockerpool/docker"


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
    assert_foreign_keys_kept(host, "zfs")


def test_previous_state_kept_aside(host):
    assert host.file("/var/lib/docker.cowstack-overlay2").is_directory
    assert host.file("/var/lib/docker.cowstack-overlay2/overlay2").is_directory


def test_docker_waits_for_zfs(host):
    dropin = host.file("/etc/systemd/system/docker.service.d/10-cowstack-storage.conf").content_string
    assert "RequiresMountsFor=/var/lib/docker" in dropin and "zfs-mount.service" in dropin
    for unit in ("zfs-import-cache.service", "zfs-mount.service"):
        assert host.service(unit).is_enabled
