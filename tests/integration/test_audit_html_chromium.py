"""The audit's fleet.html in a real browser: Debian's headless Chromium runs the page's inline script.

The page's data is read back from the DOM after the script ran (``--dump-dom``): every host in the table, the
warnings first, and the filters (preset from the address's ``#status=``, ``#driver=``, ``#q=``) hiding exactly the
rows and host sections they should. A screenshot is taken and kept in ``tests/output/audit-report.png``.
Chromium is started with its own profile directory and stopped (its process group) by pid."""

from __future__ import annotations

import html.parser
import os
import shutil
import signal
import subprocess

import pytest

import realhost
from ansible_collections.cowstack.docker_storage.plugins.action.audit_report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-headless-shell")

pytestmark = pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                                reason="no headless Chromium (Debian: apt-get install chromium; tests/setup-host.sh test)")


def chromium(tmp_path, *args, timeout=90):
    assert CHROMIUM, "headless Chromium missing under CI (tests/setup-host.sh test installs it)"
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=%s" % (tmp_path / "profile")] + list(args)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started: the zygote and renderers with it
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 0, err[-2000:]
    return out


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.sections, self.attention, self.body = [], [], [], {}
        self._li = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if tag == "tr" and "data-host" in attrs:
            self.rows.append((attrs["data-host"], "hidden" in attrs))
        if tag == "section" and attrs.get("class") == "host":
            self.sections.append((attrs["data-host"], "hidden" in attrs))
        if tag == "li" and attrs.get("data-host") and attrs.get("class") in ("error", "warning", "not-audited"):
            self._li = [attrs["class"], attrs["data-host"], ""]

    def handle_data(self, data):
        if self._li is not None:
            self._li[2] += data

    def handle_endtag(self, tag):
        if tag == "li" and self._li is not None:
            self.attention.append(tuple(self._li))
            self._li = None


def dom(tmp_path, page, fragment=""):
    parsed = Dom()
    parsed.feed(chromium(tmp_path, "--dump-dom", "file://%s%s" % (page, fragment)))
    return parsed


def summary(host, driver, warnings=(), errors=()):
    return {"host": host, "current_driver": driver, "recommended": "overlay2", "warnings": list(warnings),
            "errors": list(errors), "drift": [], "data_root_free_bytes": 3 * 1024 ** 3, "data_root_size_bytes": None,
            "pool": None, "snapshots": None, "lines": ["summary of %s" % host]}


@pytest.fixture
def page(tmp_path):
    summaries = {"web1": summary("web1", "overlay2"),
                 "db1": summary("db1", "overlay2", warnings=["overlay2 over btrfs <slow> & wasteful"]),
                 "fleet": summary("fleet", "btrfs", errors=["storage-driver zfs cannot run"])}
    write_report(str(tmp_path / "report"), summaries, ["gone1"], "run-1")
    return tmp_path / "report" / "fleet.html"


def test_the_page_lists_every_host_with_warnings_first(tmp_path, page):
    shown = dom(tmp_path, page)
    assert shown.body.get("data-shown") == "3"  # the script ran
    assert shown.rows == [("fleet", False), ("db1", False), ("web1", False)]
    assert shown.sections == [("fleet", False), ("db1", False), ("web1", False)]
    assert [(kind, host) for kind, host, _text in shown.attention[:3]] == [
        ("error", "fleet"), ("warning", "db1"), ("not-audited", "gone1")]
    assert "overlay2 over btrfs <slow> & wasteful" in shown.attention[1][2]


@pytest.mark.parametrize("fragment, visible", [
    ("#status=warning", ["db1"]),
    ("#driver=btrfs", ["fleet"]),
    ("#q=web", ["web1"]),
    ("#q=slow", ["db1"]),  # the text filter searches the warnings too
    ("#status=ok&driver=btrfs", []),
])
def test_the_filters_hide_what_does_not_match(tmp_path, page, fragment, visible):
    shown = dom(tmp_path, page, fragment)
    assert [host for host, hidden in shown.rows if not hidden] == visible
    assert [host for host, hidden in shown.sections if not hidden] == visible
    assert shown.body.get("data-shown") == str(len(visible))


def test_a_screenshot_of_the_page(tmp_path, page):
    shot = tmp_path / "fleet.png"
    chromium(tmp_path, "--screenshot=%s" % shot, "--window-size=1280,1100", "--hide-scrollbars", "file://%s" % page)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    out = os.path.join(realhost.ROOT, "tests", "output")
    os.makedirs(out, exist_ok=True)
    shutil.copy(str(shot), os.path.join(out, "audit-report.png"))
