# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_bench's measuring: ``Bench`` builds its labelled test images and containers on dockerd, times the
figures of ``_bench`` inside a container and on data-root's filesystem beside it, and removes everything it made.
Runs docker commands (argv, ``LC_ALL=C``) and writes only below data-root and in dockerd's store."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tarfile
import time
import uuid

from ._bench import (
    APPLETS, LABEL, elapsed, elf_is_static, figure, script_append, script_make_big, script_make_files,
    script_seq_write, script_small_read, script_small_write, timed)
from ._command import run_c
from ._http import unix_get

BUSYBOX = "/bin/busybox"
BUSYBOX_PACKAGE = "busybox-static"
REPO = "cowstack-bench"


class BenchError(Exception):
    pass


class Bench(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.docker_host = self.p["docker_host"] or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.cli = module.get_bin_path("docker")
        self.run_id = "%s-%s" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime()), uuid.uuid4().hex[:6])
        self.label = "%s=%s" % (LABEL, self.run_id)
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
        rc, out, err = run_c(self.module, argv)
        if rc != 0:
            raise BenchError("docker %s failed (rc %s): %s" % (args[0], rc, (err or out).strip()[-500:]))
        return out

    def timed(self, argv_fn, *args):
        start = time.perf_counter()
        argv_fn(*args)
        return time.perf_counter() - start

    def host_sh(self, script):
        rc, out, err = run_c(self.module, self.shell + [script])
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
            static = elf_is_static(handle.read(65536))
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
            for applet in APPLETS:
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
        files = self.commit("files", small, script_make_files("", count))
        big = self.commit("big", small, script_make_big("", p["big_mib"]))
        share = [self.commit("share-" + x, small, "echo %s > /%s" % (x, x)) for x in ("a", "b")]
        self.host_sh(script_make_files(self.scratch, count))
        self.host_sh(script_make_big(self.scratch, p["big_mib"]))
        work = self.start("work", files)

        base_runs = max(5, runs)
        exec_base = statistics.median([self.timed(self.docker, "exec", work, "true") for _i in range(base_runs)])
        host_base = statistics.median([self.timed(self.host_sh, "true") for _i in range(base_runs)])
        self.baselines = {"exec": exec_base, "host": host_base}

        def in_container(script, container=None):
            return elapsed(self.exec_sh(container or work, timed(script)))

        def on_host(script):
            return elapsed(self.host_sh(timed(script)))

        run_small = ("run", "--rm", "--label", self.label, "--network", "none", small, "true")
        cold, warm = [], []
        for _r in range(runs):
            self.drop_caches()
            cold.append(self.timed(self.docker, *run_small))
            warm += [self.timed(self.docker, *run_small) for _w in range(p["warm_starts"])]
        figures = {"cold_start": figure("cold_start", cold), "warm_start": figure("warm_start", warm)}

        cont, raw = [], []
        for r in range(runs):
            raw_dir = os.path.join(self.scratch, "w%d" % r)
            raw.append(on_host(script_small_write(raw_dir, count)))
            shutil.rmtree(raw_dir)
            cont.append(in_container(script_small_write("/w%d" % r, count)))
            self.exec_sh(work, "rm -rf /w%d" % r)
        figures["small_file_write"] = figure("small_file_write", cont, raw)

        cont, raw = [], []
        for _r in range(runs):
            self.drop_caches()
            raw.append(on_host(script_small_read(self.scratch)))
            self.drop_caches()
            cont.append(in_container(script_small_read("")))
        figures["small_file_read"] = figure("small_file_read", cont, raw)

        cont, raw = [], []
        for _r in range(runs):
            seq = os.path.join(self.scratch, "seq")
            raw.append(on_host(script_seq_write(seq, p["write_mib"])))
            os.unlink(seq)
            cont.append(in_container(script_seq_write("/seq", p["write_mib"])))
            self.exec_sh(work, "rm -f /seq")
        figures["seq_write_fsync"] = figure("seq_write_fsync", cont, raw)

        times, size_rw, space, raw_times, raw_space = [], [], [], [], []
        for r in range(runs):
            before = self.used()
            raw_times.append(on_host(script_append(os.path.join(self.scratch, "big"))))
            raw_space.append(max(0, self.used() - before))
            before = self.used()
            container = self.start("copyup%d" % r, big)
            times.append(in_container(script_append("/big"), container))
            space.append(max(0, self.used() - before))
            size_rw.append(int(self.docker("container", "inspect", "--size", "--format", "{{.SizeRw}}",
                                           container).strip() or 0))
            self.remove_container(container)
        figures["copy_up_append"] = figure("copy_up_append", times, raw_times)
        figures["copy_up_size_rw"] = figure("copy_up_size_rw", size_rw)
        figures["copy_up_space"] = figure("copy_up_space", space, raw_space)

        ids = dict((self.docker("image", "inspect", "--format", "{{.Id}}", ref).strip(), ref)
                   for ref in share + [small])
        sizes = dict((i.get("Id"), i) for i in (self.api("/system/df").get("Images") or []) if i.get("Id") in ids)
        shared = [sizes[i].get("SharedSize") for i in ids if ids[i] in share and i in sizes]
        base = [sizes[i].get("Size") for i in ids if ids[i] == small and i in sizes]
        if len(shared) != 2 or not base or any(s is None or s < 0 for s in shared):
            self.warnings.append("dockerd's /system/df did not report the shared size of the test images")
        else:
            figures["layer_shared_size"] = figure("layer_shared_size", shared, base)
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


def head(path):
    """The first 64 KiB of ``path`` (an ELF header's worth), or b"" when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(65536)
    except (IOError, OSError):
        return b""
