"""A host prepared before Docker was installed: btrfs at the data-root, Docker on it, the tools the role installed."""

from __future__ import annotations

import json


def test_the_role_installed_the_tools(host):
    assert host.package("btrfs-progs").is_installed
    assert host.package("zfsutils-linux").is_installed


def test_docker_on_the_prepared_btrfs(host):
    mount = host.mount_point("/var/lib/docker")
    assert mount.exists and mount.filesystem == "btrfs"
    assert host.check_output("docker info --format '{{.Driver}}'") == "btrfs"
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["storage-driver"] == "btrfs"


def test_a_container_runs(host):
    assert host.check_output("docker run --rm cowstack/busybox:1 /bin/busybox echo hello") == "hello"
