"""The line editor of containerd's config.toml: every other line kept, what it cannot place refused."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._containerd import setting_problems
from ansible_collections.cowstack.docker_storage.plugins.module_utils._toml_lines import render, set_key, split_key
from ansible_collections.cowstack.docker_storage.plugins.modules.containerd_config import plan

GC = 'plugins."io.containerd.gc.v1.scheduler"'
FILE = """# kept: a comment at the top
version = 2
root = "/var/lib/containerd"

[plugins]
  [plugins."io.containerd.gc.v1.scheduler"]
    pause_threshold = 0.02 # tuned by hand
    deletion_threshold = 0

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.invalid/pause:3.9"
"""


def test_split_and_render():
    assert split_key(GC + ".pause_threshold") == ["plugins", "io.containerd.gc.v1.scheduler", "pause_threshold"]
    assert split_key("a . 'b.c' . d") == ["a", "b.c", "d"]
    assert render(True) == "true" and render(3) == "3" and render(0.5) == "0.5"
    assert render('say "x"') == '"say \\"x\\""' and render(["a", 1]) == '["a", 1]'
    for bad in ("", "a..b", "a.", '"open', "a b"):
        with pytest.raises(ValueError):
            split_key(bad)
    with pytest.raises(ValueError):
        render({"inline": "table"})


def test_a_key_in_its_table_is_replaced_and_its_comment_kept():
    new, before = set_key(FILE, GC + ".pause_threshold", 0.03)
    assert before == "0.02"
    assert "    pause_threshold = 0.03 # tuned by hand\n" in new
    assert new.replace("0.03", "0.02") == FILE                   # nothing else moved


def test_a_new_key_goes_to_the_end_of_its_table_with_its_indent():
    new, before = set_key(FILE, GC + ".schedule_delay", "0s")
    assert before is None
    assert '    deletion_threshold = 0\n    schedule_delay = "0s"\n\n  [plugins."io.containerd.grpc.v1.cri"]' in new


def test_a_new_table_is_appended_and_a_root_key_stays_before_the_first_table():
    new = set_key(FILE, 'plugins."io.containerd.snapshotter.v1.btrfs".sync_remove', True)[0]
    assert new.endswith('\n[plugins."io.containerd.snapshotter.v1.btrfs"]\n  sync_remove = true\n')
    new = set_key(FILE, "oom_score", -999)[0]
    assert 'root = "/var/lib/containerd"\noom_score = -999\n\n[plugins]' in new


def test_setting_the_same_value_changes_nothing():
    new, before = set_key(FILE, GC + ".deletion_threshold", 0)
    assert new == FILE and before == "0"


@pytest.mark.parametrize("text, key, fragment", [
    ('[plugins]\n  gc = {pause = 1}\n', "plugins.gc.pause", "inline table"),
    ('[[proxy_plugins]]\n  name = "x"\n', "proxy_plugins.name", "array of tables"),
    ('[a]\n  list = [\n  1,\n]\n', "a.list", "spans several lines"),
])
def test_what_cannot_be_placed_with_certainty_is_refused(text, key, fragment):
    with pytest.raises(ValueError, match=fragment):
        set_key(text, key, 1)


@pytest.mark.parametrize("key, fragment", [
    ("root", "root is not set here"), ("state", "state is not set here"), ("imports", "imports is not set here"),
    ("version", "version is not set here"),
    ('plugins."io.containerd.snapshotter.v1.zfs".root_path', "moves a snapshotter's data"),
])
def test_keys_that_move_data_are_refused(key, fragment):
    assert fragment in setting_problems(split_key(key))
    _new, changes, errors = plan(FILE, {key: "/elsewhere"})
    assert changes == {} and any(fragment in e for e in errors)


def test_plan_reports_each_change_and_keeps_the_rest():
    new, changes, errors = plan(FILE, {GC + ".pause_threshold": 0.03, GC + ".deletion_threshold": 0,
                                       "oom_score": -999})
    assert errors == []
    assert changes == {GC + ".pause_threshold": ["0.02", "0.03"], "oom_score": [None, "-999"]}
    assert "# kept: a comment at the top" in new and 'sandbox_image = "registry.invalid/pause:3.9"' in new


def test_a_hash_inside_a_string_is_no_comment_and_the_value_settles():
    text = '[a]\n  k = "v #1" # the real comment\n'
    new, before = set_key(text, "a.k", "v #1")
    assert new == text and before == '"v #1"'                       # the same value: nothing to write
    new, before = set_key(text, "a.k", "w")
    assert new == '[a]\n  k = "w" # the real comment\n' and before == '"v #1"'


def test_lines_inside_a_multiline_string_are_neither_keys_nor_headers():
    text = '[a]\n  s = """\nk = 1\n[b]\n"""\n  k = 2\n'
    new, before = set_key(text, "a.k", 3)
    assert before == "2" and new == '[a]\n  s = """\nk = 1\n[b]\n"""\n  k = 3\n'
    with pytest.raises(ValueError, match="spans several lines"):
        set_key(text, "a.s", "x")


def test_crlf_and_a_missing_last_newline_are_kept():
    text = "version = 2\r\n[a]\r\n  k = 1"
    assert set_key(text, "a.k", 1) == (text, "1")                     # untouched, byte for byte
    new = set_key(text, "a.k", 2)[0]
    assert new == "version = 2\r\n[a]\r\n  k = 2\r\n"
