"""Check, independently of the module, what storage_facts reported inside the VM.

Converge saved the facts to /root/storage_facts.json (and, on the Debian 12 VM, the facts for the
XFS V4 data-root to /root/storage_facts_xfsv4.json); these tests ask the system itself.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

testinfra_hosts = ["all"]


def facts(host, path="/root/storage_facts.json"):
    f = host.file(path)
    assert f.exists, f"{path} missing: converge did not run"
    return json.loads(f.content_string)


def run(host, *argv):
    return host.check_output(shlex.join(argv)).strip()


def test_kernel(host):
    ds = facts(host)
    release = run(host, "uname", "-r")
    assert ds["kernel"]["release"] == release
    assert ds["kernel"]["version"] == [int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", release).groups()]


def test_zfs_version(host):
    ds = facts(host)
    out = run(host, "zfs", "version")
    # zfs-2.1.11-1 / zfs-kmod-2.1.11-1: the kernel module's version is what the module reports
    kmod = re.search(r"^zfs-kmod-(\S+)$", out, re.M)
    assert kmod, out
    assert ds["available"]["zfs_version"] == kmod.group(1)
    assert ds["available"]["zfs"] is True
    assert host.file("/dev/zfs").exists


def test_backing_fs(host):
    ds = facts(host)
    target, fstype, source = run(host, "findmnt", "--noheadings", "--output", "TARGET,FSTYPE,SOURCE",
                                 "--target", ds["data_root"]).split()
    assert ds["backing_fs"]["mount_point"] == target
    assert ds["backing_fs"]["fstype"] == fstype
    assert ds["backing_fs"]["source"] == source


def docker_info(host):
    """`docker info` as a dict of its "Key: value" lines (no Go template: ansible would template braces)."""
    out = host.check_output("docker info 2>/dev/null")
    info = {}
    for line in out.splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep and key not in info:
            info[key] = value.strip()
    return info


def test_docker(host):
    ds = facts(host)
    info = docker_info(host)
    assert ds["docker"]["running"] is True
    assert ds["docker"]["driver"] == info["Storage Driver"]
    assert ds["docker"]["data_root"] == info["Docker Root Dir"]
    assert ds["docker"]["version"] == info["Server Version"]
    assert ds["backing_fs"]["d_type"] is (info.get("Supports d_type") == "true")


def test_xfs_v4_data_root(host):
    if not host.file("/root/storage_facts_xfsv4.json").exists:
        pytest.skip("no XFS V4 disk on this platform")
    xs = facts(host, "/root/storage_facts_xfsv4.json")
    mp = xs["backing_fs"]["mount_point"]
    assert run(host, "findmnt", "--noheadings", "--output", "FSTYPE", mp) == "xfs"
    info = run(host, "xfs_info", mp)
    assert re.search(r"ftype=0", info), info
    assert re.search(r"crc=0", info), info
    assert xs["backing_fs"]["xfs_ftype"] == 0
    assert xs["backing_fs"]["d_type"] is False
    assert xs["compatible"]["overlay2"]["ok"] is False
