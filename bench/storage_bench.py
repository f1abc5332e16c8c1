"""The storage benchmark playbook (cowstack.docker_storage.bench) on this machine, as `make bench` runs it.

Against the running dockerd (DOCKER_HOST, else /var/run/docker.sock) when it answers; otherwise (or with
--private), as root with dockerd installed, against a private dockerd on a fresh loop filesystem of each kind in
--fs (--size each; tests/integration/realhost), stopped and undone afterwards. With several filesystems each
daemon is a host of its own in the inventory (local-<fs>, dockerd's default driver there), so the report shows
the drivers side by side and compares them (one daemon at a time). The report is written to --report-dir
(bench-report/ by default): hosts/*.json, bench.md, fleet.json and bench.png. Prints the Markdown. The
playbook's own variables can be given with -e.

    python3 bench/storage_bench.py
    python3 bench/storage_bench.py --private --fs ext4,btrfs -e docker_storage_bench_runs=3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import realhost  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = "playbooks/bench.yml"


def daemon_answers(host):
    if not host.startswith("unix://"):
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(3)
    try:
        sock.connect(host[len("unix://"):])
        return True
    except OSError:
        return False
    finally:
        sock.close()


def run(extra, inventory=None, hosts=("localhost",)):
    proc, document = realhost.run_playbook(PLAYBOOK, extra, inventory=inventory)
    if document is None:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        return 1
    for host in hosts:
        bench = realhost.task_result(document, "Benchmark the storage driver against the raw filesystem", host) or {}
        if bench.get("failed") or not bench:
            sys.stderr.write("%s: the benchmark failed: %s\n" % (host, bench.get("msg")))
    with open(os.path.join(extra["docker_storage_bench_report_dir"], "bench.md")) as handle:
        print(handle.read())
    return proc.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--private", action="store_true", help="a private dockerd even if one is running")
    parser.add_argument("--fs", default="ext4", help="comma list of loop filesystems: %s" % ", ".join(
        sorted(realhost.FILESYSTEMS)))
    parser.add_argument("--size", default="3G", help="size of each loop filesystem")
    parser.add_argument("--report-dir", default=os.path.join(ROOT, "bench-report"))
    parser.add_argument("-e", dest="extra", action="append", default=[], help="a playbook variable, name=value")
    args = parser.parse_args()
    extra = {"docker_storage_bench_report_dir": os.path.abspath(args.report_dir),
             "docker_storage_bench_become": os.geteuid() != 0}
    for item in args.extra:
        name, _sep, value = item.partition("=")
        try:
            extra[name] = json.loads(value)
        except ValueError:
            extra[name] = value
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not args.private and daemon_answers(host):
        print("benchmarking the running dockerd at %s" % host, file=sys.stderr)
        return run(extra)
    if os.geteuid() != 0:
        sys.exit("no dockerd answers at %s, and a private one needs root" % host)
    kinds = [k.strip() for k in args.fs.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in realhost.FILESYSTEMS]
    if unknown or not kinds:
        parser.error("--fs: a comma list of %s" % ", ".join(sorted(realhost.FILESYSTEMS)))
    print("benchmarking a private dockerd on a %s loop filesystem of each of %s" % (args.size, ", ".join(kinds)),
          file=sys.stderr)
    with contextlib.ExitStack() as stack:
        lines = ["[bench]"]
        for kind in kinds:
            mnt = stack.enter_context(realhost.loop_filesystem(kind, args.size))
            daemon = stack.enter_context(realhost.dockerd(os.path.join(mnt, "docker")))
            if not daemon.started:
                sys.exit("the private dockerd on %s did not start: %s" % (kind, daemon.error_line()))
            lines.append("local-%s ansible_connection=local docker_storage_bench_docker_host=unix://%s"
                         % (kind, daemon.socket))
        inventory = os.path.join(stack.enter_context(tempfile.TemporaryDirectory(prefix="cowstack-bench-")),
                                 "inventory.ini")
        with open(inventory, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        # one daemon at a time: they share this machine's disk and cores
        return run(dict({"docker_storage_bench_serial": 1}, **extra), inventory, ["local-%s" % kind for kind in kinds])


if __name__ == "__main__":
    sys.exit(main())
