"""Audit cost against ``ansible -m ping``: the audit must cost one module round trip per host.

Prints, for the same hosts and the same number of runs, the wall time of ``ansible -m ping`` and of
``ansible-playbook playbooks/audit.yml``, and their ratio (goal <= 1.5). With ``--hosts N`` the inventory holds
N local-connection aliases of this machine, so the fleet slope can be read (seconds per extra host).

    python bench/audit_vs_ping.py --runs 5
    python bench/audit_vs_ping.py --runs 3 --hosts 1 --hosts 50 --hosts 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")


def inventory(hosts, directory):
    path = os.path.join(directory, "hosts-%d.ini" % hosts)
    with open(path, "w") as handle:
        handle.write("[bench]\n")
        for i in range(hosts):
            handle.write("bench-%03d ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" % i)
    return path


def timed(argv, env):
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit("command failed (%s): %s\n%s%s" % (proc.returncode, " ".join(argv), proc.stdout[-2000:],
                                                    proc.stderr[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, action="append")
    parser.add_argument("--forks", type=int, default=50)
    args = parser.parse_args()
    sizes = args.hosts or [1]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORKS=str(args.forks),
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        env["ANSIBLE_LOCAL_TEMP"] = work
        for hosts in sizes:
            inv = inventory(hosts, work)
            ping = [os.path.join(BIN, "ansible"), "-i", inv, "bench", "-m", "ansible.builtin.ping"]
            audit = [os.path.join(BIN, "ansible-playbook"), "-i", inv, "playbooks/audit.yml",
                     "-e", "docker_storage_audit_report_dir=%s" % os.path.join(work, "report")]
            timed(ping, env)  # warm the caches once, untimed
            pings, audits = [], []
            for dummy in range(args.runs):  # interleaved, so load changes hit both alike
                pings.append(timed(ping, env))
                audits.append(timed(audit, env))
            rows.append((hosts, statistics.median(pings), statistics.median(audits)))
    print("%6s  %10s  %10s  %6s" % ("hosts", "ping s", "audit s", "ratio"))
    for hosts, ping, audit in rows:
        print("%6d  %10.2f  %10.2f  %6.2f" % (hosts, ping, audit, audit / ping))
    if len(rows) > 1:
        (h0, p0, a0), (h1, p1, a1) = rows[0], rows[-1]
        ping_slope, audit_slope = (p1 - p0) / (h1 - h0), (a1 - a0) / (h1 - h0)
        print("slope per host: ping %.4f s, audit %.4f s, ratio %.2f (goal <= 1.5)"
              % (ping_slope, audit_slope, audit_slope / ping_slope if ping_slope > 0 else float("nan")))
    print("goal: audit <= 1.5 x ping (median of %d interleaved runs)" % args.runs)


if __name__ == "__main__":
    main()
