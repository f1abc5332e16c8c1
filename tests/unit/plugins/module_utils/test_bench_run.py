"""storage_bench (its _bench_run) refuses, naming Debian's busybox-static, a missing or dynamically linked /bin/busybox."""

from __future__ import annotations

import shutil

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench_run as M


class FakeModule(object):
    params = {"docker_host": None}

    def get_bin_path(self, name):
        return None


def test_busybox_missing_or_dynamic_is_refused_naming_the_package(tmp_path, monkeypatch):
    bench = M.Bench(FakeModule())
    monkeypatch.setattr(M, "BUSYBOX", str(tmp_path / "busybox"))
    with pytest.raises(M.BenchError, match="is missing: install Debian's busybox-static"):
        bench.check_busybox()
    shutil.copy(shutil.which("sh") or "/bin/sh", str(tmp_path / "busybox"))  # dash or bash: dynamic
    with pytest.raises(M.BenchError, match="is not a statically linked executable.*busybox-static"):
        bench.check_busybox()


def test_only_unix_sockets():
    module = FakeModule()
    module.params = {"docker_host": "tcp://10.0.0.1:2375"}
    with pytest.raises(M.BenchError, match="only unix:// sockets"):
        M.Bench(module).socket_path()
    assert M.Bench(FakeModule()).run_id != M.Bench(FakeModule()).run_id
