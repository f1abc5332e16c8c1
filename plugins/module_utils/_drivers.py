# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dockerd's own storage rules, per Docker release, as tables. Pure: no I/O, no Ansible objects.

Sources: moby's graphdriver selection (its priority list per release, prior state) and each driver's Init
checks, checked against a real dockerd by tests/integration/test_oracle_dockerd.py.

Three questions are answered here:

* ``band_for(version)``: which row of ``BANDS`` a dockerd version follows;
* ``driver_check(driver, host, band)``: would dockerd start with ``storage-driver: driver``
  on this host (the facts' ``compatible``);
* ``dockerd_pick(host, band, config)``: what dockerd does with a given daemon config
  (the facts' ``default_driver`` is this with nothing set).
"""

from __future__ import annotations

from collections import namedtuple

from ._version import parse_version

GRAPHDRIVERS = ("overlay2", "btrfs", "zfs", "vfs", "fuse-overlayfs", "devicemapper", "aufs", "overlay")

# containerd snapshotter <-> graphdriver of the same technique (docker info reports the snapshotter).
SNAPSHOTTER_OF = {"overlay2": "overlayfs", "vfs": "native", "btrfs": "btrfs", "zfs": "zfs",
                  "fuse-overlayfs": "fuse-overlayfs"}
GRAPHDRIVER_OF = dict((v, k) for k, v in SNAPSHOTTER_OF.items())
SNAPSHOTTERS = tuple(GRAPHDRIVER_OF)

# ``version``/``label``: the Docker version a band was looked up for (messages name "Docker 28.5.2", not the band's
# first release); None and the band's first release in the table itself.
Band = namedtuple("Band", "since containerd_store validate override_kernel_check removed priority version label")

# One row per Docker release band. Read a row as: "dockerd since <since>, with no storage-driver set, takes the
# first driver of <priority> that holds prior state under data-root, else the first one that initialises".
#   label:       how messages name the band's first release ("Docker 23", not "Docker 23.0")
#   containerd:  the containerd image store is absent, opt-in (features.containerd-snapshotter) or the default
#   validate:    `dockerd --validate` exists
#   okc:         what overlay2.override_kernel_check does (no-op, ignored, unknown = dockerd fails)
#   removed:     driver names that are a hard error
RULES_TABLE = """
since  label  containerd  validate  okc      removed                    priority (no storage-driver set)
20.10  20.10  absent      no        no-op    -                          btrfs zfs overlay2 fuse-overlayfs aufs overlay devicemapper vfs
23.0   23     absent      yes       ignored  -                          overlay2 fuse-overlayfs btrfs zfs aufs overlay devicemapper vfs
24.0   24     opt-in      yes       unknown  aufs,overlay               overlay2 fuse-overlayfs btrfs zfs devicemapper vfs
25.0   25     opt-in      yes       unknown  aufs,overlay,devicemapper  overlay2 fuse-overlayfs btrfs zfs vfs
29.0   29     default     yes       unknown  aufs,overlay,devicemapper  overlay2 fuse-overlayfs btrfs zfs vfs
"""


def _parse_rules(table):
    bands = []
    for line in table.strip().splitlines()[1:]:
        since, label, store, validate, okc, removed, priority = line.split(None, 6)
        bands.append(Band(since=tuple(int(n) for n in since.split(".")), containerd_store=store,
                          validate=validate == "yes", override_kernel_check=okc,
                          removed=tuple(r for r in removed.split(",") if r != "-"), priority=tuple(priority.split()),
                          version=None, label=label))
    return tuple(bands)


BANDS = _parse_rules(RULES_TABLE)

OLDEST_SUPPORTED = BANDS[0].since
NEWEST_KNOWN = BANDS[-1].since
# The Docker release that removed each driver: the first band of the table whose ``removed`` names it.
REMOVED_IN = dict((driver, band.label) for band in reversed(BANDS) for driver in band.removed)

DEPRECATED = {
    "devicemapper": "devicemapper is deprecated since Docker 18.09 and removed in %s" % REMOVED_IN["devicemapper"],
    "aufs": "aufs is deprecated and removed in Docker %s (and no longer in Debian kernels)" % REMOVED_IN["aufs"],
    "overlay": "the legacy overlay driver is deprecated and removed in Docker %s: use overlay2" % REMOVED_IN["overlay"],
}

# Filesystems that cannot hold an overlayfs upper directory.
OVERLAY_BAD_BACKING = ("overlay", "aufs", "ecryptfs", "nfs", "nfs4", "cifs", "smb3")

# graphdrivers_built / snapshotters_built: {name: bool} of the optional backends in the installed binaries
# (_builtin.py); a name not in the dict is assumed built.
Host = namedtuple("Host", "fstype d_type kernel overlay zfs_tools zfs_device zfs_version fuse_overlayfs "
                          "aufs devicemapper prior containerd_fs graphdrivers_built snapshotters_built")
Host.__new__.__defaults__ = ({}, {})


def host_view(facts):
    """Build the ``Host`` the rules read from an ``ansible_facts.docker_storage`` dict."""
    facts = facts or {}
    backing = facts.get("backing_fs") or {}
    available = facts.get("available") or {}
    kernel = facts.get("kernel") or {}
    return Host(
        fstype=backing.get("fstype"),
        d_type=backing.get("d_type"),
        kernel=parse_version(kernel.get("version") or kernel.get("release")),
        overlay=bool(available.get("overlay")),
        zfs_tools=bool(available.get("zfs")),
        zfs_device=bool(available.get("zfs_device", available.get("zfs"))),
        zfs_version=parse_version(available.get("zfs_version")),
        fuse_overlayfs=bool(available.get("fuse_overlayfs")),
        aufs=bool(available.get("aufs")),
        devicemapper=bool(available.get("devicemapper")),
        prior=tuple(facts.get("prior_drivers") or ()),
        # filesystem under containerd's btrfs / zfs snapshotter roots (None: not known); "data-root" when dockerd
        # runs its own containerd under the data-root, whose filesystem may be about to be made
        containerd_fs=dict((name, "data-root" if (facts.get("containerd") or {}).get("managed_by_dockerd")
                            else (view or {}).get("fstype")) for name, view in
                           ((facts.get("containerd") or {}).get("snapshotters") or {}).items()),
        graphdrivers_built=dict(available.get("graphdrivers_built") or {}),
        snapshotters_built=dict(available.get("snapshotters_built") or {}),
    )


def band_for(version):
    """The ``Band`` a Docker version follows (versions older than 20.10 follow 20.10's row), labelled with that
    version."""
    parsed = parse_version(version)
    if parsed is None:
        return BANDS[-1]
    chosen = BANDS[0]
    for band in BANDS:
        if parsed[:2] >= band.since:
            chosen = band
    return chosen._replace(version=parsed, label="%d.%d.%d" % parsed)


def rules_label(band):
    """The row of the rules table a band is: its first release (``25``, ``20.10``)."""
    return "%d.%d" % band.since if band.since == (20, 10) else "%d" % band.since[0]


def band_label(band):
    """``Docker <label>`` in messages: the version looked up (28.5.2), else the band's first release (25)."""
    return band.label


# ---------------------------------------------------------------------------------------------
# Per-driver prerequisites: (ok, reason). Each mirrors the driver's Init in dockerd.
# ---------------------------------------------------------------------------------------------

def _overlay_family(driver, host):
    fs = host.fstype or "unknown"
    if not host.overlay:
        return False, "the kernel has no overlay filesystem (load it with 'modprobe overlay')"
    if host.kernel is not None and host.kernel < (4, 0, 0):
        return False, "kernel %s is older than 4.0, which %s needs" % (".".join(map(str, host.kernel)), driver)
    if fs in OVERLAY_BAD_BACKING:
        return False, "overlayfs cannot use a %s filesystem under data-root as its upper layer" % fs
    if fs == "zfs":
        if host.zfs_version is None or host.zfs_version < (2, 2, 0):
            return False, "overlayfs on ZFS needs OpenZFS >= 2.2 (this host has %s)" % (
                ".".join(map(str, host.zfs_version)) if host.zfs_version else "no known version")
    if host.d_type is False:
        if driver in host.prior:
            return True, ("the backing %s has no d_type support; dockerd accepts it only because %s state "
                          "already exists under data-root, and warns" % (fs, driver))
        return False, ("the backing %s filesystem has no d_type support (xfs: reformat with "
                       "'mkfs.xfs -n ftype=1'; ext4: 'tune2fs -O filetype' then fsck)" % fs)
    if fs == "zfs":
        return True, ("overlayfs on OpenZFS >= 2.2 mounts, but has open bugs (moby#46337, moby#51546; slow unmounts, "
                      "openzfs#15581)")
    if fs == "btrfs":
        return True, "overlayfs mounts on btrfs, but the btrfs driver is the native choice there"
    if host.d_type is None:
        return True, "overlay is available; d_type of the backing %s could not be measured" % fs
    return True, "overlay is available and the backing %s supports d_type" % fs


def _btrfs(host):
    if host.fstype == "btrfs":
        return True, "data-root is on btrfs"
    return False, "data-root is on %s; the btrfs driver needs data-root on a btrfs filesystem" % (
        host.fstype or "an unknown filesystem")


def _zfs(host):
    if not host.zfs_tools:
        return False, "the zfs command is missing (install zfsutils-linux)"
    if not host.zfs_device:
        return False, "/dev/zfs is missing: the zfs kernel module is not loaded ('modprobe zfs')"
    if host.fstype != "zfs":
        return False, ("data-root is on %s; the zfs driver needs data-root on a ZFS dataset (or zfs.fsname "
                       "naming one)" % (host.fstype or "an unknown filesystem"))
    return True, "data-root is on a ZFS dataset and the zfs tools and /dev/zfs are present"


def _vfs(host):
    return True, "vfs works on any filesystem, but copies every layer in full (testing only)"


def _fuse_overlayfs(host):
    if not host.fuse_overlayfs:
        return False, "the fuse-overlayfs binary or /dev/fuse is missing"
    return True, "fuse-overlayfs and /dev/fuse are present"


def _devicemapper(host):
    if not host.devicemapper:
        return False, ("devicemapper needs a dockerd linked with libdevmapper, /dev/mapper/control and a "
                       "running udev (for udev sync)")
    return True, "device-mapper and udev are present (loop-lvm unless dm.thinpooldev is set)"


def _aufs(host):
    if not host.aufs:
        return False, "aufs is not in /proc/filesystems (no Debian kernel ships it)"
    return True, "aufs is in the kernel"


CHECKS = {
    "overlay2": lambda host: _overlay_family("overlay2", host),
    "overlay": lambda host: _overlay_family("overlay", host),
    "btrfs": _btrfs,
    "zfs": _zfs,
    "vfs": _vfs,
    "fuse-overlayfs": _fuse_overlayfs,
    "devicemapper": _devicemapper,
    "aufs": _aufs,
}


def driver_check(driver, host, band):
    """Would dockerd of ``band`` start with ``storage-driver: driver`` on ``host``? -> (ok, reason)."""
    if driver not in CHECKS:
        return False, "unknown storage driver %r (known: %s)" % (driver, ", ".join(GRAPHDRIVERS))
    if driver in band.removed:
        return False, "%s was removed in Docker %s (this is Docker %s)" % (driver, REMOVED_IN[driver], band_label(band))
    if host.graphdrivers_built.get(driver) is False:
        return False, ("this dockerd was built without the %s graphdriver (its binary has no "
                       "daemon/graphdriver/%s package; Debian's docker.io 28 leaves out zfs)" % (driver, driver))
    return CHECKS[driver](host)


def missing_build(driver, host, store=None):
    """Why the installed binaries cannot run ``driver`` (a graphdriver name) on ``store`` (None: either store),
    or None: dockerd built without that graphdriver, or containerd without its snapshotter."""
    why = []
    if store in (None, "graphdriver") and host.graphdrivers_built.get(driver) is False:
        why.append("this dockerd was built without the %s graphdriver" % driver)
    if store in (None, "containerd") and host.snapshotters_built.get(SNAPSHOTTER_OF.get(driver)) is False:
        why.append("this containerd was built without the %s snapshotter" % SNAPSHOTTER_OF.get(driver))
    return "; ".join(why) or None


def snapshotter_check(snapshotter, host, band):
    """Would containerd's ``snapshotter`` work on ``host``? -> (ok, reason): the graphdriver's prerequisites
    (the same filesystem needs), and the snapshotter built into the containerd binary."""
    graph = GRAPHDRIVER_OF.get(snapshotter)
    if not graph:
        return False, "unknown snapshotter %r" % snapshotter
    if host.snapshotters_built.get(snapshotter) is False:
        return False, ("this containerd was built without the %s snapshotter (Debian's containerd 2.1 leaves out "
                       "zfs)" % snapshotter)
    # the snapshotter does not need dockerd's graphdriver: only the filesystem's needs apply
    return CHECKS[graph](host)


def compatibility(host, band):
    """``{driver: {ok, reason}}`` for every graphdriver name dockerd knows."""
    result = {}
    for driver in GRAPHDRIVERS:
        ok, reason = driver_check(driver, host, band)
        result[driver] = {"ok": ok, "reason": reason}
    return result


# ---------------------------------------------------------------------------------------------
# Image store (Docker 24+ opt-in, 29+ default) and dockerd's pick.
# ---------------------------------------------------------------------------------------------

# The graphdriver names Docker 29.0.0 recognised as such when no features.containerd-snapshotter is set.
ZERO_ZERO_GRAPHDRIVERS = ("overlay2", "vfs", "btrfs")

# dockerd's image store precedence, read top down: the first row whose condition holds decides. A condition
# reads ``c``: band, config, driver (storage-driver), feature (features.containerd-snapshotter), prior.
IMAGE_STORE_RULES = (
    (lambda c: c.band.containerd_store == "absent", "graphdriver", "Docker {band} has no containerd image store"),
    (lambda c: c.config.get("userns-remap"), "graphdriver", "userns-remap turns the containerd image store off"),
    (lambda c: c.feature is False, "graphdriver", "features.containerd-snapshotter is false"),
    (lambda c: c.feature is True, "containerd", "features.containerd-snapshotter is true"),
    (lambda c: c.driver in SNAPSHOTTERS and c.driver not in GRAPHDRIVERS, "containerd",
     "storage-driver {driver} names a containerd snapshotter"),
    (lambda c: c.driver and c.band.version == (29, 0, 0) and c.driver not in ZERO_ZERO_GRAPHDRIVERS, "containerd",
     "Docker 29.0.0 reads storage-driver {driver} as a containerd snapshotter name, not as the graphdriver "
     "(moby#51475, fixed in 29.0.1)"),
    (lambda c: c.driver, "graphdriver", "storage-driver {driver} names a graphdriver"),
    (lambda c: c.band.containerd_store != "default", "graphdriver", "the containerd image store is opt-in on Docker {band}"),
    (lambda c: c.prior, "graphdriver", "prior graphdriver state under data-root ({prior}) keeps the graphdriver store"),
    (lambda c: True, "containerd", "fresh Docker {band} installs use the containerd image store"),
)
_StoreCase = namedtuple("_StoreCase", "band config driver feature prior")


def image_store_decision(host, band, config):
    """-> (store, reason): ``graphdriver`` or ``containerd`` for a daemon config on this host (IMAGE_STORE_RULES)."""
    config = config or {}
    case = _StoreCase(band=band, config=config, driver=config.get("storage-driver"),
                      feature=(config.get("features") or {}).get("containerd-snapshotter"),
                      prior=[d for d in host.prior if d != "vfs"])
    for condition, store, reason in IMAGE_STORE_RULES:
        if condition(case):
            return store, reason.format(band=band_label(band), driver=case.driver, prior=", ".join(case.prior))
    raise AssertionError("IMAGE_STORE_RULES ends with a row that always holds")


def _default_graphdriver(host, band):
    """dockerd's graphdriver.New() with no name: prior state first, then the priority list."""
    prior_all = [d for d in host.prior if d in band.priority and d != "vfs"]
    prior = [d for d in band.priority if d in prior_all]
    if prior:
        if len(prior_all) > 1:
            return None, ("dockerd refuses to start: data-root holds state of several drivers (%s); remove all "
                          "but one or set storage-driver" % ", ".join(sorted(prior_all)))
        ok, why = driver_check(prior[0], host, band)
        if not ok:
            return None, ("dockerd refuses to start: the prior driver %s (state under data-root) fails: %s"
                          % (prior[0], why))
        return prior[0], "data-root already holds %s state, which dockerd keeps using" % prior[0]
    skipped = []
    for driver in band.priority:
        ok, why = driver_check(driver, host, band)
        if ok:
            text = "first usable driver in Docker %s's priority list (%s)" % (band_label(band), ", ".join(band.priority))
            if skipped:
                text += "; skipped " + "; ".join(skipped)
            return driver, text
        skipped.append("%s: %s" % (driver, why))
    return None, "no driver in the priority list initialises: " + "; ".join(skipped)


def dockerd_pick(host, band, config=None):
    """What dockerd of ``band`` does with ``config`` on ``host``.

    Returns a dict ``driver`` (None when dockerd would refuse to start; on the containerd store the name dockerd
    reports), ``image_store``, ``reason``, and on the containerd store ``usable`` (the snapshotter works here).
    """
    config = config or {}
    store, store_reason = image_store_decision(host, band, config)
    wanted = config.get("storage-driver")
    if store == "containerd":
        # Seen on Docker 28.5 (molecule/containerd's oracle): on the containerd store dockerd starts whatever
        # snapshotter is named - btrfs or zfs on ext4 too (the snapshotter then fails when used) - and reports
        # the name as written (overlay2, vfs), not the snapshotter it maps it to.
        snapshotter = SNAPSHOTTER_OF.get(wanted, wanted) or "overlayfs"
        ok, why = snapshotter_check(snapshotter, host, band)
        return {"driver": wanted or snapshotter, "image_store": store, "usable": ok,
                "reason": "%s; snapshotter %s: %s%s" % (store_reason, snapshotter, why,
                                                        "" if ok else " (dockerd starts, the snapshotter fails when used)")}
    if wanted:
        ok, why = driver_check(wanted, host, band)
        return {"driver": wanted if ok else None, "image_store": store,
                "reason": ("storage-driver is set to %s: %s" % (wanted, why)) if ok
                else "dockerd fails to start with storage-driver %s: %s" % (wanted, why)}
    driver, why = _default_graphdriver(host, band)
    return {"driver": driver, "image_store": store, "reason": why}
