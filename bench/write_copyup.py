"""Container write path and copy-up cost per storage driver, against the raw filesystem underneath.

For each driver on a fresh loop filesystem, with a private dockerd (tests/integration/realhost.py):

- raw: the host's ``dd if=/dev/zero bs=1M count=100 conv=fsync`` on that filesystem (wall time of the process);
- container: the same dd in ``docker run`` writing to its writable layer, timed inside the container by
  ``busybox time -f %e`` (10 ms resolution); ratio = raw s / container s, goal >= 0.9;
- copy-up: ``echo x >> /big`` on a 200 MiB random file that lives in the image, as ``docker run`` wall time
  minus ``docker run ... true`` on the same image (median of paired runs); "200M start" is ``true`` on that
  image minus ``true`` on a busybox-only one (vfs copies the whole layer per container); "SizeRw" is docker's
  size of the writable layer after the append, "fs used" the filesystem's used space it took (statvfs).

Medians of --runs runs. Prints figures only; asserts nothing. Needs root, dockerd, busybox-static.

    python3 bench/write_copyup.py                  # overlay2/ext4, overlay2/xfs, btrfs/btrfs, vfs/ext4
    python3 bench/write_copyup.py --runs 5 --drivers overlay2/ext4,btrfs/btrfs
    python3 bench/write_copyup.py --size 4G        # loop filesystem size
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import realhost  # noqa: E402  pylint: disable=wrong-import-position

CASES = {"overlay2/ext4": ("overlay2", "ext4"), "overlay2/xfs": ("overlay2", "xfs"),
         "btrfs/btrfs": ("btrfs", "btrfs"), "vfs/ext4": ("vfs", "ext4")}
MKFS = {"ext4": "mkfs.ext4", "xfs": "mkfs.xfs", "btrfs": "mkfs.btrfs"}
DD = ["if=/dev/zero", "bs=1M", "count=100", "conv=fsync"]
BIG_MIB = 200
ENV = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
ENV.update(LC_ALL="C", LANG="C")


def tarballs(work):
    """small.tar (bin/busybox) and big.tar (bin/busybox + /big, 200 MiB from os.urandom)."""
    bindir = os.path.join(work, "bin")
    os.mkdir(bindir)
    shutil.copy("/bin/busybox", bindir)
    big = os.path.join(work, "big")
    with open(big, "wb") as handle:
        for _chunk in range(BIG_MIB):
            handle.write(os.urandom(1 << 20))
    paths = {}
    for name, members in (("small", [("bin", bindir)]), ("big", [("bin", bindir), ("big", big)])):
        paths[name] = os.path.join(work, name + ".tar")
        with tarfile.open(paths[name], "w") as tar:
            for arcname, source in members:
                tar.add(source, arcname=arcname)
    os.unlink(big)
    return paths


def docker(sock, *args):
    argv = [shutil.which("docker") or "docker", "-H", "unix://" + sock] + list(args)
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args[:2]), (proc.stderr.strip() or proc.stdout.strip())[-300:]))
    return proc


def wall(call):
    start = time.monotonic()
    call()
    return time.monotonic() - start


def used(path):
    os.sync()
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def write_path(mnt, sock, runs):
    """(raw s, container s): medians, the two interleaved, everything synced before each run."""
    out = os.path.join(mnt, "raw.out")
    raw, inside = [], []
    for _run in range(runs):
        os.sync()
        raw.append(wall(lambda: subprocess.run(["dd", "of=" + out] + DD, capture_output=True, check=True)))
        os.unlink(out)
        os.sync()
        proc = docker(sock, "run", "--rm", "--network", "none", "cowbench/small",
                      "/bin/busybox", "time", "-f", "%e", "/bin/busybox", "dd", "of=/out", *DD)
        inside.append(float(proc.stderr.strip().splitlines()[-1]))
    return statistics.median(raw), statistics.median(inside)


def copy_up(sock, runs):
    """(append - true on the big image, true on big - true on small): medians of paired runs."""
    def run(image, *cmd):
        return wall(lambda: docker(sock, "run", "--rm", "--network", "none", image, *cmd))
    run("cowbench/big", "/bin/busybox", "true")  # warm-up, not counted
    append, start = [], []
    for _run in range(runs):
        small = run("cowbench/small", "/bin/busybox", "true")
        true = run("cowbench/big", "/bin/busybox", "true")
        append.append(run("cowbench/big", "/bin/busybox", "sh", "-c", "echo x >> /big") - true)
        start.append(true - small)
    return statistics.median(append), statistics.median(start)


def layer_size(sock, mnt):
    """(docker's SizeRw, filesystem used-space delta) of one container after the append."""
    before = used(mnt)
    try:
        docker(sock, "run", "--name", "cowbench-copyup", "--network", "none", "cowbench/big",
               "/bin/busybox", "sh", "-c", "echo x >> /big")
        delta = used(mnt) - before
        size_rw = int(docker(sock, "container", "inspect", "--size", "--format", "{{.SizeRw}}",
                             "cowbench-copyup").stdout.strip())
    finally:
        with contextlib.suppress(RuntimeError):  # already gone if the run itself failed to create it
            docker(sock, "rm", "-f", "cowbench-copyup")
    return size_rw, delta


def bench(case, tars, args):
    driver, kind = CASES[case]
    if not shutil.which(MKFS[kind]):
        return "skipped: no %s" % MKFS[kind]
    try:
        with realhost.loop_filesystem(kind, args.size) as mnt:
            with realhost.dockerd(os.path.join(mnt, "docker"), driver=driver) as daemon:
                if not daemon.started or daemon.driver != driver:
                    return "skipped: dockerd did not start with %s: %s" % (driver, daemon.error_line()[-200:])
                for name, path in tars.items():
                    docker(daemon.socket, "import", path, "cowbench/" + name)
                raw, inside = write_path(mnt, daemon.socket, args.runs)
                append, start = copy_up(daemon.socket, args.runs)
                size_rw, delta = layer_size(daemon.socket, mnt)
    except realhost.Unsupported as exc:
        return "skipped: %s" % exc
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        return "failed: %s" % (getattr(exc, "stderr", None) or exc)
    return [raw, inside, raw / inside, "met" if raw / inside >= 0.9 else "NOT met", append, start,
            size_rw / (1 << 20), delta / (1 << 20)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--drivers", default=",".join(CASES), help="comma list of " + ", ".join(CASES))
    parser.add_argument("--size", default="2G", help="size of each loop filesystem")
    args = parser.parse_args()
    cases = [c.strip() for c in args.drivers.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown or args.runs < 1:
        parser.error("--drivers: one of %s; --runs >= 1 (got %s)" % (", ".join(CASES), ", ".join(unknown)))
    if os.geteuid() != 0:
        sys.exit("needs root (loop devices, mounts, a private dockerd)")
    missing = [t for t in ("dockerd", "docker", "dd") if not shutil.which(t)]
    if missing or not os.path.exists("/bin/busybox"):
        sys.exit("needs %s" % ", ".join(missing + ([] if os.path.exists("/bin/busybox") else ["/bin/busybox"])))
    work = tempfile.mkdtemp(prefix="cowbench-", dir="/var/tmp")
    try:
        tars = tarballs(work)
        rows = []
        for case in cases:
            print("%s ..." % case, file=sys.stderr, flush=True)
            rows.append((case, bench(case, tars, args)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("100 MiB dd conv=fsync: raw = host dd wall time; container = busybox time -f %e inside docker run")
    print("copy-up = run(echo x >> /big) - run(true) on the 200 MiB image; medians of %d runs" % args.runs)
    header = ["driver/fs", "raw s", "container s", "raw/cont", "goal>=0.9", "copy-up s", "200M start s",
              "SizeRw MiB", "fs used MiB"]
    print("| %s |\n|%s" % (" | ".join(header), "---|" * len(header)))
    for case, row in rows:
        if isinstance(row, str):
            print("| %s | %s |" % (case, row))
        else:
            print("| %s | %.3f | %.2f | %.2f | %s | %.3f | %.3f | %.1f | %.1f |" % ((case,) + tuple(row)))


if __name__ == "__main__":
    main()
