"""The storage benchmark playbook (cowstack.docker_storage.bench) on this machine, as `make bench` runs it.

Against the running dockerd (DOCKER_HOST, else /var/run/docker.sock) when it answers; otherwise, as root with
dockerd installed, against a private dockerd on a fresh loop filesystem (--fs, --size; tests/integration/realhost),
stopped and undone afterwards. The report is written to --report-dir (bench-report/ by default): hosts/*.json,
bench.md, fleet.json and bench.png. Prints the Markdown. The playbook's own variables can be given with -e.

    python3 bench/storage_bench.py
    python3 bench/storage_bench.py --private --fs btrfs -e docker_storage_bench_runs=3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

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


def run(extra):
    proc, document = realhost.run_playbook(PLAYBOOK, extra)
    if document is None:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        return 1
    bench = realhost.task_result(document, "Benchmark the storage driver against the raw filesystem") or {}
    if bench.get("failed"):
        sys.stderr.write("the benchmark failed: %s\n" % bench.get("msg"))
    with open(os.path.join(extra["docker_storage_bench_report_dir"], "bench.md")) as handle:
        print(handle.read())
    return proc.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--private", action="store_true", help="a private dockerd even if one is running")
    parser.add_argument("--fs", default="ext4", choices=sorted(realhost.FILESYSTEMS), help="its loop filesystem")
    parser.add_argument("--size", default="3G", help="size of that loop filesystem")
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
    print("no dockerd at %s: a private one on a %s %s loop filesystem" % (host, args.size, args.fs), file=sys.stderr)
    with realhost.loop_filesystem(args.fs, args.size) as mnt:
        with realhost.dockerd(os.path.join(mnt, "docker")) as daemon:
            if not daemon.started:
                sys.exit("the private dockerd did not start: %s" % daemon.error_line())
            extra["docker_storage_bench_docker_host"] = "unix://" + daemon.socket
            return run(extra)


if __name__ == "__main__":
    sys.exit(main())
