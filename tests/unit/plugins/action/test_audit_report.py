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


# -- the report's files: names, earlier runs, serial batches, Markdown and HTML ----------------------------------

import html.parser  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402

from ansible_collections.cowstack.docker_storage.plugins.action.audit_report import write_report  # noqa: E402
from ansible_collections.cowstack.docker_storage.plugins.plugin_utils._report_files import host_file_name  # noqa: E402


def summary(host, warnings=(), errors=(), drift=(), driver="overlay2"):
    return {"host": host, "current_driver": driver, "recommended": "overlay2", "warnings": list(warnings),
            "errors": list(errors), "drift": list(drift), "data_root_free_bytes": 5 * 1024 ** 3,
            "data_root_size_bytes": 20 * 1024 ** 3,
            "pool": {"kind": "zfs", "name": "tank", "size_bytes": 100 * 1024 ** 3, "free_bytes": 40 * 1024 ** 3,
                     "health": "ONLINE"},
            "snapshots": {"warn": 7200, "critical": 21600, "error": None, "targets": [
                {"target": "tank/docker", "kind": "zfs", "count": 3, "newest": "x", "age_seconds": 3600,
                 "state": "OK", "error": None}]},
            "lines": ["kernel:      6.1", "summary of %s" % host]}


def read(path):
    with open(path) as handle:
        return json.load(handle) if path.endswith(".json") else handle.read()


def test_a_host_named_fleet_does_not_clash_with_the_fleet_file(tmp_path):
    dest = str(tmp_path)
    write_report(dest, {"fleet": summary("fleet"), "web1": summary("web1")}, [], "run-1")
    assert read(os.path.join(dest, "hosts", "fleet.json"))["host"] == "fleet"
    assert sorted(read(os.path.join(dest, "fleet.json"))["summaries"]) == ["fleet", "web1"]


@pytest.mark.parametrize("names", [("a/b", "a_b", "a%2Fb"), (".", "..", "%2E"), ("fleet", "fleet.json", "Fleet")])
def test_host_file_names_are_one_to_one_and_stay_in_the_directory(names):
    files = [host_file_name(n) for n in names]
    assert len(set(files)) == len(names)
    assert all("/" not in f and not f.startswith(".") for f in files)


def test_another_run_removes_the_host_files_of_hosts_it_did_not_audit(tmp_path):
    dest = str(tmp_path)
    write_report(dest, {"web1": summary("web1"), "web2": summary("web2")}, [], "run-1")
    fleet, _summaries, _written, removed = write_report(dest, {"web1": summary("web1")}, ["db9"], "run-2")
    assert removed == [os.path.join(dest, "hosts", "web2.json")]
    assert sorted(os.listdir(os.path.join(dest, "hosts"))) == ["web1.json"]
    on_disk = read(os.path.join(dest, "fleet.json"))
    assert sorted(on_disk["summaries"]) == ["web1"] and on_disk["stale_removed"] == ["web2"] == fleet["stale_removed"]
    assert on_disk["not_audited"] == ["db9"] and on_disk["run"]["id"] == "run-2"


def test_batches_of_one_run_add_up(tmp_path):
    dest = str(tmp_path)
    write_report(dest, {"old": summary("old")}, [], "run-0")
    write_report(dest, {"h1": summary("h1")}, ["h2", "h3"], "run-1")
    write_report(dest, {"h2": summary("h2", errors=["bad"])}, ["h3"], "run-1")
    fleet, summaries, _w, _r = write_report(dest, {"h3": summary("h3")}, [], "run-1")
    assert sorted(summaries) == ["h1", "h2", "h3"] and fleet["not_audited"] == [] and fleet["hosts"] == 3
    assert fleet["with_errors"] == ["h2"] and fleet["stale_removed"] == ["old"]
    assert sorted(os.listdir(os.path.join(dest, "hosts"))) == ["h1.json", "h2.json", "h3.json"]


def test_a_later_batch_keeps_a_newer_result_over_an_earlier_one(tmp_path):
    dest = str(tmp_path)
    write_report(dest, {"h1": summary("h1")}, [], "run-1")
    _f, summaries, _w, _r = write_report(dest, {"h1": summary("h1", warnings=["now"])}, [], "run-1")
    assert summaries["h1"]["warnings"] == ["now"]


def test_host_files_of_the_layout_before_hosts_dir_are_removed(tmp_path):
    dest = str(tmp_path)
    (tmp_path / "web1.json").write_text(json.dumps(summary("web1")))
    (tmp_path / "notes.json").write_text('{"mine": true}')  # not a host summary: left alone
    _f, _s, _w, removed = write_report(dest, {"web2": summary("web2")}, [], "run-1")
    assert removed == [os.path.join(dest, "web1.json")] and (tmp_path / "notes.json").exists()


