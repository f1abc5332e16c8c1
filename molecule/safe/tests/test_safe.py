"""Verify the safe scenario: nothing the user had is lost, Docker runs on the previous configuration."""

from __future__ import annotations

import json
import shlex

testinfra_hosts = ["all"]


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def test_the_ext4_file_is_still_there(host):
    device = "/dev/disk/by-id/virtio-cowstack-disk1"
    assert run(host, "blkid", "-p", "-o", "value", "-s", "TYPE", device) == "ext4"
    host.run_expect([0], "mkdir -p /mnt/check && mount -o ro %s /mnt/check" % device)
    try:
        assert host.file("/mnt/check/precious.txt").content_string == "keep me\n"
    finally:
        host.run("umount /mnt/check")


def test_foreign_keys_survive_every_run(host):
    before = json.loads(host.file("/root/daemon.json.before").content_string)
    now = json.loads(host.file("/etc/docker/daemon.json").content_string)
    for key in before:
        assert json.dumps(now[key]) == json.dumps(before[key])
    assert list(now)[:len(before)] == list(before)
    assert now["storage-driver"] == "overlay2"


def test_docker_runs_on_the_previous_configuration(host):
    info = json.loads(run(host, "docker", "info", "--format", "{{json .}}"))
    assert info["Driver"] == "overlay2"
    assert not host.file("/etc/systemd/system/docker.service.d/50-flags.conf").exists
