"""The storage benchmark's pure parts: statistics, figures, the room check, the static-busybox check and the
shell scripts (run here by a real sh on a temporary directory)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench as B

MIB = 1 << 20


def test_stats_min_median_max_and_runs_in_order():
    assert B.stats([3, 1, 2]) == {"min": 1, "median": 2, "max": 3, "runs": [3, 1, 2]}
    assert B.stats([4, 1, 2, 3])["median"] == 2.5
    assert B.stats([7]) == {"min": 7, "median": 7, "max": 7, "runs": [7]}
    with pytest.raises(ValueError):
        B.stats([])


def test_timed_inside_the_shell_by_the_uptime_clock():
    """The real shell runs the wrapped script: its own time, not the cost of starting the shell."""
    import subprocess
    script = B.timed("cd /tmp && sleep 0.3")
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert 0.25 <= B.elapsed(out) < 2.0
    assert B.elapsed("noise\ncowstack-elapsed 10.50 10.25\n") == 0.0          # never below 0
    failing = subprocess.run(["sh", "-c", B.timed("exit 3")], capture_output=True, text=True, check=False)
    assert failing.returncode == 3 and "cowstack-elapsed" not in failing.stdout
    with pytest.raises(ValueError):
        B.elapsed("no mark here")


def test_figure_ratio_is_raw_over_container_and_null_without_raw():
    fig = B.figure("seq_write_fsync", [2.0, 4.0, 3.0], [1.0, 1.5, 2.0])
    assert fig["unit"] == "s" and fig["container"]["median"] == 3.0 and fig["raw"]["median"] == 1.5
    assert fig["ratio"] == pytest.approx(0.5)
    assert B.figure("warm_start", [0.3])["raw"] is None and B.figure("warm_start", [0.3])["ratio"] is None
    assert B.figure("copy_up_space", [16 * MIB], [0])["ratio"] is None  # raw median 0: no ratio, no division
    assert B.figure("layer_shared_size", [0, 0], [5])["ratio"] is None


def test_every_figure_has_a_unit_and_a_description():
    assert len(set(B.FIGURE_NAMES)) == len(B.FIGURE_NAMES) == 9
    assert set(B.UNITS.values()) == {"s", "B"}
    assert all(B.DESCRIPTIONS[name] for name in B.FIGURE_NAMES)


PARAMS = {"runs": 3, "warm_starts": 5, "small_files": 1000, "write_mib": 256, "big_mib": 256}


def test_room_needed_counts_the_big_file_and_the_writes_and_more_for_vfs():
    need = B.room_needed(PARAMS, 2 * MIB, "overlay2")
    # the big file in the image, in the copy-up container and on the raw side; two sequential writes
    assert need >= 3 * 256 * MIB + 2 * 256 * MIB
    assert need < 2 * (3 * 256 + 2 * 256) * MIB
    assert B.room_needed(PARAMS, 2 * MIB, "vfs") > need + 256 * MIB
    bigger = dict(PARAMS, big_mib=1024)
    assert B.room_needed(bigger, 2 * MIB, "overlay2") - need == 3 * (1024 - 256) * MIB


def test_room_check_keeps_a_margin():
    total = 100 * 1024 * MIB
    ok = B.room_check(1024 * MIB, total, 20 * 1024 * MIB)
    assert ok["ok"] and ok["margin_bytes"] == 5 * 1024 * MIB
    short = B.room_check(1024 * MIB, total, 5 * 1024 * MIB)  # fits, but not with 5% of the fs kept free
    assert not short["ok"]
    assert "needs 1024.0 MiB plus a margin of 5120.0 MiB, 5120.0 MiB available" == short["msg"]
    small_fs = B.room_check(10 * MIB, 1024 * MIB, 300 * MIB)
    assert small_fs["margin_bytes"] == 256 * MIB and small_fs["ok"]
    assert not B.room_check(50 * MIB, 1024 * MIB, 300 * MIB)["ok"]


def _elf64(program_types):
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1
    struct.pack_into("<Q", header, 32, 64)
    struct.pack_into("<HH", header, 54, 56, len(program_types))
    for p_type in program_types:
        entry = bytearray(56)
        struct.pack_into("<I", entry, 0, p_type)
        header += entry
    return bytes(header)


def test_elf_static_is_an_elf_without_pt_interp():
    assert B.elf_is_static(_elf64([6, 1, 1])) is True  # PT_PHDR, PT_LOAD
    assert B.elf_is_static(_elf64([6, 3, 1])) is False  # PT_INTERP
    assert B.elf_is_static(b"#!/bin/sh\n" + b"\0" * 100) is None
    assert B.elf_is_static(_elf64([1, 1])[:80]) is None  # program headers cut off


def test_elf_static_on_this_machine():
    with open("/bin/sh" if not os.path.islink("/bin/sh") else os.path.realpath("/bin/sh"), "rb") as handle:
        assert B.elf_is_static(handle.read(65536)) is False  # dash or bash: dynamic
    if os.path.exists("/bin/busybox"):
        with open("/bin/busybox", "rb") as handle:
            assert B.elf_is_static(handle.read(65536)) in (True, False)


def sh(script):
    subprocess.run(["/bin/sh", "-c", script], check=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})


def test_scripts_do_what_they_say(tmp_path):
    odd = str(tmp_path / "it's a dir")
    os.mkdir(odd)
    sh(B.script_make_files(odd, 7))
    files = sorted(os.listdir(os.path.join(odd, "data")))
    assert len(files) == 7 and all(os.path.getsize(os.path.join(odd, "data", f)) == 4096 for f in files)
    sh(B.script_small_read(odd))
    sh(B.script_make_big(odd, 2))
    assert os.path.getsize(os.path.join(odd, "big")) == 2 * MIB
    sh(B.script_append(os.path.join(odd, "big")))
    assert os.path.getsize(os.path.join(odd, "big")) == 2 * MIB + 2
    sh(B.script_small_write(os.path.join(odd, "w0"), 5))
    assert sorted(os.listdir(os.path.join(odd, "w0"))) == ["f%d" % i for i in range(5)]
    sh(B.script_seq_write(os.path.join(odd, "seq"), 3))
    assert os.path.getsize(os.path.join(odd, "seq")) == 3 * MIB
    shutil.rmtree(odd)


def test_plan_names_every_figure():
    plan = B.plan(PARAMS, None)
    assert plan["figures"] == list(B.FIGURE_NAMES) and "busybox" in plan["image"]
    assert B.plan(PARAMS, "alpine:3")["image"] == "alpine:3"
