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

import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _bench as B
from ansible_collections.cowstack.docker_storage.plugins.module_utils._bench_run import BUSYBOX, Bench, BenchError, head
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import mount_for
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe import read_mounts


def backing_fs(data_root):
    mount = mount_for(read_mounts(), os.path.realpath(data_root)) or {}
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
        bench.shell = [BUSYBOX, "sh", "-c"] if B.elf_is_static(head(BUSYBOX)) else ["/bin/sh", "-c"]
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


if __name__ == "__main__":
    main()