class Page(html.parser.HTMLParser):
    """What a reader gets from the page: the table's rows, the warnings list, the host sections, external loads."""

    def __init__(self):
        super().__init__()
        self.rows, self.attention, self.sections, self.external, self.scripts = [], [], [], [], 0
        self._in = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if attrs.get(key) and not attrs[key].startswith("#"):
                self.external.append(attrs[key])
        if tag == "link":
            self.external.append(attrs.get("href"))
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "data-host" in attrs:
            self.rows.append((attrs["data-host"], attrs["data-status"]))
        if tag == "section" and attrs.get("class") == "host":
            self.sections.append(attrs["data-host"])
        if tag == "li" and self._in == "attention":
            self._text = []
        if tag == "section" and attrs.get("id") == "attention":
            self._in = "attention"

    def handle_endtag(self, tag):
        if tag == "li" and self._in == "attention":
            self.attention.append("".join(self._text))
        if tag == "section" and self._in == "attention":
            self._in = None

    def handle_data(self, data):
        self._text.append(data)


def fleet_of_three(tmp_path):
    dest = str(tmp_path)
    summaries = {"web1": summary("web1"), "db1": summary("db1", warnings=["overlay2 over <btrfs> & co"]),
                 "fleet": summary("fleet", errors=["zfs | cannot run"], driver="btrfs")}
    write_report(dest, summaries, ["gone1"], "run-1")
    return dest


def test_the_html_page_holds_every_host_and_warning_first_and_loads_nothing(tmp_path):
    page = Page()
    page.feed(read(os.path.join(fleet_of_three(tmp_path), "fleet.html")))
    assert page.rows == [("fleet", "error"), ("db1", "warning"), ("web1", "ok")]
    assert page.sections == ["fleet", "db1", "web1"]
    assert page.attention == ["error fleet: zfs | cannot run", "warning db1: overlay2 over <btrfs> & co",
                              "not audited gone1: no audit result (unreachable, or its facts could not be gathered)"]
    assert page.external == [] and page.scripts == 1


def test_the_markdown_report_holds_every_host_and_warning_first(tmp_path):
    text = read(os.path.join(fleet_of_three(tmp_path), "fleet.md"))
    attention, rest = text.split("## Fleet")
    assert "zfs \\| cannot run" in attention and "overlay2 over <btrfs> & co" in attention and "gone1" in attention
    assert attention.index("zfs \\| cannot run") < attention.index("overlay2 over")
    table, detail = rest.split("## Hosts")
    assert [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")][1:] == \
        ["fleet", "db1", "web1"]
    assert "40.0 GiB free of 100.0 GiB" in table and "5.0 GiB" in table and "tank/docker: 1h (OK)" in table
    for host in ("fleet", "db1", "web1"):
        assert "### %s" % host in detail and "summary of %s" % host in detail
    assert "### db1\n\nStatus: warning.\n\n- **WARNING** overlay2 over <btrfs> & co\n\n```" in detail


@pytest.mark.parametrize("content", ["not json", "[1]", '{"run": "run-1", "summaries": {"x": {}}}',
                                     '{"run": {"id": "run-1"}, "summaries": ["x"]}'])
def test_a_damaged_fleet_json_is_replaced(tmp_path, content):
    (tmp_path / "fleet.json").write_text(content)
    _f, summaries, _w, _r = write_report(str(tmp_path), {"h1": summary("h1")}, [], "run-1")
    assert sorted(summaries) == ["h1"] and read(str(tmp_path / "fleet.json"))["run"]["id"] == "run-1"


def test_the_prometheus_file_gives_each_host_s_drift_as_prometheus_reads_it(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families
    dest = str(tmp_path)
    summaries = {"web1": summary("web1", drift=["mount: x", "fstab: y"]), 'we"ird\\host': summary('we"ird\\host'),
                 "db1": summary("db1", errors=["zfs cannot run"], warnings=["a", "b"])}
    summaries["db1"]["pool"] = None
    write_report(dest, summaries, [], "run-1")
    samples = {}
    for family in text_string_to_metric_families(read(os.path.join(dest, "fleet.prom"))):
        assert family.type == "gauge" and family.documentation
        for sample in family.samples:
            samples[(sample.name, sample.labels.get("host"))] = sample.value
    assert samples[("cowstack_audit_drift", "web1")] == 2 and samples[("cowstack_audit_drift", "db1")] == 0
    assert samples[("cowstack_audit_drift", 'we"ird\\host')] == 0
    assert samples[("cowstack_audit_errors", "db1")] == 1 and samples[("cowstack_audit_warnings", "db1")] == 2
    assert samples[("cowstack_audit_data_root_free_bytes", "web1")] == 5 * 1024 ** 3
    assert ("cowstack_audit_pool_free_bytes", "db1") not in samples  # not known: left out, not 0
    assert samples[("cowstack_audit_hosts", None)] == 3 and samples[("cowstack_audit_timestamp_seconds", None)] > 0
