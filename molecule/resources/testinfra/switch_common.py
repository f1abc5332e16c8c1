"""Checks the switch scenarios (zfs: save_load, btrfs: accept_hidden) share: the keys other tools own in
daemon.json survive byte for byte and in order, and the named volume written before the switch is carried over."""

from __future__ import annotations

import json
import shlex


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def assert_foreign_keys_kept(host, driver):
    before = json.loads(host.file("/root/daemon.json.before").content_string)
    now = json.loads(host.file("/etc/docker/daemon.json").content_string)
    for key in ("log-driver", "log-opts", "runtimes"):
        assert json.dumps(now[key]) == json.dumps(before[key])
    assert list(now)[:3] == list(before)[:3]
    assert now["storage-driver"] == driver
    assert host.file("/etc/docker/daemon.json").mode == 0o644


def test_volume_carried_over_by_the_switch(host):
    assert "cowstack-data" in run(host, "docker", "volume", "ls", "--format", "{{.Name}}").split()
    out = run(host, "docker", "run", "--rm", "--volume", "cowstack-data:/data", "cowstack/busybox:1",
              "/bin/busybox", "cat", "/data/kept.txt")
    assert out == "kept"
    # the source is kept where the previous state was moved aside
    assert host.file("/var/lib/docker.cowstack-overlay2/volumes/cowstack-data/_data/kept.txt").content_string == "kept\n"
