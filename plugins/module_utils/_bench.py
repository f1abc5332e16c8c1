# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage benchmark's pure parts: the figures it measures, their statistics, the shell scripts run in the
container and on the raw filesystem, the room check and the static-busybox check. No I/O but ``elf_is_static``'s
read of a file header."""

from __future__ import annotations

import struct

MIB = 1 << 20
SMALL_FILE_BYTES = 4096
LABEL = "cowstack.bench"

# name -> (unit, what it is). Times in seconds (lower is better); sizes in bytes.
FIGURES = (
    ("cold_start", "s", "docker run --rm of the small image, page cache dropped first (drop_caches)"),
    ("warm_start", "s", "docker run --rm of the small image, right after another"),
    ("small_file_write", "s", "create small_files one-line files in a new directory"),
    ("small_file_read", "s", "cat small_files 4 KiB files that live in an image layer"),
    ("seq_write_fsync", "s", "dd write_mib MiB of zeros with conv=fsync"),
    ("copy_up_append", "s", "append one line to the big_mib MiB file that lives in the image (copy-up)"),
    ("copy_up_size_rw", "B", "docker's SizeRw of the container after that append"),
    ("copy_up_space", "B", "filesystem space a container that made that append takes (statvfs, synced)"),
    ("layer_shared_size", "B", "SharedSize (/system/df) of two images committed over one base"),
)
FIGURE_NAMES = tuple(name for name, _unit, _what in FIGURES)
UNITS = dict((name, unit) for name, unit, _what in FIGURES)
DESCRIPTIONS = dict((name, what) for name, _unit, what in FIGURES)

# Applets the tests use, linked to busybox in the small image (a busybox image has nothing else in /bin).
APPLETS = ("sh", "true", "sleep", "dd", "cat", "mkdir", "rm", "sync", "head", "echo", "ls")


def _sq(text):
    """``text`` as one single-quoted shell word."""
    return "'%s'" % text.replace("'", "'\\''")


def script_make_files(directory, count):
    """Creates ``directory``/data/f0..f<count-1>, 4 KiB of random bytes each (not timed)."""
    return ("mkdir -p %s/data && cd %s/data && i=0; while [ $i -lt %d ]; do "
            "dd if=/dev/urandom of=f$i bs=%d count=1 2>/dev/null || exit 1; i=$((i+1)); done"
            % (_sq(directory), _sq(directory), count, SMALL_FILE_BYTES))


def script_make_big(directory, mib):
    return "dd if=/dev/urandom of=%s/big bs=1M count=%d 2>/dev/null" % (_sq(directory), mib)


def script_small_write(directory, count):
    """``count`` files of one line each in a new directory: builtins only, so no process per file."""
    return ("mkdir %s && cd %s && i=0; while [ $i -lt %d ]; do echo x > f$i; i=$((i+1)); done"
            % (_sq(directory), _sq(directory), count))


def script_small_read(directory):
    return "cat %s/data/* > /dev/null" % _sq(directory)


def script_seq_write(path, mib):
    return "dd if=/dev/zero of=%s bs=1M count=%d conv=fsync 2>/dev/null" % (_sq(path), mib)


def script_append(path):
    return "echo x >> %s" % _sq(path)


ELAPSED_MARK = "cowstack-elapsed"


def timed(script):
    """``script`` run between two readings of /proc/uptime (10 ms steps; the same clock inside a container, which
    has no time namespace), so that the figure leaves out what starting it costs (a ``docker exec``: seconds
    under emulation, and varying). The script runs in a subshell, so its ``cd`` stays inside it."""
    return ("read t0 _r < /proc/uptime; ( %s ) || exit $?; read t1 _r < /proc/uptime; echo %s $t0 $t1"
            % (script, ELAPSED_MARK))


def elapsed(output):
    """Seconds between the two readings that ``timed`` printed; ValueError if the output has none."""
    for line in reversed((output or "").splitlines()):
        parts = line.split()
        if len(parts) == 3 and parts[0] == ELAPSED_MARK:
            return max(0.0, float(parts[2]) - float(parts[1]))
    raise ValueError("no %s line in the script's output" % ELAPSED_MARK)


def stats(values):
    """``{min, median, max, runs}`` of a non-empty list of numbers."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0
    return {"min": ordered[0], "median": median, "max": ordered[-1], "runs": list(values)}


