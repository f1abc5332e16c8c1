# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From facts and a policy to a driver, with reasons, warnings and errors. Pure, no I/O.

``choose(facts, policy)`` is what the ``choose_driver`` filter returns and what the role applies.
"""

from __future__ import annotations

from ._drivers import (
    GRAPHDRIVERS, SNAPSHOTTERS, GRAPHDRIVER_OF, SNAPSHOTTER_OF, DEPRECATED, NEWEST_KNOWN, OLDEST_SUPPORTED,
    band_for, band_label, driver_check, dockerd_pick, host_view, image_store_decision, missing_build, rules_label,
    snapshotter_check,
)
from ._storage_opts import validate_storage_opts
from ._version import parse_version

# The storage guide's scenarios: policy -> (preferred driver, why it is preferred there).
SCENARIOS = {
    "general": ("overlay2", "general / CI: overlay2 on ext4 or xfs (ftype=1) gives the fastest builds and starts"),
    "enterprise": ("zfs", "enterprise, integrity first: zfs with checksum=sha256, compression=lz4, atime=off "
                          "and scheduled snapshots"),
    "large_images": ("btrfs", "large images, disk saving: btrfs block-level copy-on-write with zstd compression"),
}
POLICIES = ("auto",) + tuple(SCENARIOS) + GRAPHDRIVERS + tuple(s for s in SNAPSHOTTERS if s not in GRAPHDRIVERS)

# Drivers whose filesystem the role can create under data-root: driver -> facts' available key.
PREPARABLE = {"btrfs": "btrfs", "zfs": "zfs"}


class PolicyError(ValueError):
    """The policy names nothing this collection knows."""


def policy_filesystem(policy):
    """The filesystem a policy prepares under data-root when it is given devices or a lab file, or None."""
    driver = SCENARIOS[policy][0] if policy in SCENARIOS else policy
    return PREPARABLE.get(driver)


def anti_patterns(driver, host, opts, store="graphdriver"):
    """The anti-patterns of a driver on a host -> (warnings, errors)."""
    warnings, errors = [], []
    if store == "containerd":
        graph = GRAPHDRIVER_OF.get(driver, driver)
        if graph in ("btrfs", "zfs"):
            found = (host.containerd_fs or {}).get(graph)
            if found == "data-root":  # dockerd's own containerd keeps it under the data-root
                found = host.fstype
            need = ("the containerd %s snapshotter needs its directory (/var/lib/containerd/"
                    "io.containerd.snapshotter.v1.%s by default, or its root_path) on a %s filesystem"
                    % (graph, graph, graph))
            if found and found != graph:
                errors.append("%s, and here it is on %s: mount a %s filesystem there first, or keep Docker's "
                              "graphdriver store (features.containerd-snapshotter: false)" % (need, found, graph))
            elif not found:
                warnings.append("%s (not checked: the facts do not say where it is)" % need)
        return warnings, errors
    if driver == "overlay2" and host.fstype == "btrfs":
        warnings.append("overlay2 on a btrfs backing filesystem is an anti-pattern (Docker supports overlay2 on "
                        "ext4 and xfs only, and btrfs has a driver of its own): use the btrfs driver, "
                        "or put data-root on ext4 or xfs (ftype=1)")
    if driver == "overlay2" and host.fstype == "zfs":
        warnings.append("overlay2 on ZFS has open bugs (moby#46337, moby#51546; slow unmounts, openzfs#15581): "
                        "prefer the zfs driver")
    if driver == "devicemapper":
        if not any(str(o).lower().startswith("dm.thinpooldev=") for o in opts or ()):
            errors.append("devicemapper without dm.thinpooldev is loop-lvm, which Docker documents as for testing "
                          "only (slow, and its sparse files fill the disk unseen): use overlay2, btrfs or zfs")
        else:
            warnings.append(DEPRECATED["devicemapper"])
    elif driver in DEPRECATED:
        warnings.append(DEPRECATED[driver])
    if driver == "vfs":
        warnings.append("vfs has no copy-on-write: every layer and container is a full copy (testing only)")
    if driver == "fuse-overlayfs" and host.kernel is not None and host.kernel >= (5, 11, 0):
        warnings.append("fuse-overlayfs is unnecessary on kernel >= 5.11: overlay2 works rootless there")
    return warnings, errors


def _docker_version(facts, docker_version, warnings):
    version = docker_version or ((facts.get("docker") or {}).get("version"))
    parsed = parse_version(version)
    if parsed is None:
        warnings.append("the Docker version is unknown (Docker not installed?): Docker %d's rules are assumed"
                        % NEWEST_KNOWN[0])
    elif parsed[:2] < OLDEST_SUPPORTED:
        warnings.append("Docker %s is older than 20.10, which this collection supports; 20.10's rules are assumed"
                        % version)
    elif parsed[0] > NEWEST_KNOWN[0]:
        warnings.append("Docker %s is newer than the rules known here (%d); Docker %d's rules are assumed"
                        % (version, NEWEST_KNOWN[0], NEWEST_KNOWN[0]))
    return version, band_for(version)


def _fallbacks(host, band, preferred):
    """Candidates after ``preferred``: the backing filesystem's own driver, then dockerd's priority list."""
    order = []
    if host.fstype in ("btrfs", "zfs"):
        order.append(host.fstype)
    order.extend(d for d in band.priority if d not in DEPRECATED and d != "vfs")
    order.append("vfs")
    return [d for i, d in enumerate(order) if d != preferred and d not in order[:i]]


def _discouraged(driver, host):
    """overlay2 over a copy-on-write filesystem that has a native driver (an anti-pattern)."""
    return driver in ("overlay2", "overlay") and host.fstype in ("btrfs", "zfs")


def _pick_scenario(policy, host, band, facts, prepare_storage, reasons, errors, required=False):
    preferred, why = SCENARIOS[policy]
    ok, check = driver_check(preferred, host, band)
    if ok and not _discouraged(preferred, host):
        reasons.append("policy %s: %s; %s" % (policy, why, check))
        return preferred, None
    if ok:
        check = "%s runs on %s here, but that is an anti-pattern" % (preferred, host.fstype)
    available = (facts.get("available") or {})
    fs = PREPARABLE.get(preferred)
    unbuilt = missing_build(preferred, host)
    if unbuilt:
        check = unbuilt
    if prepare_storage and fs and available.get(fs) and not unbuilt:
        reasons.append("policy %s: %s; data-root is on %s now, so the role prepares a %s filesystem under it"
                       % (policy, why, host.fstype or "an unknown filesystem", fs))
        return preferred, fs
    if required:
        # devices or a lab file were given for this policy's filesystem: falling back would leave them unused
        errors.append("policy %s needs %s on the devices given, and this host cannot run it: %s (no fallback when "
                      "devices or a lab file are given)" % (policy, preferred, check))
        return None, None
    reasons.append("policy %s prefers %s, but this host cannot run it: %s" % (policy, preferred, check))
    for candidate in _fallbacks(host, band, preferred):
        ok, check = driver_check(candidate, host, band)
        errors = anti_patterns(candidate, host, ())[1]
        if ok and not errors and not _discouraged(candidate, host):
            reasons.append("falls back to %s: %s" % (candidate, check))
            return candidate, None
    return None, None


def graph_name(driver):
    """The graphdriver of a driver or snapshotter name (``overlayfs`` -> ``overlay2``)."""
    return GRAPHDRIVER_OF.get(driver, driver)


def check_policy(policy):
    """Raise ``PolicyError`` for a policy that names nothing known."""
    if not isinstance(policy, str) or policy not in POLICIES:
        raise PolicyError("unknown policy or driver %r: use auto, %s, or a driver name (%s)" % (
            policy, ", ".join(SCENARIOS), ", ".join(GRAPHDRIVERS + ("overlayfs", "native"))))


IMAGE_STORES = ("auto", "graphdriver", "containerd")


def _named(driver, store, host, band, facts, prepare_storage, reasons, errors):
    """A policy that names a driver (or, on the containerd store, a snapshotter): it runs here, or the role prepares
    its filesystem, or it is an error. -> the filesystem to prepare, or None."""
    graph = GRAPHDRIVER_OF.get(driver, driver) if store == "containerd" else driver
    ok, check = snapshotter_check(SNAPSHOTTER_OF.get(graph), host, band) if store == "containerd" \
        else driver_check(graph, host, band)
    unbuilt = missing_build(graph, host, store)
    if ok:
        reasons.append("storage-driver %s requested: %s" % (driver, check))
    elif unbuilt:
        errors.append("storage-driver %s cannot run on this host: %s" % (driver, unbuilt))
    elif prepare_storage and PREPARABLE.get(graph) and (facts.get("available") or {}).get(graph):
        reasons.append("storage-driver %s requested; the role prepares a %s filesystem under data-root"
                       % (driver, graph))
        return graph
    else:
        errors.append("storage-driver %s cannot run on this host: %s" % (driver, check))
    return None


def _inherited_opts(config, driver, warnings):
    """The storage-opts daemon.json already has, kept when they belong to the same driver (or none is set)."""
    current_driver, current_opts = config.get("storage-driver"), config.get("storage-opts") or []
    if current_driver in (None, driver):
        return current_opts
    if current_opts:
        warnings.append("daemon.json's storage-opts %s belong to %s and are dropped for %s"
                        % (", ".join(map(str, current_opts)), current_driver, driver))
    return []


def choose(facts, policy="auto", storage_opts=None, docker_version=None, prepare_storage=False,
           require_filesystem=False, image_store="auto"):
    """Choose a driver for ``policy`` on the host the ``facts`` describe.

    Raises ``PolicyError`` for a policy that names nothing known. Everything else is reported in
    ``errors`` (the choice cannot be applied), ``warnings`` and ``reasons``. With ``require_filesystem`` (devices
    or a lab file are given), a policy whose filesystem cannot be used here is an error, never a fallback.
    ``image_store`` ``graphdriver`` or ``containerd`` decides the store (it is written as
    features.containerd-snapshotter); ``auto`` keeps what dockerd would do with daemon.json as it is.
    """
    check_policy(policy)
    facts = facts or {}
    reasons, warnings, errors = [], [], []
    version, band = _docker_version(facts, docker_version, warnings)
    host = host_view(facts)
    config = ((facts.get("daemon_json") or {}).get("content")) or {}
    if not isinstance(config, dict):
        config = {}
    base = {"features": config.get("features") or {}, "userns-remap": config.get("userns-remap")}
    if image_store in ("graphdriver", "containerd"):
        base["features"] = dict(base["features"], **{"containerd-snapshotter": image_store == "containerd"})
        if image_store == "containerd" and band.containerd_store == "absent":
            errors.append("image store containerd: Docker %s has no containerd image store (Docker 24 and later "
                          "have it): upgrade Docker, or keep the graphdriver store" % band_label(band))
        elif image_store == "containerd" and config.get("userns-remap"):
            errors.append("image store containerd: daemon.json sets userns-remap, which turns the containerd image "
                          "store off: remove userns-remap, or keep the graphdriver store")
    default = dockerd_pick(host, band, base)
    prepare = None

    if policy == "auto":
        driver, store = default["driver"], default["image_store"]
        if driver is None or default.get("usable") is False:
            errors.append(default["reason"])
        else:
            reasons.append("policy auto: Docker %s's own choice: %s" % (band_label(band), default["reason"]))
    else:
        if policy in SCENARIOS:
            driver, prepare = _pick_scenario(policy, host, band, facts, prepare_storage, reasons, errors,
                                             required=require_filesystem)
            if driver is None and not errors:
                errors.append("policy %s: no usable driver on this host" % policy)
        else:
            driver = policy
        store = "graphdriver"
        if driver:
            store, store_reason = image_store_decision(host, band, dict(base, **{"storage-driver": driver}))
            if driver not in GRAPHDRIVERS and band.containerd_store == "absent":
                errors.append("%s is a containerd snapshotter, but Docker %s has no containerd image store: use %s"
                              % (driver, band_label(band), GRAPHDRIVER_OF[driver]))
            elif policy not in SCENARIOS:
                prepare = _named(driver, store, host, band, facts, prepare_storage, reasons, errors)
            if store == "containerd" and driver in GRAPHDRIVERS:
                driver = {v: k for k, v in GRAPHDRIVER_OF.items()}.get(driver, driver)
            reasons.append("image store: %s (%s)" % (store, store_reason))
            if "moby#51475" in store_reason:
                warnings.append("%s: set features.containerd-snapshotter to false to keep the %s graphdriver "
                                "(docker_storage_pin_image_store does), or upgrade to Docker 29.0.1 or later"
                                % (store_reason, graph_name(driver)))

    if storage_opts is None:
        storage_opts = _inherited_opts(config, driver, warnings)
    opts, opt_warnings, opt_errors = [], [], []
    if driver:
        opts, opt_warnings, opt_errors = validate_storage_opts(
            GRAPHDRIVER_OF.get(driver, driver) if store == "containerd" else driver, storage_opts,
            fstype=prepare or host.fstype, pquota=bool((facts.get("backing_fs") or {}).get("pquota")),
            override_kernel_check=band.override_kernel_check, image_store=store)
        # The filesystem the role prepares is where the driver keeps its data: under data-root, or (containerd
        # store) at the snapshotter's directory.
        prepared = host._replace(fstype=prepare, containerd_fs=dict(host.containerd_fs or {}, **{prepare: prepare})) \
            if prepare else host
        ap_warnings, ap_errors = anti_patterns(driver, prepared, opts, store)
        warnings.extend(ap_warnings)
        errors.extend(ap_errors)
    warnings.extend(opt_warnings)
    errors.extend(opt_errors)

    for conflict in ((facts.get("daemon_json") or {}).get("flag_conflicts") or []):
        errors.append("%s is set both in daemon.json and as %s in %s line %s: dockerd will not start; remove one"
                      % (conflict.get("key"), conflict.get("flag"), conflict.get("file"), conflict.get("line")))

    return {
        "policy": policy,
        "driver": driver,
        "image_store": store if driver else None,
        "storage_opts": opts,
        "prepare": prepare,
        "default_driver": default["driver"],
        "docker_version": version,
        "rules": rules_label(band),
        "reasons": reasons,
        "warnings": warnings,
        "errors": errors,
    }
