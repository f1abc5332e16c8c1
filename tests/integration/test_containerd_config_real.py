"""containerd_config on this host's real containerd (Debian 12: 1.6): check mode (reports, changes nothing), apply
(checked by `containerd config dump`, backup kept, mode kept), apply again (no change); a file containerd refuses
is never written; a missing file starts with the installed containerd's config version. A private file only:
the host's /etc/containerd is not touched."""

from __future__ import annotations

import os
import shutil

import pytest

import realhost

GC = 'plugins."io.containerd.gc.v1.scheduler"'
START = """# a comment another tool wrote
version = 2

[plugins]
  [plugins."io.containerd.gc.v1.scheduler"]
    pause_threshold = 0.02
"""

pytestmark = pytest.mark.skipif(not shutil.which("containerd", path="/usr/bin:/usr/sbin:/usr/local/bin"),
                                reason="no containerd here (make setup installs docker.io, which brings it)")


def test_check_apply_again(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(START)
    os.chmod(str(path), 0o640)
    args = {"path": str(path), "settings": {GC + ".pause_threshold": 0.03, "oom_score": -999}}
    checked = realhost.run_module("containerd_config", args, check_mode=True, diff=True)
    assert checked["changed"] and path.read_text() == START, checked
    assert "pause_threshold = 0.03" in checked["diff"]["after"]
    applied = realhost.run_module("containerd_config", args)
    assert applied["changed"] and applied["changes"] == {GC + ".pause_threshold": ["0.02", "0.03"],
                                                         "oom_score": [None, "-999"]}, applied
    text = path.read_text()
    assert text.startswith("# a comment another tool wrote\nversion = 2\noom_score = -999\n")
    assert "pause_threshold = 0.03" in text
    assert oct(os.stat(str(path)).st_mode)[-3:] == "640" and applied["mode"] == "0640"
    assert open(applied["backup_file"]).read() == START
    dumped = realhost.run(["containerd", "--config", str(path), "config", "dump"]).stdout
    assert "pause_threshold = 0.03" in dumped and "oom_score = -999" in dumped
    again = realhost.run_module("containerd_config", args)
    assert again["changed"] is False and again["changes"] == {}, again


def test_a_file_containerd_refuses_is_not_written(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(START)
    # a string where containerd wants a number: the line editor writes it, containerd's own check refuses it
    result = realhost.run_module("containerd_config", {"path": str(path), "settings": {"oom_score": "high"}})
    assert result.get("failed") and "containerd refuses the new" in result["msg"], result
    assert path.read_text() == START
    assert sorted(os.listdir(str(tmp_path))) == ["config.toml"]        # no temporary file, no backup left


def test_refused_keys_and_a_missing_file(tmp_path):
    path = tmp_path / "config.toml"
    refused = realhost.run_module("containerd_config", {"path": str(path), "settings": {"root": "/srv/x"}})
    assert refused.get("failed") and "root is not set here" in refused["msg"] and not path.exists()
    made = realhost.run_module("containerd_config", {"path": str(path), "settings": {"oom_score": -500}})
    assert made["changed"] and "backup_file" not in made
    version = [ln for ln in realhost.run(["containerd", "config", "default"]).stdout.splitlines()
               if ln.startswith("version")][0]
    assert path.read_text() == "%s\noom_score = -500\n" % version