def figure(name, container, raw=None):
    """One figure: unit, container statistics, raw statistics (or None) and ratio raw/container median
    (1 = the container reaches the raw filesystem; None without raw or when either median is 0)."""
    cont = stats(container)
    raw_stats = stats(raw) if raw else None
    ratio = None
    if raw_stats and cont["median"] > 0 and raw_stats["median"] > 0:
        ratio = raw_stats["median"] / cont["median"]
    return {"unit": UNITS[name], "container": cont, "raw": raw_stats, "ratio": ratio}


def room_needed(params, busybox_bytes, driver):
    """Bytes the run writes at its peak on the data-root's filesystem, generously counted: the images (every
    layer once, the big one twice for the container that copies it up), the raw side's copies in the scratch
    directory, the sequential writes (one at a time, removed after each run) and the small files. vfs copies
    the whole image into each container, so it counts the big and the files images again."""
    small_files = params["small_files"] * (SMALL_FILE_BYTES + 4096)  # a block each plus the directory entry
    writes = params["small_files"] * 4096 * 2  # the small-file write test's directory, container and raw side
    big = params["big_mib"] * MIB
    images = busybox_bytes + small_files + big + 4 * MIB  # small, files, big, base and two children (tiny)
    need = images + big + 2 * params["write_mib"] * MIB + big + small_files + writes
    if driver == "vfs":
        need += big + small_files + busybox_bytes * (params["warm_starts"] + 4)
    return need


def room_check(need, total_bytes, avail_bytes, margin_fraction=0.05, margin_min=256 * MIB):
    """Whether the run fits: ``need`` plus a margin (``margin_fraction`` of the filesystem, at least
    ``margin_min``) within what is available. Returns the check as a dict with a ``msg``."""
    margin = max(int(total_bytes * margin_fraction), margin_min)
    ok = need + margin <= avail_bytes
    msg = "needs %.1f MiB plus a margin of %.1f MiB, %.1f MiB available" % (
        need / float(MIB), margin / float(MIB), avail_bytes / float(MIB))
    return {"ok": ok, "needed_bytes": need, "margin_bytes": margin, "available_bytes": avail_bytes,
            "total_bytes": total_bytes, "msg": msg}


def elf_is_static(header):
    """Whether the ELF file starting with ``header`` (its first bytes, the program headers included) is linked
    statically: an ELF without a PT_INTERP program header. None when it is not an ELF file or ``header`` is too
    short to tell."""
    if len(header) < 64 or header[:4] != b"\x7fELF":
        return None
    is64 = header[4] == 2
    endian = "<" if header[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(endian + "Q", header, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", header, 54)
    else:
        phoff, = struct.unpack_from(endian + "I", header, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", header, 42)
    if phoff + phentsize * phnum > len(header) or phentsize < 4:
        return None
    for i in range(phnum):
        p_type, = struct.unpack_from(endian + "I", header, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP: a dynamic loader is needed
            return False
    return True


def plan(params, image):
    """What a run creates and measures, for check mode and the result."""
    made = ["image cowstack-bench:<run>-small (docker import of a tarball of /bin/busybox)"] if not image else []
    made += ["images <run>-files, -big, -base, -share-a, -share-b (docker commit, label %s=<run>)" % LABEL,
             "a long-running container for docker exec, one container per copy-up run (label %s=<run>)" % LABEL,
             "a scratch directory <data-root>/.cowstack-bench-<run> for the raw side"]
    return {"creates": made, "figures": list(FIGURE_NAMES), "runs": params["runs"],
            "image": image or "built from /bin/busybox"}
