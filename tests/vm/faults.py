#!/usr/bin/env python
"""The fault suite of cowstack.docker_storage, run against one VM of the `faults` Molecule scenario.

    faults.py --ansible-playbook BIN --inventory DIR --playbook converge.yml --state-dir DIR --report F.json NAME
    faults.py table F.json [G.json...]    (one Markdown table over the reports of several VMs)

Each fault starts from the same host (Docker on overlay2 with the images of /root/images_before.txt, a volume
holding a file, foreign daemon.json keys; /usr/local/sbin/cowstack-fault-reset puts it back), runs converge.yml
(a switch to zfs with save_load), cuts it or breaks the host under it at a phase, then reruns converge.yml,
which must converge, and checks that nothing was lost. Standard library only; the VM is reached with vm.py.
Prints one Markdown table row per fault and writes every detail to the --report file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VM_PY = os.path.join(HERE, "vm.py")
ROLE = "cowstack.docker_storage.docker_storage : "
SAVE_WAIT = ROLE + "Wait for docker save"
VACATED = ROLE + "Record that the data-root is vacated"
DAEMON_JSON = ROLE + "Write daemon.json"
LOAD_WAIT = ROLE + "Wait for docker load"
RESTARTING = ROLE + "Record that docker restarts on the new settings"
VOLUME_COPY = ROLE + "Copy the volumes beside"
IMAGES = "docker image ls --all --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort"


def killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass  # already gone


PROGRESS = os.environ.get("COWSTACK_FAULTS_REPORT", "") and os.environ["COWSTACK_FAULTS_REPORT"] + ".log"


def log(msg):
    line = "[faults %s] %s" % (time.strftime("%H:%M:%S"), msg)
    print(line, file=sys.stderr, flush=True)
    if PROGRESS:  # molecule shows the side_effect's output only at its end: this file shows it as it goes
        with open(PROGRESS, "a") as handle:
            handle.write(line + "\n")


class Suite(object):
    def __init__(self, args):
        self.args = args
        self.name = args.name
        self.results = []

    # -- the guest -----------------------------------------------------------------------------------------
    def guest(self, command, timeout=600, check=False):
        argv = [sys.executable, VM_PY, "--state-dir", self.args.state_dir, "ssh", self.name, "--", command]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError("guest: %s -> rc %s: %s %s" % (command, proc.returncode, proc.stdout, proc.stderr))
        return proc.returncode, proc.stdout

    def reset_vm(self):
        """A hard reset (QMP system_reset), then wait until the guest is booted again."""
        subprocess.run([sys.executable, VM_PY, "--state-dir", self.args.state_dir, "reset", self.name], check=True,
                       timeout=900)

    def baseline(self):
        rc, out = self.guest("/usr/local/sbin/cowstack-fault-reset 2>&1", timeout=900)
        if rc != 0:
            raise RuntimeError("the host could not be put back to its starting point: %s" % out)

    def state(self):
        """What must survive every fault."""
        _rc, images = self.guest(IMAGES)
        _rc, expected = self.guest("cat /root/images_before.txt")
        _rc, volume = self.guest("cat /var/lib/docker/volumes/cowstack-data/_data/kept.txt 2>/dev/null")
        _rc, daemon = self.guest("cat /etc/docker/daemon.json")
        _rc, driver = self.guest("docker info --format '{{.Driver}}' 2>/dev/null")
        _rc, journal = self.guest("test -e /var/lib/cowstack-docker-storage/switch.json && echo present || echo absent")
        _rc, spool = self.guest("test -e /srv/spool/migration && echo present || echo absent")
        try:
            keys = json.loads(daemon)
        except ValueError:
            keys = {}
        return {"images_same": images.split() == expected.split() and bool(expected.strip()),
                "images": len(images.splitlines()), "volume_file": volume.strip(),
                "foreign_keys": keys.get("log-driver") == "json-file" and keys.get("log-opts", {}).get("max-size") == "10m",
                "driver": driver.strip(), "journal": journal.strip(), "spool": spool.strip()}

    DIAGNOSE = ("journalctl --list-boots --no-pager | tail -3",
                "journalctl -b --no-pager -o short-monotonic -u docker.service -u docker.socket -u containerd.service "
                "-u zfs-import-cache.service -u zfs-mount.service | tail -60",
                "ls -la /etc/systemd/system/docker.service.d /var/lib/cowstack-docker-storage 2>&1",
                "head -c 2000 /etc/systemd/system/docker.service.d/*.conf /var/lib/cowstack-docker-storage/* 2>&1",
                "ls -la /var/lib/docker /var/lib/docker.cowstack-* 2>&1 | head -40",
                "findmnt -R /var/lib; zpool status 2>&1; zfs list 2>&1 | head")

    def diagnose(self):
        """What a failed fault's host looks like after its rerun: the boots, docker's units this boot, the drop-ins,
        the journal and hold, the data-root and what is beside it, the mounts and the pool."""
        return [{"command": c, "output": self.guest(c + " 2>&1", timeout=120)[1][-4000:]} for c in self.DIAGNOSE]

    # -- the controller's runs -----------------------------------------------------------------------------
    def converge(self, act_on=None, act=None, label="run", extra=None):
        """converge.yml; ``act(proc)`` is called once, when ``act_on`` (``("start"|"done", task name prefix)``) is
        seen in the output. -> (rc, output, acted)."""
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   PYTHONUNBUFFERED="1")
        argv = [self.args.ansible_playbook, "--inventory", self.args.inventory, self.args.playbook]
        if extra:
            argv += ["--extra-vars", json.dumps(extra)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        lines, acted, seen = [], False, False
        for line in proc.stdout:
            lines.append(line)
            if acted or act_on is None:
                continue
            when, task = act_on
            if line.startswith("TASK [") and line[len("TASK ["):].startswith(task):
                seen = True
                if when == "start":
                    acted = True
            elif seen and when == "done" and line.split(":")[0] in ("ok", "changed"):
                acted = True
            if acted:
                log("%s: %s %s -> acting" % (label, when, task))
                act(proc)
        rc = proc.wait()
        return rc, "".join(lines), acted

    @staticmethod
    def kill9(proc):
        """kill -9 of the ansible-playbook process; its forked workers, left behind, go a few seconds later (what
        runs on the host - a module, an async docker save - goes on)."""
        os.kill(proc.pid, signal.SIGKILL)
        threading.Timer(5, killpg, (proc.pid,)).start()

    def cut_power(self, proc):
        """A power cut at this point: the guest is reset at once; the ansible-playbook that was driving it is killed
        (its connection is gone)."""
        self.resetting = threading.Thread(target=self.reset_vm)
        self.resetting.start()
        time.sleep(2)
        killpg(proc.pid)

    def wait_guest(self):
        subprocess.run([sys.executable, VM_PY, "--state-dir", self.args.state_dir, "wait", self.name], check=True,
                       timeout=900)

    # -- one fault -----------------------------------------------------------------------------------------
    def record(self, fault, phase, first, rerun, extra_checks=None, note=""):
        state = self.state()
        checks = {"rerun converged": rerun[0] == 0, "same image IDs and tags": state["images_same"],
                  "volume file kept": state["volume_file"] == "kept", "foreign daemon.json keys kept": state["foreign_keys"],
                  "docker on zfs": state["driver"] == "zfs", "no journal left": state["journal"] == "absent",
                  "spool removed": state["spool"] == "absent"}
        checks.update(extra_checks or {})
        row = {"fault": fault, "phase": phase, "first_run_rc": first[0], "acted": first[2] if len(first) > 2 else None,
               "rerun_rc": rerun[0], "checks": checks, "state": state, "note": note,
               "passed": all(checks.values())}
        if not row["passed"]:
            row["first_run_tail"] = first[1][-4000:]
            row["rerun_tail"] = rerun[1][-4000:]
            row["diagnostics"] = self.diagnose()
        self.results.append(row)
        failed = ", ".join(k for k, v in checks.items() if not v)
        log("%s / %s: %s %s" % (fault, phase, "passed" if row["passed"] else "FAILED", failed))
        return row

    def cut(self, how, phase, marker):
        self.baseline()
        start = time.time()
        act = self.kill9 if how == "kill" else self.cut_power
        first = self.converge(marker, act, label="%s %s" % (how, phase))
        if how == "reset" and first[2]:
            self.resetting.join()
            self.wait_guest()
        rerun = self.converge(label="rerun")
        row = self.record("kill -9 of ansible-playbook" if how == "kill" else "hard reset of the VM (power cut)",
                          phase, first, rerun, {"the cut happened at the phase": first[2]})
        row["seconds"] = round(time.time() - start)

    def spool_full_during_save(self):
        self.baseline()
        start = time.time()

        def fill(_proc):
            self.guest("fallocate -l $(( $(df --output=avail -B1 /srv/spool | tail -1) - 4096 )) /srv/spool/filler")
        first = self.converge(("start", SAVE_WAIT), fill, label="spool full")
        _rc, driver = self.guest("docker info --format '{{.Driver}}'")
        _rc, images = self.guest(IMAGES)
        _rc, expected = self.guest("cat /root/images_before.txt")
        still = {"the save failed the run": first[0] != 0,
                 "docker still on overlay2 with every image after the failed save": driver.strip() == "overlay2"
                 and images.split() == expected.split()}
        self.guest("rm -f /srv/spool/filler")
        rerun = self.converge(label="rerun after freeing the spool")
        row = self.record("the spool's filesystem fills up", "during docker save", first, rerun, still)
        row["seconds"] = round(time.time() - start)

    def pool_full_during_load(self):
        self.baseline()
        start = time.time()

        def fill(_proc):
            self.guest("zfs create -o refreservation=$(zfs get -Hp -o value available dockerpool) dockerpool/hog "
                       "|| zfs create -o refreservation=$(( $(zfs get -Hp -o value available dockerpool) - 65536 )) "
                       "dockerpool/hog")
        first = self.converge(("start", LOAD_WAIT), fill, label="pool full")
        _rc, journal = self.guest("cat /var/lib/cowstack-docker-storage/switch.json 2>/dev/null")
        _rc, aside = self.guest("test -d /var/lib/docker.cowstack-overlay2/overlay2 && echo kept")
        _rc, tar = self.guest("test -s /srv/spool/migration/images.tar && echo kept")
        still = {"the load failed the run": first[0] != 0,
                 "the journal says the load is pending": '"switched"' in journal,
                 "the previous state is kept aside": aside.strip() == "kept",
                 "the saved images are kept in the spool": tar.strip() == "kept"}
        self.guest("zfs destroy dockerpool/hog")
        rerun = self.converge(label="rerun after freeing the pool")
        row = self.record("the pool fills up", "during docker load", first, rerun, still)
        row["seconds"] = round(time.time() - start)

    def two_runs_at_once(self):
        self.baseline()
        start = time.time()
        out = {}

        def run(key):
            out[key] = self.converge(label=key)
        threads = [threading.Thread(target=run, args=(k,)) for k in ("a", "b")]
        for t in threads:
            t.start()
            time.sleep(1)
        for t in threads:
            t.join()
        refused = [k for k, v in out.items() if v[0] != 0 and "holds the lock on this host" in v[1]]
        done = [k for k, v in out.items() if v[0] == 0]
        first = out[refused[0]] if refused else out["b"]
        rerun = out[done[0]] if done else out["a"]
        checks = {"one run refused by the lock": len(refused) == 1, "the other converged": len(done) == 1,
                  "the refused run changed nothing": bool(refused) and "changed=0" in first[1]}
        row = self.record("two runs against one host at once", "the whole run", first, rerun, checks)
        row["seconds"] = round(time.time() - start)

    def dockerd_fails_at_start(self):
        """dockerd refuses the new settings at its restart (an exec-root it cannot create): the role puts back the
        previous daemon.json (byte for byte) and data-root and starts docker on them; without the bad option the
        next run converges."""
        self.baseline()
        start = time.time()
        _rc, before = self.guest("sha256sum < /etc/docker/daemon.json")
        first = self.converge(label="dockerd refuses", extra={
            "docker_storage_daemon_options": {"exec-root": "/proc/cowstack-cannot-create"}})
        _rc, after = self.guest("sha256sum < /etc/docker/daemon.json")
        _rc, driver = self.guest("docker info --format '{{.Driver}}'")
        _rc, images = self.guest(IMAGES)
        _rc, expected = self.guest("cat /root/images_before.txt")
        _rc, journal = self.guest("test -e /var/lib/cowstack-docker-storage/switch.json && echo present || echo absent")
        _rc, hold = self.guest("test -e /var/lib/cowstack-docker-storage/hold-docker && echo present || echo absent")
        rolled_back = {"the failed start failed the run": first[0] != 0,
                       "the message quotes dockerd": "cowstack-cannot-create" in first[1].rsplit("dockerd said -", maxsplit=1)[-1],
                       "daemon.json is the previous file, byte for byte": before == after,
                       "docker runs overlay2 again with every image": driver.strip() == "overlay2"
                       and images.split() == expected.split(),
                       "no journal, no hold after the rollback": journal.strip() == "absent" and hold.strip() == "absent"}
        rerun = self.converge(label="rerun without the bad option")
        row = self.record("dockerd fails at start on the new settings", "the restart", first, rerun, rolled_back)
        row["seconds"] = round(time.time() - start)

    def backend_fails_after_vacate(self):
        self.baseline()
        start = time.time()
        self.guest("systemctl daemon-reload && systemctl start cowstack-fault-holder.path", check=True)
        first = self.converge(label="device taken")
        _rc, driver = self.guest("docker info --format '{{.Driver}}'")
        _rc, images = self.guest(IMAGES)
        _rc, expected = self.guest("cat /root/images_before.txt")
        _rc, aside = self.guest("test -e /var/lib/docker.cowstack-overlay2 && echo present || echo absent")
        _rc, journal = self.guest("test -e /var/lib/cowstack-docker-storage/switch.json && echo present || echo absent")
        rolled_back = {"the zfs step failed the run": first[0] != 0 and "Preparing zfs under" in first[1],
                       "the rollback says the previous state is back": "The previous state is back and docker runs"
                       in first[1],
                       "docker runs overlay2 again with every image": driver.strip() == "overlay2"
                       and images.split() == expected.split(),
                       "the data-root is back in place": aside.strip() == "absent",
                       "no journal after the rollback": journal.strip() == "absent"}
        self.guest("systemctl stop cowstack-fault-holder.path cowstack-fault-holder.service", check=True)
        rerun = self.converge(label="rerun with the device free")
        row = self.record("the backend fails after the data-root was vacated (its disk taken by another program)",
                          "the zfs step (pool creation)", first, rerun, rolled_back)
        row["seconds"] = round(time.time() - start)

    def snapshot_on_full_pool(self):
        """On the converged host: the snapshot tool the role installed (target dockerpool/docker), run by hand at
        three hours in a row - before, with the pool full, after space is freed."""
        start = time.time()
        tool = "/usr/local/sbin/cowstack-snapshot"
        now = int(time.time())
        _rc, before = self.guest("%s --now %d; echo rc=$?; zfs list -H -t snapshot -o name dockerpool/docker"
                                 % (tool, now))
        self.guest("zfs create -o refreservation=$(( $(zfs get -Hp -o value available dockerpool) - 65536 )) "
                   "dockerpool/hog")
        _rc, avail = self.guest("zfs get -Hp -o value available dockerpool")
        _rc, full = self.guest("%s --now %d 2>&1; echo rc=$?" % (tool, now + 3600))
        _rc, kept = self.guest("zfs list -H -t snapshot -o name dockerpool/docker")
        self.guest("zfs destroy dockerpool/hog")
        _rc, after = self.guest("%s --now %d 2>&1; echo rc=$?" % (tool, now + 7200))
        _rc, final = self.guest("zfs list -H -r -t snapshot -o name dockerpool/docker")
        earlier = [s for s in before.split() if "@" in s]
        checks = {"a snapshot was taken before": "rc=0" in before and bool(earlier),
                  "the pool was full (under 1 MiB available)": avail.strip().isdigit() and int(avail) < 1024 ** 2,
                  "the run on the full pool ended with a status, no traceback": "rc=" in full and "Traceback" not in full,
                  "no earlier snapshot lost on the full pool": all(s in kept.split() for s in earlier),
                  "a run after freeing space succeeds": "rc=0" in after,
                  "Docker's layer datasets never snapshotted": all("dockerpool/docker/" not in s for s in final.split())}
        row = {"fault": "the pool is full during a snapshot run", "phase": "cowstack-snapshot", "checks": checks,
               "full_pool_output": full[-2000:], "snapshots": final.split(),
               "passed": all(checks.values()), "seconds": round(time.time() - start)}
        self.results.append(row)
        log("snapshot on a full pool: %s (%s)" % ("passed" if row["passed"] else "FAILED %s" % checks,
                                                  full.strip().splitlines()[-1:]))

    # -- all of them ---------------------------------------------------------------------------------------
    def plan(self, part="all"):
        """The faults of ``part`` in the order they run: ``all``, or one of two halves that two VMs can run at once
        (``kill``: the kill -9 cuts, the full spool and pool; ``reset``: the power cuts, two runs at once, dockerd
        failing, the backend failing). Each ends with the snapshot run on a full pool, on the host the last fault
        left converged."""
        cuts = [("save", "mid docker save", ("start", SAVE_WAIT)),
                ("vacated", "after the data-root was vacated", ("done", VACATED)),
                ("volumes", "mid copy of the volumes", ("start", VOLUME_COPY)),
                ("daemon_json", "after daemon.json was written", ("done", DAEMON_JSON)),
                ("restart", "just before the restart", ("done", RESTARTING)),
                ("load", "mid docker load", ("start", LOAD_WAIT))]

        def cuts_of(how):
            return [(lambda p=phase, m=marker: self.cut(how, p, m)) for _name, phase, marker in cuts]
        kill = cuts_of("kill") + [self.spool_full_during_save, self.pool_full_during_load]
        reset = cuts_of("reset") + [self.two_runs_at_once, self.dockerd_fails_at_start, self.backend_fails_after_vacate]
        steps = {"all": cuts_of("kill") + cuts_of("reset") + kill[-2:] + reset[-3:], "kill": kill, "reset": reset}
        if part == "names":  # what --only takes besides the method names: kill_save ... reset_load
            return dict(("%s_%s" % (how, name), step) for how in ("kill", "reset")
                        for (name, _p, _m), step in zip(cuts, cuts_of(how)))
        if part not in steps:
            raise SystemExit("faults.py: unknown part %r (all, kill, reset)" % part)
        return steps[part] + [self.snapshot_on_full_pool]

    def run(self, part="all", after_each=None):
        for step in self.plan(part):
            step()
            if after_each:
                after_each()
        return self.results


def table(results):
    rows = ["| fault | phase | outcome | what was checked |", "|---|---|---|---|"]
    for r in results:
        rows.append("| %s | %s | %s | %s |" % (r["fault"], r["phase"], "passed" if r["passed"] else "FAILED",
                                               "; ".join("%s: %s" % (k, "yes" if v else "NO")
                                                         for k, v in r["checks"].items())))
    return rows


# What record() checks after every fault's rerun: the README's table names them once, and each row its own.
COMMON_CHECKS = ("rerun converged", "same image IDs and tags", "volume file kept", "foreign daemon.json keys kept",
                 "docker on zfs", "no journal left", "spool removed")


def merged_table(paths):
    """``faults.py table A.json [B.json...]``: one table over the reports of several VMs (the README's): the
    platform and the minutes in each row, the checks every rerun makes named once, each row's own checks, and the
    counts."""
    rows = ["| fault | phase | platform | outcome | checked besides the rerun's checks | min |", "|---|---|---|---|---|---|"]
    total = passed = 0
    common_failed, notes = [], []
    for path in paths:
        with open(path) as handle:
            report = json.load(handle)
        for r in report["faults"]:
            own = ["%s%s" % (k, "" if v else ": NO") for k, v in r["checks"].items() if k not in COMMON_CHECKS]
            common_failed += ["%s / %s: %s" % (r["fault"], r["phase"], k) for k, v in r["checks"].items()
                              if k in COMMON_CHECKS and not v]
            rows.append("| %s | %s | %s | %s | %s | %s |" % (
                r["fault"], r["phase"], report["host"], "passed" if r["passed"] else "FAILED",
                "; ".join(own) or "-", round(r.get("seconds", 0) / 60.0, 1)))
        total += len(report["faults"])
        passed += sum(r["passed"] for r in report["faults"])
        if not report.get("complete", True):
            notes.append("%s: the run was stopped after %d of its %d faults"
                         % (report["host"], len(report["faults"]), report["planned"]))
    rows.append("")
    rows += ["%s." % n for n in notes]
    rows.append("The rerun's checks, on every row but the snapshot run: %s." % ", ".join(COMMON_CHECKS))
    if common_failed:
        rows.append("Failed among them: %s." % "; ".join(common_failed))
    rows.append("%d faults, %d passed, %d failed." % (total, passed, total - passed))
    return rows


def main():
    if sys.argv[1:2] == ["table"]:
        print("\n".join(merged_table(sys.argv[2:])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ansible-playbook", required=True)
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--playbook", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--only", action="append",
                    default=[n for n in os.environ.get("COWSTACK_FAULTS_ONLY", "").split(",") if n],
                    help="run only these faults (a method name, or kill_save ... reset_load), in that order (environment: "
                         "COWSTACK_FAULTS_ONLY, comma-separated)")
    ap.add_argument("--part", default=os.environ.get("COWSTACK_FAULTS_PART") or "all",
                    help="all (default), or the half named kill or reset (environment: COWSTACK_FAULTS_PART)")
    ap.add_argument("name")
    args = ap.parse_args()
    suite = Suite(args)
    started = time.time()
    planned = len(args.only) if args.only else len(suite.plan(args.part))

    def write_report(complete):
        """After each fault too (complete false), so that a run cut short still leaves the rows it made."""
        report = {"host": args.name, "part": "only" if args.only else args.part, "planned": planned,
                  "complete": complete, "seconds": round(time.time() - started), "faults": suite.results,
                  "passed": all(r["passed"] for r in suite.results)}
        with open(args.report + ".tmp", "w") as handle:
            json.dump(report, handle, indent=2)
        os.rename(args.report + ".tmp", args.report)
        return report
    named = suite.plan("names")
    unknown = [n for n in args.only if n not in named and (not callable(getattr(suite, n, None)) or n.startswith("_"))]
    if unknown:
        raise SystemExit("faults.py: unknown fault %s (a method name, or one of %s)"
                         % (", ".join(unknown), ", ".join(sorted(named))))
    if args.only:
        for name in args.only:
            (named.get(name) or getattr(suite, name))()
            write_report(False)
    else:
        suite.run(args.part, after_each=lambda: write_report(False))
    report = write_report(True)
    print("\n".join(table(suite.results)))
    print("%d faults, %d passed, %d s" % (len(suite.results), sum(r["passed"] for r in suite.results),
                                          report["seconds"]))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
