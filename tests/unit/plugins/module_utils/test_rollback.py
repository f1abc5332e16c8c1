"""The restart decision and the rollback texts (module_utils/_rollback.py and the rollback_text /
restart_decision filters the role uses): the words the Molecule scenarios and the fault suite look for."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cowstack.docker_storage.plugins.filter.rollback_text import restart_decision, rollback_text
from ansible_collections.cowstack.docker_storage.plugins.module_utils import _rollback as R

# (state, restart, reasons)
DECISIONS = [
    ({}, False, []),
    ({"daemon_json_changed": True}, True, ["daemon.json changed"]),
    ({"flags_dropin_changed": True}, True, ["the flags drop-in changed"]),
    ({"storage_changed": True}, True, ["new storage is under the data-root"]),
    ({"vacated": True, "pending": True}, True,
     ["the previous state was moved aside", "a switch is unfinished, or dockerd runs other settings than daemon.json says"]),
    # check mode and a host without Docker never restart, but say why they would
    ({"daemon_json_changed": True, "check_mode": True}, False, ["daemon.json changed"]),
    ({"storage_changed": True, "docker_missing": True}, False, ["new storage is under the data-root"]),
    ({"check_mode": True, "docker_missing": True}, False, []),
]


@pytest.mark.parametrize("state, restart, reasons", DECISIONS)
def test_restart_decision(state, restart, reasons):
    assert R.restart_decision(state) == {"restart": restart, "reasons": reasons}
    assert restart_decision(dict((k, "True" if v else "") for k, v in state.items()))["restart"] is restart


def test_restart_decision_refuses_unknown_keys():
    with pytest.raises(AnsibleFilterError, match="unknown daemon_changed"):
        restart_decision({"daemon_changed": True})
    with pytest.raises(AnsibleFilterError, match="a dict"):
        restart_decision(["daemon_json_changed"])


def test_said_when_docker_is_back_and_when_not():
    assert rollback_text({"back_ok": True, "back": {"driver": "overlay2", "images": 4, "running": True},
                          "from_driver": "overlay2", "journal_path": "/j"}, "said") == \
        "The previous state is back and docker runs overlay2 again with 4 images."
    assert rollback_text({"back_ok": True, "back": {}, "journal_path": "/j"}, "said") == \
        "The previous state is back and docker runs it again."
    assert rollback_text({"back_ok": False, "back": {"driver": None, "running": False}, "from_driver": "overlay2",
                          "journal_path": "/var/lib/cowstack-docker-storage/switch.json"}, "said") == (
        "The rollback did NOT bring docker back on overlay2 (it runs nothing, running False); "
        "/var/lib/cowstack-docker-storage/switch.json records what was done.")


def test_daemon_failure_quotes_dockerd_errors_not_its_info_lines():
    lines = ['time="t1" level=info msg="Starting up"',
             'time="t2" level=error msg="failed to mkdir /proc/cowstack-cannot-create"',
             "failed to start daemon: mkdir /proc/cowstack-cannot-create: no such file or directory",
             'time="t3" level=error msg="failed to mkdir /proc/cowstack-cannot-create"',
             'time="t4" level=warning msg="something"',
             "  indented continuation"]
    text = rollback_text({"vacated": True, "data_root": "/var/lib/docker", "driver": "zfs",
                          "said": "The previous state is back and docker runs overlay2 again with 4 images.",
                          "failed": "docker reports driver overlay2", "dockerd_lines": lines}, "daemon")
    assert text.startswith("The change was rolled back (the previous /var/lib/docker is back; the new zfs storage is "
                           "kept, unmounted). The previous state is back and docker runs overlay2 again")
    said = text.split("dockerd said -")[-1]
    assert "cowstack-cannot-create" in said and "Starting up" not in said and "warning" not in said
    assert "indented" not in said and said.count("|") == 2  # three distinct lines, the repeated error once
    plain = rollback_text({"vacated": False, "data_root": "/d", "driver": "btrfs", "said": "S."}, "daemon")
    assert plain == "The change was rolled back. S. What failed - . dockerd said - "


def test_the_last_three_distinct_lines_are_quoted():
    lines = ["error %d" % n for n in range(6)] + ["error 5"]
    assert R.dockerd_said(lines) == "error 3 | error 4 | error 5"
    assert R.dockerd_said(None) == ""


def test_storage_and_vacate_failures():
    assert rollback_text({"prepare": "zfs", "data_root": "/var/lib/docker", "failed": "zpool create failed"},
                         "storage") == "Preparing zfs under /var/lib/docker failed - zpool create failed."
    assert rollback_text({"prepare": "zfs", "data_root": "/var/lib/docker", "failed": None, "said": "Back.",
                          "spool": "/srv/spool"}, "storage") == (
        "Preparing zfs under /var/lib/docker failed - see the task above. Back. The images saved in /srv/spool are kept.")
    assert rollback_text({"data_root": "/var/lib/docker", "failed": "mv: No space", "said": "Back."}, "vacate") == \
        "Moving /var/lib/docker aside failed - mv: No space. Back."


@pytest.mark.parametrize("values, kind, message", [
    ({}, "other", "kind must be one of daemon, said, storage, vacate"),
    ("text", "said", "expects a dict"),
    ({"back_ok": True}, "said", "missing journal_path"),
    ({"data_root": "/d", "said": "S", "color": "red"}, "vacate", "unknown color"),
])
def test_bad_calls_are_named(values, kind, message):
    with pytest.raises(AnsibleFilterError, match=message):
        rollback_text(values, kind)
