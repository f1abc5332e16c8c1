"""What the audit reads besides the facts: file texts, file digests, ZFS dataset and pool properties. The
commands are stubbed here; tests/integration runs the audit on real files."""

from __future__ import annotations

import hashlib

from ansible_collections.cowstack.docker_storage.plugins.module_utils._expect import (
    file_digests, read_files, zfs_properties, zpool_properties)


def test_file_digests_and_texts(tmp_path):
    present = tmp_path / "tool.py"
    present.write_bytes(b"print('x')\n")
    missing = str(tmp_path / "gone.py")
    digests = file_digests([str(present), missing, "relative/path"])
    assert digests == {str(present): hashlib.sha256(b"print('x')\n").hexdigest(), missing: None}
    assert read_files([str(present), missing]) == {str(present): "print('x')\n", missing: None}


class Runner(object):
    def __init__(self, out, rc=0):
        self.calls, self.out, self.rc = [], out, rc

    def __call__(self, argv):
        self.calls.append(argv)
        return self.rc, self.out, ""


def test_pool_properties_are_read_with_zpool_get():
    run = Runner("docker\tautotrim\ton\tlocal\ndocker\tashift\t12\tlocal\n")
    got = zpool_properties(run, "/sbin/zpool", {"docker": ["autotrim", "ashift", "feature@zstd_compress"]})
    assert got == {"docker": {"autotrim": ["on", "local"], "ashift": ["12", "local"]}}
    assert run.calls == [["/sbin/zpool", "get", "-H", "-p", "-o", "name,property,value,source",
                          "autotrim,ashift,feature@zstd_compress", "docker"]]


def test_bad_names_and_missing_pools_never_reach_the_command():
    run = Runner("")
    wanted = {"bad;pool": ["autotrim"], "tank/child": ["autotrim"], "ok": ["a;rm -rf /"]}
    assert zpool_properties(run, "/sbin/zpool", wanted) == {"bad;pool": None, "tank/child": None, "ok": None}
    assert zpool_properties(run, None, {"docker": ["autotrim"]}) == {"docker": None}
    assert zfs_properties(run, "/sbin/zfs", {"tank/do$(id)": ["compression"]}) == {"tank/do$(id)": None}
    assert run.calls == []
    assert zpool_properties(Runner("", rc=1), "/sbin/zpool", {"absent": ["autotrim"]}) == {"absent": None}
