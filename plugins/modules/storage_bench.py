#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: storage_bench
short_description: Benchmark the Docker storage driver of a host against its raw backing filesystem
version_added: 0.1.0
description:
  - Measures, in one module call, what the host's current storage driver costs, each figure O(runs) times
    (min, median, max), and beside it the same work done directly on the filesystem under Docker's data-root
    (the raw side, the physical limit) - container cold start and warm starts, small-file writes and reads,
    a sequential write with fsync, the copy-up of a one-line append to a large file of the image (its time,
    docker's C(SizeRw) and the space really taken), and the shared size of two images committed over one base.
  - Builds its test images locally, no registry needed - a small image by C(docker import) of a tarball of the
    host's static C(/bin/busybox) (or O(image), which must already be on the host), and the others from it by
    C(docker commit) - and labels everything it creates C(cowstack.bench=<run id>).
  - Container-side work runs by C(docker exec) in a long-running container, the raw side as the same shell
    commands on the host, in a scratch directory C(<data-root>/.cowstack-bench-<run id>) on the data-root's
    filesystem; both are timed inside the shell between two readings of C(/proc/uptime) (10 ms steps), so the
    cost of starting them (a C(docker exec), seconds under emulation) is left out. The C(docker exec ... true)
    and C(sh -c true) medians are returned as RV(baselines).
  - Before anything is created, the room on the data-root's filesystem is checked against what the run will
    write, with a margin (5% of the filesystem, at least 256 MiB); a run that does not fit is refused.
  - At the end, also on failure, it removes the containers and images labelled with its run id and the scratch
    directory, and nothing else.
requirements:
  - Linux, root, Python 3 on the managed node.
  - A running dockerd reachable on a unix socket, and the docker CLI.
  - A statically linked C(/bin/busybox) (Debian's C(busybox-static)) unless O(image) is given.
author:
  - cowstack maintainers (@cowstack)
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
attributes:
  check_mode:
    support: full
    details: Creates nothing; returns the plan and the room check (and fails where a real run would be refused).
  diff_mode:
    support: none
  idempotent:
    support: N/A
    details:
      - A measurement, not managed state - each run creates its test images and containers and removes them
        again, so the host is left as it was, and reports C(changed=false). The figures differ from run to run.
  platform:
    platforms: linux
options:
  docker_host:
    description:
      - Daemon to benchmark, as in E(DOCKER_HOST); only C(unix://) sockets (the data-root must be local).
      - Defaults to E(DOCKER_HOST) of the module's environment, else C(unix:///var/run/docker.sock).
    type: str
  runs:
    description: How many times each figure is measured (at least 1).
    type: int
    default: 5
  warm_starts:
    description: Warm starts timed after each cold start (at least 1).
    type: int
    default: 5
  small_files:
    description: Number of files of the small-file write and read tests (at least 1).
    type: int
    default: 1000
  write_mib:
    description: MiB written by the sequential write test (at least 1).
    type: int
    default: 256
  big_mib:
    description: MiB of the image file the copy-up test appends to (at least 1).
    type: int
    default: 256
  image:
    description:
      - An image already on the host to use instead of the busybox one; it needs C(sh), C(dd), C(cat), C(mkdir),
        C(rm) and C(sleep). It is never pulled, and never removed.
    type: str
  drop_caches:
    description:
      - Drop the page cache (C(sync), then C(3) to C(/proc/sys/vm/drop_caches)) before each cold start and each
        read, so that they read from the disk. Affects the whole host for a moment.
    type: bool
    default: true
  api_timeout:
    description: Seconds to wait for the daemon's API.
    type: float
    default: 60
notes:
  - The ratio of a figure is the raw median divided by the container median (1 means the container reaches the
    raw filesystem; for the copy-up space, the raw side's in-place append against the copy). Times are wall
    times with C(time.perf_counter); a net time below 0 (noise) is reported as 0.
seealso:
  - module: cowstack.docker_storage.bench_report
"""

EXAMPLES = r"""
- name: Benchmark the current storage driver, three runs of each figure
  cowstack.docker_storage.storage_bench:
    runs: 3
  register: bench

- name: A private daemon, small sizes, an image that is already there
  cowstack.docker_storage.storage_bench:
    docker_host: unix:///run/docker-test.sock
    image: busybox:latest
    write_mib: 32
    big_mib: 32
    small_files: 200
"""

RETURN = r"""
run_id:
  description: The run's id, the value of the C(cowstack.bench) label on what it created.
  returned: always
  type: str
  sample: 20261203T130501-4f2a9c
hostname:
  description: The host's name as it calls itself.
  returned: always
  type: str
driver:
  description: The storage driver dockerd runs with.
  returned: always
  type: str
  sample: overlay2
backing_fs:
  description: The filesystem under the data-root.
  returned: always
  type: dict
  contains:
    mount_point:
      description: Where it is mounted.
      type: str
    fstype:
      description: Its type.
      type: str
      sample: ext4
    source:
      description: Its device or source.
      type: str
data_root:
  description: dockerd's data-root.
  returned: always
  type: str
docker_version:
  description: dockerd's version.
  returned: always
  type: str
kernel:
  description: The running kernel (C(uname -r)).
  returned: always
  type: str
parameters:
  description:
    - The options the run used (O(runs), O(warm_starts), O(small_files), O(write_mib), O(big_mib), O(image),
      O(drop_caches)).
  returned: always
  type: dict
room:
  description: The room check on the data-root's filesystem, done before anything is created.
  returned: always
  type: dict
  contains:
    ok:
      description: Whether the run fits.
      type: bool
    needed_bytes:
      description: What the run writes at its peak.
      type: int
    margin_bytes:
      description: The margin kept free.
      type: int
    available_bytes:
      description: Free space for unprivileged users on that filesystem.
      type: int
    total_bytes:
      description: The filesystem's size.
      type: int
    msg:
      description: The check in words.
      type: str
plan:
  description: What the run creates and measures.
  returned: always
  type: dict
figures:
  description:
    - Per figure name (V(cold_start), V(warm_start), V(small_file_write), V(small_file_read), V(seq_write_fsync),
      V(copy_up_append), V(copy_up_size_rw), V(copy_up_space), V(layer_shared_size)) its C(unit) (V(s) or V(B)),
      C(container) and C(raw) statistics (C(min), C(median), C(max), C(runs); C(raw) null where there is no raw
      counterpart) and C(ratio) (raw median / container median, or null).
    - Empty in check mode.
  returned: always
  type: dict
  sample: {"seq_write_fsync": {"unit": "s", "container": {"min": 0.41, "median": 0.43, "max": 0.5,
           "runs": [0.43, 0.41, 0.5]}, "raw": {"min": 0.39, "median": 0.4, "max": 0.41, "runs": [0.4, 0.39, 0.41]},
           "ratio": 0.93}}
baselines:
  description:
    - Median seconds of C(docker exec <container> true) (C(exec)) and of the host shell running C(true)
      (C(host)) - what starting a command costs, which the figures leave out (they are timed inside the shell).
  returned: success
  type: dict
cleaned:
  description: The containers and images the run created and removed, and whether the scratch directory is gone.
  returned: success
  type: dict
warnings_list:
  description: Things that made the figures less exact (the page cache could not be dropped, for example).
  returned: always
  type: list
  elements: str
"""

import json
import os
import shutil
import socket
import statistics
import tarfile
import time
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench as B
from ansible_collections.cowstack.docker_storage.plugins.module_utils._http import unix_get
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import mount_for, parse_mountinfo

BUSYBOX = "/bin/busybox"
BUSYBOX_PACKAGE = "busybox-static"
REPO = "cowstack-bench"
ENV = {"LC_ALL": "C", "LANG": "C"}


class BenchError(Exception):
    pass


class Bench(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.docker_host = self.p["docker_host"] or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.cli = module.get_bin_path("docker")
        self.run_id = "%s-%s" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime()), uuid.uuid4().hex[:6])
        self.label = "%s=%s" % (B.LABEL, self.run_id)
        self.images = []  # tags we made, in the order made
        self.containers = []  # names we made and have not removed yet
        self.removed = {"containers": [], "images": []}
        self.warnings = []
        self.scratch = None
        self.shell = None
        self.data_root = None
        self.baselines = {}

    # -- the daemon ----------------------------------------------------------------------------------------
    def socket_path(self):
        if not self.docker_host.startswith("unix://"):
            raise BenchError("docker_host %s: only unix:// sockets are supported (the benchmark measures the "
                             "data-root's filesystem, which must be on this host)" % self.docker_host)
        return self.docker_host[len("unix://"):]

    def api(self, path):
        try:
            return json.loads(unix_get(self.socket_path(), path, self.p["api_timeout"]))
        except (OSError, ValueError) as exc:
            raise BenchError("cannot ask dockerd at %s for %s: %s (is it running?)" % (self.docker_host, path, exc))

    def docker(self, *args):
        if not self.cli:
            raise BenchError("the docker CLI is not installed on this host")
        argv = [self.cli, "-H", self.docker_host] + list(args)
        rc, out, err = self.module.run_command(argv, environ_update=ENV)
        if rc != 0:
            raise BenchError("docker %s failed (rc %s): %s" % (args[0], rc, (err or out).strip()[-500:]))
        return out

    def timed(self, argv_fn, *args):
        start = time.perf_counter()
        argv_fn(*args)
        return time.perf_counter() - start

    def host_sh(self, script):
        rc, out, err = self.module.run_command(self.shell + [script], environ_update=ENV)
        if rc != 0:
            raise BenchError("raw side: %s failed (rc %s): %s" % (script[:80], rc, (err or out).strip()[-300:]))
        return out

    def exec_sh(self, container, script):
        return self.docker("exec", container, "sh", "-c", script)

    def drop_caches(self):
        if not self.p["drop_caches"]:
            return
        os.sync()
        try:
            with open("/proc/sys/vm/drop_caches", "w") as handle:
                handle.write("3\n")
        except (IOError, OSError) as exc:
            self.warnings.append("the page cache could not be dropped (%s): cold starts and reads may be warm" % exc)
            self.p["drop_caches"] = False

    # -- preparation ---------------------------------------------------------------------------------------
    def check_busybox(self):
        if not os.path.isfile(BUSYBOX):
            raise BenchError("%s is missing: install Debian's %s (apt-get install %s), or give an image that is "
                             "already on the host" % (BUSYBOX, BUSYBOX_PACKAGE, BUSYBOX_PACKAGE))
        with open(BUSYBOX, "rb") as handle:
            static = B.elf_is_static(handle.read(65536))
        if not static:
            raise BenchError("%s is not a statically linked executable (a dynamic busybox cannot run in an empty "
                             "image): install Debian's %s (apt-get install %s), or give an image that is already "
                             "on the host" % (BUSYBOX, BUSYBOX_PACKAGE, BUSYBOX_PACKAGE))
        return os.path.getsize(BUSYBOX)

    def tag(self, name):
        return "%s:%s-%s" % (REPO, self.run_id, name)

    def cname(self, name):
        return "cowstack-bench-%s-%s" % (self.run_id, name)

    def import_small(self):
        tar_path = os.path.join(self.scratch, "small.tar")
        with tarfile.open(tar_path, "w") as tar:
            for name, kind in (("bin", tarfile.DIRTYPE), ("tmp", tarfile.DIRTYPE)):
                info = tarfile.TarInfo(name)
                info.type, info.mode = kind, 0o1777 if name == "tmp" else 0o755
                tar.addfile(info)
            tar.add(BUSYBOX, arcname="bin/busybox")
            for applet in B.APPLETS:
                info = tarfile.TarInfo("bin/" + applet)
                info.type, info.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(info)
        tag = self.tag("small")
        self.docker("import", "--change", "LABEL %s" % self.label, "--change", 'CMD ["/bin/sh"]', tar_path, tag)
        self.images.append(tag)
        os.unlink(tar_path)
        return tag

    def commit(self, name, parent, script):
        """An image over ``parent`` holding what ``script`` wrote, labelled."""
        container = self.cname("build-" + name)
        self.containers.append(container)
        self.docker("run", "--name", container, "--label", self.label, "--network", "none", parent, "sh", "-c", script)
        tag = self.tag(name)
        self.docker("commit", "--change", "LABEL %s" % self.label, container, tag)
        self.images.append(tag)
        self.remove_container(container)
        return tag

    def start(self, name, image):
        container = self.cname(name)
        self.containers.append(container)
        self.docker("run", "-d", "--name", container, "--label", self.label, "--network", "none", image,
                    "sleep", "86400")
        return container

    def remove_container(self, container):
        self.docker("rm", "-f", container)
        self.containers.remove(container)
        self.removed["containers"].append(container)

    def used(self):
        os.sync()
        st = os.statvfs(self.data_root)
        return (st.f_blocks - st.f_bfree) * st.f_frsize

    # -- measurement ---------------------------------------------------------------------------------------
    def measure(self):
        p = self.p
        runs, count = p["runs"], p["small_files"]
        self.scratch = os.path.join(self.data_root, ".cowstack-bench-" + self.run_id)
        os.mkdir(self.scratch, 0o700)
        small = p["image"] or self.import_small()
        files = self.commit("files", small, B.script_make_files("", count))
        big = self.commit("big", small, B.script_make_big("", p["big_mib"]))
        share = [self.commit("share-" + x, small, "echo %s > /%s" % (x, x)) for x in ("a", "b")]
        self.host_sh(B.script_make_files(self.scratch, count))
        self.host_sh(B.script_make_big(self.scratch, p["big_mib"]))
        work = self.start("work", files)

        base_runs = max(5, runs)
        exec_base = statistics.median([self.timed(self.docker, "exec", work, "true") for _i in range(base_runs)])
        host_base = statistics.median([self.timed(self.host_sh, "true") for _i in range(base_runs)])
        self.baselines = {"exec": exec_base, "host": host_base}

        def in_container(script, container=None):
            return B.elapsed(self.exec_sh(container or work, B.timed(script)))

        def on_host(script):
            return B.elapsed(self.host_sh(B.timed(script)))

        run_small = ("run", "--rm", "--label", self.label, "--network", "none", small, "true")
        cold, warm = [], []
        for _r in range(runs):
            self.drop_caches()
            cold.append(self.timed(self.docker, *run_small))
            warm += [self.timed(self.docker, *run_small) for _w in range(p["warm_starts"])]
        figures = {"cold_start": B.figure("cold_start", cold), "warm_start": B.figure("warm_start", warm)}

        cont, raw = [], []
        for r in range(runs):
            raw_dir = os.path.join(self.scratch, "w%d" % r)
            raw.append(on_host(B.script_small_write(raw_dir, count)))
            shutil.rmtree(raw_dir)
            cont.append(in_container(B.script_small_write("/w%d" % r, count)))
            self.exec_sh(work, "rm -rf /w%d" % r)
        figures["small_file_write"] = B.figure("small_file_write", cont, raw)

        cont, raw = [], []
        for _r in range(runs):
            self.drop_caches()
            raw.append(on_host(B.script_small_read(self.scratch)))
            self.drop_caches()
            cont.append(in_container(B.script_small_read("")))
        figures["small_file_read"] = B.figure("small_file_read", cont, raw)

        cont, raw = [], []
        for _r in range(runs):
            seq = os.path.join(self.scratch, "seq")
            raw.append(on_host(B.script_seq_write(seq, p["write_mib"])))
            os.unlink(seq)
            cont.append(in_container(B.script_seq_write("/seq", p["write_mib"])))
            self.exec_sh(work, "rm -f /seq")
        figures["seq_write_fsync"] = B.figure("seq_write_fsync", cont, raw)

        times, size_rw, space, raw_times, raw_space = [], [], [], [], []
        for r in range(runs):
            before = self.used()
            raw_times.append(on_host(B.script_append(os.path.join(self.scratch, "big"))))
            raw_space.append(max(0, self.used() - before))
            before = self.used()
            container = self.start("copyup%d" % r, big)
            times.append(in_container(B.script_append("/big"), container))
            space.append(max(0, self.used() - before))
            size_rw.append(int(self.docker("container", "inspect", "--size", "--format", "{{.SizeRw}}",
                                           container).strip() or 0))
            self.remove_container(container)
        figures["copy_up_append"] = B.figure("copy_up_append", times, raw_times)
        figures["copy_up_size_rw"] = B.figure("copy_up_size_rw", size_rw)
        figures["copy_up_space"] = B.figure("copy_up_space", space, raw_space)

        ids = dict((self.docker("image", "inspect", "--format", "{{.Id}}", ref).strip(), ref)
                   for ref in share + [small])
        sizes = dict((i.get("Id"), i) for i in (self.api("/system/df").get("Images") or []) if i.get("Id") in ids)
        shared = [sizes[i].get("SharedSize") for i in ids if ids[i] in share and i in sizes]
        base = [sizes[i].get("Size") for i in ids if ids[i] == small and i in sizes]
        if len(shared) != 2 or not base or any(s is None or s < 0 for s in shared):
            self.warnings.append("dockerd's /system/df did not report the shared size of the test images")
        else:
            figures["layer_shared_size"] = B.figure("layer_shared_size", shared, base)
        return figures

    def cleanup(self):
        """Remove every container and image labelled with this run's id (children before parents) and the
        scratch directory; return the errors."""
        errors = []
        for container in list(self.containers):
            try:
                self.remove_container(container)
            except BenchError as exc:
                errors.append(str(exc))
        try:
            for cid in self.docker("ps", "-aq", "--filter", "label=" + self.label).split():
                self.docker("rm", "-f", cid)
                self.removed["containers"].append(cid)
        except BenchError as exc:
            errors.append(str(exc))
        for tag in reversed(self.images):
            try:
                self.docker("rmi", tag)
                self.removed["images"].append(tag)
            except BenchError as exc:
                errors.append(str(exc))
        try:
            left = self.docker("images", "-q", "--filter", "label=" + self.label).split()
            if left:
                errors.append("images labelled %s left behind: %s" % (self.label, " ".join(sorted(set(left)))))
        except BenchError as exc:
            errors.append(str(exc))
        if self.scratch and os.path.lexists(self.scratch):
            shutil.rmtree(self.scratch, ignore_errors=True)
            if os.path.lexists(self.scratch):
                errors.append("the scratch directory %s could not be removed" % self.scratch)
        return errors


def backing_fs(data_root):
    with open("/proc/self/mountinfo") as handle:
        mount = mount_for(parse_mountinfo(handle.read()), os.path.realpath(data_root)) or {}
    return dict((k, mount.get(k)) for k in ("mount_point", "fstype", "source"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            docker_host=dict(type="str"),
            runs=dict(type="int", default=5),
            warm_starts=dict(type="int", default=5),
            small_files=dict(type="int", default=1000),
            write_mib=dict(type="int", default=256),
            big_mib=dict(type="int", default=256),
            image=dict(type="str"),
            drop_caches=dict(type="bool", default=True),
            api_timeout=dict(type="float", default=60),
        ),
        supports_check_mode=True,
    )
    p = module.params
    too_small = [k for k in ("runs", "warm_starts", "small_files", "write_mib", "big_mib") if p[k] < 1]
    if too_small:
        module.fail_json(msg="%s: must be at least 1" % ", ".join(too_small))
    bench = Bench(module)
    names = ("runs", "warm_starts", "small_files", "write_mib", "big_mib", "image", "drop_caches")
    params = dict((k, p[k]) for k in names)
    result = dict(changed=False, run_id=bench.run_id, hostname=socket.gethostname(), kernel=os.uname()[2],
                  parameters=params, plan=B.plan(params, p["image"]), figures={}, warnings_list=bench.warnings)
    try:
        info = bench.api("/info")
        version = bench.api("/version")
        data_root = info.get("DockerRootDir") or ""
        result.update(driver=info.get("Driver"), data_root=data_root, docker_version=version.get("Version"))
        if not os.path.isdir(data_root):
            raise BenchError("dockerd's data-root %r is not a directory on this host" % data_root)
        result["backing_fs"] = backing_fs(data_root)
        bench.data_root = data_root
        if p["image"]:
            bench.docker("image", "inspect", "--format", "{{.Id}}", p["image"])
            image_bytes = 0
        else:
            image_bytes = bench.check_busybox()
        bench.shell = [BUSYBOX, "sh", "-c"] if B.elf_is_static(_head(BUSYBOX)) else ["/bin/sh", "-c"]
        st = os.statvfs(data_root)
        need = B.room_needed(params, image_bytes, result["driver"])
        room = B.room_check(need, st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize)
        room["path"] = data_root
        result["room"] = room
    except BenchError as exc:
        module.fail_json(msg=str(exc), **result)
    if not room["ok"]:
        module.fail_json(msg="refused before creating anything: the benchmark on %s %s (lower write_mib, "
                             "big_mib or small_files, or free some space)" % (data_root, room["msg"]), **result)
    if module.check_mode:
        module.exit_json(**result)
    error = None
    try:
        result["figures"] = bench.measure()
        result["baselines"] = bench.baselines
    except (BenchError, OSError) as exc:
        error = str(exc)
    finally:
        cleanup_errors = bench.cleanup()
    result["cleaned"] = dict(bench.removed, scratch_removed=not (bench.scratch and os.path.lexists(bench.scratch)))
    if error or cleanup_errors:
        module.fail_json(msg="; ".join(([error] if error else []) + (
            ["cleanup: " + e for e in cleanup_errors] if cleanup_errors else [])), **result)
    for warning in bench.warnings:
        module.warn(warning)
    module.exit_json(**result)


def _head(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(65536)
    except (IOError, OSError):
        return b""


if __name__ == "__main__":
    main()
