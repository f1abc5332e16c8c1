"""lab_loop on this host: a real file attached to a real loop device; check, apply, again; no room refused."""

from __future__ import annotations

import os

import pytest

import realhost


def _detach(path):
    out = realhost.run(["losetup", "-j", path], check=False).stdout
    for line in out.splitlines():
        realhost.run(["losetup", "-d", line.split(":")[0]], check=False)


def test_check_apply_again_and_grow(tmp_path):
    path = str(tmp_path / "lab.img")
    try:
        checked = realhost.run_module("lab_loop", {"path": path, "size": "256M"}, check_mode=True)
        assert checked["changed"] and checked["device"] is None and not os.path.exists(path), checked
        applied = realhost.run_module("lab_loop", {"path": path, "size": "256M"})
        assert applied["changed"] and applied["device"].startswith("/dev/loop"), applied
        assert os.path.getsize(path) == 256 * 1024 ** 2
        assert realhost.run(["losetup", "-j", path]).stdout.startswith(applied["device"] + ":")
        again = realhost.run_module("lab_loop", {"path": path, "size": "256M"})
        assert again["changed"] is False and again["device"] == applied["device"]
        grown = realhost.run_module("lab_loop", {"path": path, "size": "512M"})
        assert grown["changed"] and any("refresh" in s for s in grown["plan"])
        assert int(realhost.run(["blockdev", "--getsize64", applied["device"]]).stdout) == 512 * 1024 ** 2
    finally:
        _detach(path)


def test_no_room_is_refused_before_anything(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    realhost.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(small)])
    try:
        result = realhost.run_module("lab_loop", {"path": str(small / "lab.img"), "size": "1G"})
        assert result.get("failed") and "free, the lab file needs" in result["msg"], result
        assert os.listdir(small) == []
    finally:
        realhost.run(["umount", str(small)])


def test_bad_sizes(tmp_path):
    for size in ("lots", "10", "-1G"):
        result = realhost.run_module("lab_loop", {"path": str(tmp_path / "x.img"), "size": size})
        assert result.get("failed") and "at least 128M" in result["msg"]
    assert not os.path.exists(tmp_path / "x.img")


def test_a_new_lab_file_is_marked(tmp_path):
    path = str(tmp_path / "lab.img")
    try:
        realhost.run_module("lab_loop", {"path": path, "size": "256M"})
        assert os.getxattr(path, "user.cowstack.docker_storage.lab") == b"cowstack.docker_storage lab file"
        assert oct(os.stat(path).st_mode)[-3:] == "600"
    finally:
        _detach(path)


@pytest.mark.parametrize("label, adopted", [("docker", True), ("home", False)])
def test_an_unmarked_image_is_adopted_only_with_the_roles_filesystem(tmp_path, label, adopted):
    """A lab file made before the marker existed holds the role's btrfs (label docker): adopted and marked. A btrfs
    image labelled otherwise is someone else's disk image: refused, untouched."""
    path = str(tmp_path / "old.img")
    realhost.run(["truncate", "-s", "256M", path])
    realhost.run(["mkfs.btrfs", "-q", "-f", "-L", label, path])
    size = os.path.getsize(path)
    try:
        result = realhost.run_module("lab_loop", {"path": path, "size": "512M",
                                                  "adopt_labels": {"btrfs": "docker", "zfs": "docker"}})
        if adopted:
            assert result["changed"] and result["plan"][0].startswith("mark %s as a lab file" % path), result
            assert os.getxattr(path, "user.cowstack.docker_storage.lab")
            assert os.path.getsize(path) == 512 * 1024 ** 2
        else:
            assert result.get("failed") and "it holds a btrfs signature" in result["msg"], result
            assert os.path.getsize(path) == size and realhost.run(["losetup", "-j", path]).stdout == ""
    finally:
        _detach(path)
