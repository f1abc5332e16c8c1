#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Over 400 lines: DOCUMENTATION and RETURN (every fact the module returns) are 580 of them; the probes are in
# module_utils/_probe*.py.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: storage_facts
short_description: Gather everything a Docker storage decision needs, in one round trip
version_added: 0.1.0
description:
  - Reads the kernel, the filesystem under Docker's data-root (walking up to the nearest existing path and
    its real mount), xfs C(ftype), measured C(d_type), project quota, overlay/btrfs/zfs/fuse-overlayfs
    support, the OpenZFS version, the Docker version, driver and image store in use, prior driver state
    under data-root, C(daemon.json) and options set both there and as flags of the docker service.
  - Computes, with the same rules as the C(cowstack.docker_storage.choose_driver) filter, the driver this
    host's dockerd would pick if nothing were set, and for every driver name dockerd knows whether dockerd
    would start with it.
  - Sets C(ansible_facts.docker_storage). Changes nothing.
  - The daemon is asked through its API on a unix socket (no docker CLI needed); other C(docker_host)
    schemes use C(docker info).
  - When the docker service is stopped and its socket unit (C(docker.socket), on by default in Debian's
    C(docker.io)) listens on the daemon's socket, the socket is not opened, because socket activation would
    start the daemon the operator stopped. The daemon is then reported as not running, with the reason in
    C(docker.error).
  - C(d_type) is measured from directory entries already on the filesystem; only on a filesystem with no
    entry to read is a temporary file created and removed again, as dockerd itself does.
requirements:
  - Linux with C(/proc) and C(/sys); Python 3 on the managed node.
  - Read when present, to report what they know - C(xfs_info) (xfsprogs), C(btrfs) and C(mkfs.btrfs)
    (btrfs-progs), C(zfs) and C(zpool) (zfsutils-linux), C(systemctl) (systemd), C(dockerd) and C(docker),
    C(fuse-overlayfs).
extends_documentation_fragment:
  - cowstack.docker_storage.attributes
  - cowstack.docker_storage.attributes.INFO_MODULE
attributes:
  platform:
    platforms: posix
