"""audit_report reads each host's registered storage_audit result; hosts without one are listed apart."""

from __future__ import annotations

from ansible_collections.cowstack.docker_storage.plugins.action.audit_report import _summaries_from_results


def test_summaries_from_registered_results():
    hostvars = {
        "ok": {"docker_storage_audit_result": {"audit": {"errors": [], "lines": ["a"]}}},
        "failed": {"docker_storage_audit_result": {"failed": True, "audit": {"errors": ["x"], "lines": ["b"]}}},
        "facts-failed": {"docker_storage_audit_result": {"failed": True, "msg": "storage_facts failed"}},
        "unreachable": {},
    }
    summaries, missing = _summaries_from_results(
        ["ok", "failed", "facts-failed", "unreachable", "not-in-inventory"], "docker_storage_audit_result", hostvars)
    assert summaries == {"ok": {"errors": [], "lines": ["a"]}, "failed": {"errors": ["x"], "lines": ["b"]}}
    assert missing == ["facts-failed", "unreachable", "not-in-inventory"]


def test_another_result_variable_name():
    hostvars = {"h": {"mine": {"audit": {"lines": []}}, "docker_storage_audit_result": {"audit": {"other": 1}}}}
    assert _summaries_from_results(["h"], "mine", hostvars) == ({"h": {"lines": []}}, [])
