"""storage_facts' probes of what earlier runs left (module_utils/_probe_state), on a directory made here."""

from __future__ import annotations

import os

from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_state import StateProbe


class FakeModule(object):
    params = {}


def test_prior_drivers_are_the_non_empty_driver_directories_but_vfs(tmp_path):
    for driver, entry in (("overlay2", "l"), ("btrfs", None), ("vfs", "dir")):
        os.makedirs(str(tmp_path / driver / (entry or "")))
    assert StateProbe(FakeModule()).prior_drivers(str(tmp_path)) == ["overlay2"]
    assert StateProbe(FakeModule()).prior_drivers(str(tmp_path / "none")) == []


def test_siblings_are_the_states_a_switch_moved_aside(tmp_path):
    for name in ("docker", "docker.cowstack-20250101T000000Z", "docker.other", "dockerx.cowstack-1"):
        os.mkdir(str(tmp_path / name))
    assert StateProbe(FakeModule()).siblings(str(tmp_path / "docker")) == [
        str(tmp_path / "docker.cowstack-20250101T000000Z")]
