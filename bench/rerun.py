"""Idempotent rerun cost: the whole docker_storage role run again on a converged host, and in check mode.

Prints, for each run, the wall time, the changed count, and how many tasks ran and how many of them reached the
host (a module run there, not set_fact/assert/debug/include on the controller). The goal: changed=0, and a
rerun faster than geerlingguy.docker's on the same kind of VM (recorded in the project's goals: 80.8 s rerun
with 25 tasks, 72.3 s in check mode, Debian 12 under qemu TCG). Compare figures from one session only.

    python bench/rerun.py --inventory INVENTORY --playbook molecule/btrfs/converge.yml
    python bench/rerun.py --inventory INVENTORY --playbook PLAYBOOK --runs 3 --json

The molecule scenarios call it on their converged VM (btrfs scenario), so its figures are in their log.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# Actions that run on the controller only: they do not cost a round trip to the host.
LOCAL_ACTIONS = {
    "set_fact", "assert", "debug", "fail", "include_tasks", "import_tasks", "include_role", "import_role",
    "meta", "include_vars", "validate_argument_spec",
}


def short(action):
    return action.rsplit(".", 1)[-1]


def run_once(args, check):
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "--inventory", args.inventory,
            args.playbook]
    if check:
        argv += ["--check", "--diff"]
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", LC_ALL="C.UTF-8")
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        sys.exit("ansible-playbook rc %d, no JSON report: %s" % (proc.returncode, proc.stderr[-2000:]))
    tasks = remote = 0
    on_host = []
    for play in report["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                if result.get("skipped"):
                    continue
                tasks += 1
                if short(result.get("action", "")) not in LOCAL_ACTIONS:
                    remote += 1
                    on_host.append("%s (%s)" % (task["task"]["name"], short(result.get("action", ""))))
    stats = report["stats"]
    return {"check": check, "seconds": round(elapsed, 2), "rc": proc.returncode,
            "changed": sum(s["changed"] for s in stats.values()),
            "failures": sum(s["failures"] + s["unreachable"] for s in stats.values()),
            "tasks_run": tasks, "tasks_on_host": remote, "hosts": len(stats), "on_host": on_host}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--playbook", required=True, help="the converge playbook (applies the role)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object too")
    parser.add_argument("--list", action="store_true", help="name the tasks that reached the host")
    args = parser.parse_args()
    results = []
    for _run in range(args.runs):
        for check in (False, True):
            result = run_once(args, check)
            results.append(result)
            print("%-6s %6.1f s  changed=%d failed=%d  tasks run %d, reaching the host %d" % (
                "check" if check else "rerun", result["seconds"], result["changed"], result["failures"],
                result["tasks_run"], result["tasks_on_host"]), flush=True)
            if args.list:
                for name in result["on_host"]:
                    print("         on the host: %s" % name)
    summary = {}
    for kind, check in (("rerun", False), ("check", True)):
        times = [r["seconds"] for r in results if r["check"] is check]
        summary[kind] = {"median_s": round(statistics.median(times), 2),
                         "changed": max(r["changed"] for r in results if r["check"] is check),
                         "failures": max(r["failures"] for r in results if r["check"] is check)}
    print("median rerun %.1f s (geerlingguy.docker's recorded: 80.8 s), check %.1f s (recorded: 72.3 s); "
          "changed: %d" % (summary["rerun"]["median_s"], summary["check"]["median_s"],
                           summary["rerun"]["changed"] + summary["check"]["changed"]))
    if args.json:
        print(json.dumps({"runs": results, "summary": summary}))
    return 1 if any(r["failures"] or r["rc"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
