"""storage_facts does not open docker's socket on a systemd host where no dockerd runs (socket activation would
start it): the process scan, on a fake /proc. The VM scenario `safe` checks it with the real docker.socket."""

from __future__ import annotations

import os

from ansible_collections.cowstack.docker_storage.plugins.modules import storage_facts as F


def fake_proc(tmp_path, processes):
    for pid, comm in processes.items():
        os.makedirs(tmp_path / str(pid))
        (tmp_path / str(pid) / "comm").write_text(comm + "\n")
    (tmp_path / "self").mkdir()
    (tmp_path / "sys").mkdir()
    return str(tmp_path)


def test_a_dockerd_process_is_found(tmp_path):
    assert F._dockerd_running(fake_proc(tmp_path, {1: "systemd", 412: "containerd", 530: "dockerd"}))


def test_no_dockerd_no_connection(tmp_path):
    # names that merely contain dockerd (a wrapper, containerd-shim) do not count
    assert not F._dockerd_running(fake_proc(tmp_path, {1: "systemd", 412: "containerd", 77: "dockerd-rootless"}))


def test_an_unreadable_proc_means_ask_the_socket(tmp_path):
    assert F._dockerd_running(str(tmp_path / "missing"))
