"""Integration tests run on the real thing: root, loop devices, mkfs tools, Debian's dockerd.

Outside CI a host without them skips these tests with the reason; under CI=true it fails, so a missing
install step cannot hide behind a green run."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import realhost  # noqa: E402


def pytest_collection_modifyitems(config, items):
    problems = []
    if os.geteuid() != 0:
        problems.append("not root")
    missing = realhost.missing_tools()
    if missing:
        problems.append("missing %s (run: make setup)" % ", ".join(missing))
    if not os.path.exists(os.path.join(realhost.VENV_BIN, "ansible")):
        problems.append("no venv (run: make venv collection)")
    if not problems:
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError("integration prerequisites missing under CI: %s" % "; ".join(problems))
    skip = pytest.mark.skip(reason="; ".join(problems))
    for item in items:
        item.add_marker(skip)


@pytest.fixture
def loopfs():
    """``with loopfs(kind) as mnt``; a kernel that cannot mount ``kind`` skips the test with the reason."""
    @__import__("contextlib").contextmanager
    def make(kind, size="1G"):
        try:
            with realhost.loop_filesystem(kind, size) as mnt:
                yield mnt
        except realhost.Unsupported as exc:
            pytest.skip(str(exc))
    return make


@pytest.fixture
def scratch(tmp_path):
    """A private fstab and a target directory (``tmp/docker``, not created); every mount below ``tmp_path`` is
    unmounted afterwards."""
    fstab = tmp_path / "fstab"
    fstab.write_text("# static file system information\nUUID=abc / ext4 defaults 0 1\n")
    yield {"fstab": str(fstab), "target": str(tmp_path / "docker"), "tmp": tmp_path}
    realhost.unmount_all(str(tmp_path))