options:
  data_root:
    description:
      - Docker's data-root. Defaults to C(data-root) in O(daemon_json_path), then C(--data-root) in the docker
        service, then the running daemon's root directory, then C(/var/lib/docker).
    type: path
  daemon_json_path:
    description: Path of dockerd's configuration file.
    type: path
    default: /etc/docker/daemon.json
  docker_host:
    description:
      - Daemon to ask, as in E(DOCKER_HOST). C(unix://) sockets are queried through the API directly.
      - Defaults to E(DOCKER_HOST) of the module's environment, else C(unix:///var/run/docker.sock).
    type: str
  service_name:
    description: systemd unit of dockerd, whose flags are compared with O(daemon_json_path).
    type: str
    default: docker.service
  unit_paths:
    description: systemd unit directories, highest priority first.
    type: list
    elements: path
    default: [/etc/systemd/system, /run/systemd/system, /usr/local/lib/systemd/system, /lib/systemd/system,
              /usr/lib/systemd/system]
  api_timeout:
    description: Seconds to wait for the daemon's API.
    type: float
    default: 10
  gather_image_size:
    description: Also ask the daemon for the size of its image layers (C(docker.images_size)); slower with many images.
    type: bool
    default: false
  containerd_config:
    description: containerd's configuration, read for its C(root) (the btrfs/zfs snapshotters keep their data there).
    type: path
    default: /etc/containerd/config.toml
  devices:
    description:
      - Block devices to look at (C(devices) fact) - whether each exists, is a block device, and what it holds -
        read only, so that a bad device name is refused before anything changes.
    type: list
    elements: path
    default: []
  lab_file:
    description:
      - A lab host's backing file to look at (C(lab_file) fact) - whether it exists, is this collection's own lab
        file (its marker), what it holds, its loop device and the free space beside it. Read only.
    type: path
  journal_path:
    description: The record the role keeps of a driver switch in progress (C(switch_journal) fact).
    type: path
    default: /var/lib/cowstack-docker-storage/switch.json
  read_files:
    description:
      - Files whose text the RV(ansible_facts.docker_storage.files) fact gives (up to 1 MiB each), for
        M(cowstack.docker_storage.storage_audit) to compare with what the role writes (fstab, drop-ins, the
        snapshot schedule). Read only.
    type: list
    elements: path
    default: []
  zfs_properties:
    description:
      - ZFS properties to read, a dict of dataset names to lists of property names; the
        RV(ansible_facts.docker_storage.zfs_properties) fact gives their values and sources. Read only.
    type: dict
    default: {}
  zpool_properties:
    description:
      - ZFS pool properties to read, a dict of pool names to lists of property names; the
        RV(ansible_facts.docker_storage.zpool_properties) fact gives their values and sources. Read only.
    type: dict
    default: {}
  checksum_files:
    description:
      - Files whose SHA-256 digest the RV(ansible_facts.docker_storage.checksums) fact gives (the snapshot tool's
        installed files, for M(cowstack.docker_storage.storage_audit) to compare with the collection's). Read only.
    type: list
    elements: path
    default: []
  snapshot_config:
    description:
      - The configuration of the C(cowstack-snapshot) tool (role P(cowstack.docker_storage.docker_storage_snapshot#role));
        when it exists, the C(snapshots) fact gives the age of the newest snapshot per target. Read only.
    type: path
    default: /etc/cowstack-docker-storage/snapshot.json
  strict:
    description:
      - Fail when C(daemon.json) is unreadable or not valid JSON, or data-root is not a directory.
      - With V(false), report them in C(daemon_json.valid) and C(daemon_json.error) instead.
    type: bool
    default: true
notes:
  - Runs as root to read C(daemon.json) and the daemon socket; without root those parts are reported as unknown.
seealso:
  - plugin: cowstack.docker_storage.choose_driver
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Gather Docker storage facts
  cowstack.docker_storage.storage_facts:

- name: Show the filesystem under data-root
  ansible.builtin.debug:
    msg: "{{ ansible_facts.docker_storage.backing_fs.fstype }} (d_type {{ ansible_facts.docker_storage.backing_fs.d_type }})"

- name: Ask a rootless daemon, data-root elsewhere
  cowstack.docker_storage.storage_facts:
    docker_host: unix:///run/user/1000/docker.sock
    data_root: /srv/docker
"""

RETURN = r"""
ansible_facts:
  description: Facts set by this module.
  returned: always
  type: dict
  contains:
    docker_storage:
      description: Docker storage facts.
      returned: always
      type: dict
      contains:
        kernel:
          description: The running kernel.
          type: dict
          returned: always
          sample: {"release": "6.1.0-28-amd64", "version": [6, 1, 0]}
          contains:
            release:
              description: C(uname -r).
              type: str
            version:
              description: The release's leading numbers.
              type: list
              elements: int
        data_root:
          description: Docker's data-root.
          type: str
          returned: always
          sample: /var/lib/docker
        data_root_source:
          description: Where O(data_root) came from (option, daemon.json, service flag, daemon, default).
          type: str
          returned: always
        data_root_empty:
          description: Whether data-root is missing or an empty directory.
          type: bool
          returned: always
        backing_fs:
          description: The mount holding data-root (or its nearest existing parent).
          type: dict
          returned: always
          contains:
            mount_point:
              description: Where that filesystem is mounted.
              type: str
            source:
              description: Its device or source.
              type: str
            fstype:
              description: Its filesystem type.
              type: str
              sample: ext4
            options:
              description: Its mount options.
              type: list
              elements: str
            xfs_ftype:
              description: The xfs C(ftype) (0 or 1); null on other filesystems.
              type: int
            d_type:
              description: Whether directory entries carry their type, measured; null when it could not be measured.
              type: bool
            pquota:
              description: Whether xfs project quota is on (what C(overlay2.size) needs).
              type: bool
            free_bytes:
              description: Free space for root on that filesystem.
              type: int
            size_bytes:
              description: The size of that filesystem.
              type: int
            probe_path:
              description: The existing path that was measured (data-root or its nearest existing parent).
              type: str
        available:
          description: What the kernel and the installed tools support.
          type: dict
          returned: always
          contains:
            overlay:
              description: The overlay filesystem.
              type: bool
            btrfs:
              description: btrfs in the kernel and C(btrfs-progs) installed.
              type: bool
            zfs:
              description: The ZFS module loaded and C(zfsutils-linux) installed.
              type: bool
            zfs_version:
              description: The OpenZFS version (null without ZFS).
              type: str
            zfs_device:
              description: Whether C(/dev/zfs) exists.
              type: bool
            fuse_overlayfs:
              description: C(fuse-overlayfs) and FUSE present.
              type: bool
            aufs:
              description: aufs in the kernel.
              type: bool
            devicemapper:
              description: device-mapper thin provisioning in the kernel.
              type: bool
            graphdrivers_built:
              description:
                - Whether the installed dockerd was built with the optional C(btrfs) and C(zfs) graphdrivers (read
                  from the binary; Debian's docker.io 28 has no zfs graphdriver); empty when there is no dockerd.
              type: dict
            snapshotters_built:
              description:
                - Whether the installed containerd was built with the C(btrfs) and C(zfs) snapshotters; empty when
                  there is no containerd.
              type: dict
            btrfs_tools:
              description: C(mkfs.btrfs) and C(btrfs) installed (the parts apart, so a missing one can be named).
              type: bool
            btrfs_kernel:
              description: btrfs in the running kernel (built in or as a module).
              type: bool
            zfs_tools:
              description: C(zfs) and C(zpool) installed.
              type: bool
            zfs_kernel:
              description: The ZFS module loaded or installed for the running kernel.
              type: bool
            xfs_tools:
              description: C(xfs_info) installed.
              type: bool
        docker:
          description: The Docker installation and, when it runs, what the daemon reports.
          type: dict
          returned: always
          contains:
            installed:
              description: Whether dockerd or the docker CLI is installed.
              type: bool
            version:
              description: The Docker version (from the daemon, else C(dockerd --version)); null when not installed.
              type: str
            running:
              description: Whether the daemon answered.
              type: bool
            driver:
              description: The storage driver in use (graphdriver) or the snapshotter (containerd image store).
              type: str
            image_store:
              description: V(graphdriver) or V(containerd).
              type: str
            driver_status:
              description: The daemon's C(DriverStatus) pairs.
              type: list
              elements: list
            images:
              description: Number of images.
              type: int
            containers:
              description: Number of containers.
              type: int
            volumes:
              description: Number of volumes.
              type: int
            data_root:
              description: The daemon's root directory.
              type: str
            userns_remap:
              description: Whether user namespace remapping is on.
              type: bool
            api_version:
              description: The daemon's API version.
              type: str
            api_min_version:
              description: The oldest API version the daemon accepts.
              type: str
            api_negotiated:
              description: The API version the facts asked in (the newest both know, never below the daemon's minimum).
              type: str
            untagged_images:
              description: How many images have no tag (dangling), when dockerd runs and holds images.
              type: int
            container_names:
              description: Up to 50 containers, C(name (image, status)), when there are containers.
              type: list
              elements: str
            host:
              description: The daemon address asked.
              type: str
            dockerd_path:
              description: Where dockerd is installed; null when it is not.
              type: str
            error:
              description: Why the daemon was not asked or did not answer; null when it answered.
              type: str
            images_size:
              description: Size of the image layers in bytes.
              type: int
              returned: with O(gather_image_size) and a running daemon
        prior_drivers:
          description: Driver directories under data-root that hold state (vfs ignored, as dockerd does).
          type: list
          elements: str
          returned: always
        daemon_json:
          description: dockerd's configuration file.
          type: dict
          returned: always
          contains:
            path:
              description: Its path.
              type: str
            exists:
              description: Whether it exists.
              type: bool
            valid:
              description: Whether it is a readable JSON object (true when it does not exist).
              type: bool
            content:
              description: Its content; null when missing or not valid.
              type: dict
            error:
              description: Why it is not valid; null when it is.
              type: str
            flag_conflicts:
              description: Options set both here and as flags of the docker service, which stops dockerd.
              type: list
              elements: dict
              contains:
                key:
                  description: The daemon.json key.
                  type: str
                flag:
                  description: The flag as written, with its value.
                  type: str
                file:
                  description: The unit file or environment file that sets it.
                  type: str
                line:
                  description: Its line in that file.
                  type: int
        service:
          description: The docker service unit.
          type: dict
          returned: always
          contains:
            unit:
              description: The unit file; null when there is none.
              type: str
            drop_ins:
              description: Its drop-in files, in the order systemd reads them.
              type: list
              elements: str
            exec_start:
              description: The effective C(ExecStart), with C(EnvironmentFile) variables expanded.
              type: str
            flags:
              description: The dockerd flags in it that are daemon options.
              type: list
              elements: dict
              contains:
                flag:
                  description: The flag as written.
                  type: str
                key:
                  description: The daemon.json key it sets.
                  type: str
                value:
                  description: Its value (null for a switch).
                  type: str
                file:
                  description: The file it is in.
                  type: str
                line:
                  description: Its line there.
                  type: int
        containerd:
          description: Where containerd keeps the data of its btrfs and zfs snapshotters (Docker's containerd image store).
          type: dict
          returned: always
          contains:
            managed_by_dockerd:
              description: No system containerd, so dockerd runs its own under the data-root.
              type: bool
            root:
              description: containerd's root directory.
              type: str
            config:
              description: The configuration file read.
              type: str
            certain:
              description: False when the configuration imports other files, which may move the directories.
              type: bool
            snapshotters:
              description: The directories of the overlayfs, native, btrfs and zfs snapshotters.
              type: dict
              contains:
                btrfs:
                  description: The btrfs snapshotter's directory.
                  type: dict
                  contains: &snapshotter
                    path:
                      description: Its path, from C(root) or the snapshotter's C(root_path).
                      type: str
                    fstype:
                      description:
                        - The filesystem of the mount holding it (or its nearest existing parent); null when not
                          RV(ansible_facts.docker_storage.containerd.certain).
                      type: str
                    mount_point:
                      description: Where that mount is; null when not certain.
                      type: str
                    state:
                      description:
                        - Its C(snapshots) directory holds entries (images or containers of the containerd store,
                          in any namespace).
                      type: bool
                zfs:
                  description: The zfs snapshotter's directory.
                  type: dict
                  contains: *snapshotter
                overlayfs:
                  description: The overlayfs snapshotter's directory (the containerd store's default).
                  type: dict
                  contains: *snapshotter
                native:
                  description: The native snapshotter's directory.
                  type: dict
                  contains: *snapshotter
        os:
          description: The operating system, from C(/etc/os-release).
          type: dict
          returned: always
          contains:
            id:
              description: C(ID).
              type: str
              sample: debian
            id_like:
              description: C(ID_LIKE).
              type: str
            version_id:
              description: C(VERSION_ID).
              type: str
            pretty_name:
              description: C(PRETTY_NAME).
              type: str
            family:
              description: The Ansible-style OS family (V(Debian), V(RedHat), ...), null when unknown.
              type: str
        devices:
          description: One entry per O(devices), read only.
          type: list
          elements: dict
          returned: always
          contains:
            path:
              description: The device as given.
              type: str
            exists:
              description: Whether it exists.
              type: bool
            block:
              description: Whether it is a block device.
              type: bool
            problem:
              description: Why it cannot be used at all (missing, not under /dev, not a block device); null otherwise.
              type: str
            holds:
              description: What it holds (signatures, partition table, partitions, users, mounts), as phrases.
              type: list
              elements: str
            probe:
              description: What C(blkid -p) found (C(TYPE), C(LABEL), C(PTTYPE), ...).
              type: dict
            root_disk:
              description: Whether it is (or holds) the system disk.
              type: bool
            mounted_at:
              description: Where it is mounted.
              type: list
              elements: str
            size_bytes:
              description: Its size.
              type: int
        lab_file:
          description: What O(lab_file) is, read only.
          type: dict
          returned: when O(lab_file) is set
          contains:
            path:
              description: The file.
              type: str
            dir_exists:
              description: Whether its directory exists.
              type: bool
            exists:
              description: Whether something is at O(lab_file).
              type: bool
            symlink:
              description: Whether it is a symbolic link.
              type: bool
            regular:
              description: Whether it is a regular file.
              type: bool
            size:
              description: Its size in bytes.
              type: int
            marked:
              description: Whether it carries this collection's lab marker (it made it).
              type: bool
            probe:
              description: What C(blkid -p) finds in it.
              type: dict
            device:
              description: The loop device it is attached to, or null.
              type: str
            free_bytes:
              description: Free space in its directory's filesystem.
              type: int
        switch_journal:
          description:
            - The record of a driver switch the role started and has not finished (M(cowstack.docker_storage.switch_journal)),
              with the C(path) it was read from; null when there is none.
          type: dict
          returned: always
        data_root_siblings:
          description: The paths C(<data-root>.cowstack-*) - Docker states an earlier switch moved aside.
          type: list
          elements: str
          returned: always
        pool:
          description:
            - The pool under data-root - a ZFS pool (C(zpool list)) or the btrfs filesystem - with its size, free
              space and (ZFS) health; null on other filesystems.
          type: dict
          returned: always
          sample: {"kind": "zfs", "name": "tank", "size_bytes": 107374182400, "free_bytes": 53687091200, "health": "ONLINE"}
        snapshots:
          description:
            - The snapshot tool's targets as its C(--check) sees them (O(snapshot_config)); null when the tool is
              not configured on this host.
            - C(targets) lists per target its C(kind), C(count) of this collection's snapshots, the C(newest), its
              C(age_seconds), C(state) (V(OK), V(WARNING), V(CRITICAL) with the configured C(warn) and C(critical)
              ages in seconds, V(UNKNOWN) with an C(error) when it could not be listed).
          type: dict
          returned: always
        files:
          description: The text of each O(read_files) path; null where the file does not exist or cannot be read.
          type: dict
          returned: always
        zfs_properties:
          description:
            - Per dataset of O(zfs_properties), each property's value and source as C(zfs get -p) prints them;
              null for a dataset that does not exist.
          type: dict
          returned: always
        zpool_properties:
          description: Per pool of O(zpool_properties) (null where none has that name), C(zpool get -p)'s value and source of each property.
          type: dict
          returned: always
        checksums:
          description: The SHA-256 digest of each O(checksum_files) path; null where it does not exist or cannot be read.
          type: dict
          returned: always
        default_driver:
          description: The driver this host's dockerd picks with no storage-driver set (null if it refuses to start).
          type: str
          returned: always
        default_image_store:
          description: The image store of RV(ansible_facts.docker_storage.default_driver).
          type: str
          returned: always
        default_driver_reason:
          description: Why dockerd picks that driver, or why it refuses to start.
          type: str
          returned: always
        compatible:
          description:
            - For every graphdriver name dockerd knows, a mapping with C(ok) (dockerd starts with it) and
              C(reason).
          type: dict
          returned: always
          sample: {"overlay2": {"ok": true, "reason": "overlay is available and the backing ext4 supports d_type"}}
        rules:
          description: The Docker band whose rules were applied (the first version of that band).
          type: str
          returned: always
          sample: "20.10"
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import (
    band_for, compatibility, dockerd_pick, host_view, rules_label,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._expect import (
    file_digests, read_files, zfs_properties, zpool_properties)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_backing import BackingProbe
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_devices import read_lab_file
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_docker import DockerProbe
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_kernel import KernelProbe
from ansible_collections.cowstack.docker_storage.plugins.module_utils._probe_state import StateProbe
from ansible_collections.cowstack.docker_storage.plugins.module_utils._version import version_list

_SERVICE_NAME = re.compile(r"^[A-Za-z0-9:_.@\\-]+\.service$")


class Gatherer(DockerProbe, KernelProbe, BackingProbe, StateProbe):
    """Every probe of the facts on one object: one module run, one mount table read, one negotiated API."""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            data_root=dict(type="path"),
            daemon_json_path=dict(type="path", default="/etc/docker/daemon.json"),
            docker_host=dict(type="str"),
            service_name=dict(type="str", default="docker.service"),
            unit_paths=dict(type="list", elements="path", default=[
                "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
                "/lib/systemd/system", "/usr/lib/systemd/system"]),
            api_timeout=dict(type="float", default=10),
            containerd_config=dict(type="path", default="/etc/containerd/config.toml"),
            strict=dict(type="bool", default=True),
            gather_image_size=dict(type="bool", default=False),
            devices=dict(type="list", elements="path", default=[]),
            lab_file=dict(type="path"),
            journal_path=dict(type="path", default="/var/lib/cowstack-docker-storage/switch.json"),
            snapshot_config=dict(type="path", default="/etc/cowstack-docker-storage/snapshot.json"),
            read_files=dict(type="list", elements="path", default=[]),
            zfs_properties=dict(type="dict", default={}),
            zpool_properties=dict(type="dict", default={}),
            checksum_files=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not _SERVICE_NAME.match(params["service_name"]):
        module.fail_json(msg="service_name %r is not a systemd service name such as docker.service" % params["service_name"])
    if params["data_root"] is not None and not os.path.isabs(params["data_root"]):
        module.fail_json(msg="data_root %r must be an absolute path such as /var/lib/docker" % params["data_root"])

    gather = Gatherer(module)
    release = os.uname()[2]
    daemon_json = gather.daemon_json()
    if params["strict"] and daemon_json["valid"] is False:
        module.fail_json(msg=daemon_json["error"], daemon_json=daemon_json)
    content = daemon_json["content"] or {}
    service, conflicts = gather.service(content)
    daemon_json["flag_conflicts"] = conflicts
    docker = gather.docker()

    data_root, source = params["data_root"], "option"
    if not data_root:
        flagged = [f["value"] for f in service["flags"] if f["key"] == "data-root" and f["value"]]
        for value, origin in ((content.get("data-root") or content.get("graph"), "daemon.json"),
                              (flagged[-1] if flagged else None, "service flag"),
                              (docker.get("data_root"), "daemon"),
                              ("/var/lib/docker", "default")):
            if value:
                data_root, source = value, origin
                break
    if not isinstance(data_root, str) or not os.path.isabs(data_root):
        module.fail_json(msg="data-root %r (from %s) is not an absolute path: fix it there" % (data_root, source))
    data_root = os.path.normpath(data_root)
    if os.path.exists(data_root) and not os.path.isdir(data_root):
        msg = ("data-root %s (from %s) exists and is not a directory: move the file away or choose another "
               "data-root" % (data_root, source))
        if params["strict"]:
            module.fail_json(msg=msg)
        module.warn(msg)

    facts = {
        "kernel": {"release": release, "version": version_list(release)},
        "data_root": data_root,
        "data_root_source": source,
        "backing_fs": gather.backing_fs(data_root),
        "available": gather.available(release, docker["version"]),
        "docker": docker,
        "prior_drivers": gather.prior_drivers(data_root) if os.path.isdir(data_root) else [],
        "data_root_empty": not (os.path.isdir(data_root) and os.listdir(data_root)),
        "daemon_json": daemon_json,
        "service": service,
        "containerd": gather.containerd(data_root, content, service),
        "os": gather.os_release(),
        "devices": gather.devices(params["devices"]),
        "switch_journal": gather.journal(),
        "data_root_siblings": gather.siblings(data_root),
        "snapshots": gather.snapshots(params["snapshot_config"]),
    }
    facts["pool"] = gather.pool(facts["backing_fs"])
    # what the audit compares with the role's variables (storage_audit's drift), in the same round trip
    facts["files"] = read_files(params["read_files"])
    facts["zfs_properties"] = zfs_properties(gather.run, gather.bin("zfs"), params["zfs_properties"])
    facts["zpool_properties"] = zpool_properties(gather.run, gather.bin("zpool"), params["zpool_properties"])
    facts["checksums"] = file_digests(params["checksum_files"])
    if params["lab_file"]:
        if not os.path.isabs(params["lab_file"]):
            module.fail_json(msg="lab_file %r must be an absolute path" % params["lab_file"])
        facts["lab_file"] = read_lab_file(module, os.path.normpath(params["lab_file"]), gather.bin("blkid"))
    host = host_view(facts)
    band = band_for(docker["version"])
    # "If nothing were set": no storage-driver, but daemon.json's image store switch and userns-remap count
    features = content.get("features") if isinstance(content.get("features"), dict) else {}
    pick = dockerd_pick(host, band, {"userns-remap": content.get("userns-remap"), "features": features})
    if docker["version"] is None:
        pick["reason"] = "Docker is not installed; with Docker %d.x: %s" % (band.since[0], pick["reason"])
    facts["default_driver"] = pick["driver"]
    facts["default_image_store"] = pick["image_store"]
    facts["default_driver_reason"] = pick["reason"]
    facts["compatible"] = compatibility(host, band)
    facts["rules"] = rules_label(band)
    module.exit_json(changed=False, ansible_facts={"docker_storage": facts})


if __name__ == "__main__":
    main()
