# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""daemon.json: the storage keys merged over the keys other tools own, and what changing them means for the
images dockerd holds. Pure, no I/O."""

from __future__ import annotations

import posixpath

from ._drivers import SNAPSHOTTER_OF, band_for, dockerd_pick, host_view
from ._mountinfo import below
from ._systemd_unit import flag_conflicts, without_flags
from ._version import parse_version

# The keys this collection owns. Everything else in daemon.json belongs to other tools and is kept as it is.
STORAGE_KEYS = ("storage-driver", "storage-opts", "data-root")
# Keys the user may add through docker_storage_daemon_options (dockerd's own options, checked by name).
KNOWN_DAEMON_KEYS = (
    "allow-nondistributable-artifacts", "api-cors-header", "authorization-plugins", "bip", "bridge", "builder",
    "cgroup-parent", "containerd", "containerd-namespace", "containerd-plugin-namespace", "data-root", "debug",
    "default-address-pools", "default-cgroupns-mode", "default-gateway", "default-gateway-v6", "default-ipc-mode",
    "default-runtime", "default-shm-size", "default-ulimits", "dns", "dns-opts", "dns-search", "exec-opts",
    "exec-root", "experimental", "features", "fixed-cidr", "fixed-cidr-v6", "group", "hosts", "icc", "init",
    "init-path", "insecure-registries", "ip", "ip-forward", "ip-masq", "iptables", "ip6tables", "ipv6", "labels",
    "live-restore", "log-driver", "log-format", "log-level", "log-opts", "max-concurrent-downloads",
    "max-concurrent-uploads", "max-download-attempts", "metrics-addr", "mtu", "no-new-privileges", "node-generic-resources",
    "oom-score-adjust", "pidfile", "raw-logs", "registry-mirrors", "runtimes", "seccomp-profile", "selinux-enabled",
    "shutdown-timeout", "storage-driver", "storage-opts", "swarm-default-advertise-addr", "tls", "tlscacert", "tlscert",
    "tlskey", "tlsverify", "userland-proxy", "userland-proxy-path", "userns-remap", "proxies", "cdi-spec-dirs",
)
MIGRATIONS = ("none", "save_load", "accept_hidden")


def merge(existing, storage, extra=None):
    """``existing`` with the storage keys (and ``extra`` daemon options) set, in order.

    Keys already in the file keep their place and, unless set here, their value; new keys are appended.
    A storage key whose value is None is removed (for example storage-opts that no longer apply).
    """
    merged = dict(existing or {})
    for key, value in list((storage or {}).items()) + list((extra or {}).items()):
        if key == "features" and isinstance(value, dict):
            features = dict(merged.get("features") or {})
            features.update(value)
            merged["features"] = features
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if "graph" in merged and "data-root" in (storage or {}):
        merged.pop("graph")  # the legacy name of data-root; both at once make dockerd fail
    return merged


def storage_keys(choice, data_root, default_data_root="/var/lib/docker", pin_image_store=False):
    """The storage keys for a choice of ``choose()``: driver, validated opts, data-root, image store pin."""
    keys = {"storage-driver": choice["driver"],
            "storage-opts": list(choice["storage_opts"]) if choice.get("storage_opts") else None,
            "data-root": data_root if data_root and data_root != default_data_root else None}
    if pin_image_store and choice.get("image_store"):
        keys["features"] = {"containerd-snapshotter": choice["image_store"] == "containerd"}
    return keys


def validate_extra(options):
    """Unknown keys in the user's extra daemon options -> errors."""
    if not isinstance(options or {}, dict):
        return ["docker_storage_daemon_options must be a dict of daemon.json keys, such as {log-driver: journald}, "
                "not %r" % (options,)]
    errors = []
    for key in sorted(options or {}):
        if key not in KNOWN_DAEMON_KEYS:
            errors.append("docker_storage_daemon_options: unknown dockerd option %r (check the spelling against "
                          "dockerd's daemon.json reference)" % key)
        elif key == "features" and isinstance(options[key], dict) and "containerd-snapshotter" in options[key]:
            errors.append("docker_storage_daemon_options: features.containerd-snapshotter is set by the role; use "
                          "docker_storage_image_store (graphdriver or containerd)")
        elif key in STORAGE_KEYS:
            errors.append("docker_storage_daemon_options: %s is set by the role from the policy; use "
                          "docker_storage_policy / docker_storage_storage_opts / docker_storage_data_root" % key)
    return errors


def data_root_errors(data_root, docker, existing):
    """A data-root that is not absolute, or that is inside (or holds) a data-root Docker uses or used."""
    if not isinstance(data_root, str) or not posixpath.isabs(data_root):
        return ["docker_storage_data_root %r must be an absolute path such as /var/lib/docker. Nothing was changed"
                % (data_root,)]
    if posixpath.normpath(data_root) != data_root:
        return ["docker_storage_data_root %r: write it as %s (dockerd and the role compare it as written). Nothing "
                "was changed" % (data_root, posixpath.normpath(data_root))]
    known = [docker.get("data_root"), existing.get("data-root"), existing.get("graph")]
    for other in sorted(set(posixpath.normpath(p) for p in known if isinstance(p, str) and posixpath.isabs(p))):
        if below(data_root, other) or below(other, data_root):
            return ["docker_storage_data_root %s and Docker's data-root %s are nested: one dockerd would manage the "
                    "other's files. Choose a path outside %s (and not above it). Nothing was changed"
                    % (data_root, other, other if below(data_root, other) else data_root)]
    return []


def _switch(facts, choice, data_root, prepare_at=None):
    """What changes for dockerd (``{what: [before, after]}``) and what that hides from it (counts).

    With dockerd running, its own view counts. Stopped, the data-root on disk tells: state of another driver, or a
    non-empty data-root that new storage will be mounted over (its content is moved aside); nothing is counted."""
    docker = facts.get("docker") or {}
    switch = {}
    if choice.get("prepare") and prepare_at in (None, data_root) and not facts.get("data_root_empty", True):
        switch["storage"] = ["%s on %s" % (data_root, (facts.get("backing_fs") or {}).get("fstype") or "its filesystem"),
                             "a new %s filesystem (the current content moved aside)" % choice["prepare"]]
    if not docker.get("running"):
        others = [d for d in facts.get("prior_drivers") or [] if d != choice["driver"]]
        if others:
            switch["driver"] = ["/".join(others) + " (on disk)", choice["driver"]]
        on_disk = _stopped_snapshotter(facts)
        wanted = SNAPSHOTTER_OF.get(choice["driver"], choice["driver"])
        if on_disk and (choice.get("image_store") != "containerd" or wanted != on_disk):
            switch["image_store"] = ["containerd, %s snapshots (on disk)" % on_disk,
                                     "%s (%s)" % (choice["driver"], choice.get("image_store") or "graphdriver")]
        return switch, {}
    if docker.get("driver") and docker["driver"] != choice["driver"]:
        switch["driver"] = [docker["driver"], choice["driver"]]
    if docker.get("data_root") and docker["data_root"] != data_root:
        switch["data-root"] = [docker["data_root"], data_root]
    if docker.get("image_store") and choice.get("image_store") and docker["image_store"] != choice["image_store"]:
        switch["image_store"] = [docker["image_store"], choice["image_store"]]
    hidden = dict((key, docker[key]) for key in ("images", "containers", "volumes") if switch and docker.get(key))
    return switch, hidden


# What dockerd's own migration to the containerd store (features.containerd-migration, Docker 29, experimental)
# can carry: the graphdriver it reads and the snapshotter it writes. It needs no container at all.
MIGRATABLE = {"overlay2": "overlayfs", "vfs": "native"}


def containerd_migration(content, docker, switch, hidden):
    """features.containerd-migration set for a switch to the containerd store where it cannot work -> a refusal;
    None when it is not set, not relevant, or its preconditions hold (the switch is then still guarded by
    docker_storage_migration: its migration is experimental, save_load is the verified way)."""
    if not ((content.get("features") or {}).get("containerd-migration") is True
            and (switch.get("image_store") or [None, None])[1] == "containerd"):
        return None
    source, target = switch.get("driver") or [docker.get("driver"), None]
    problems = []
    if (parse_version(docker.get("version")) or (0,)) < (29,):
        problems.append("Docker %s has no such feature (it came with 29)" % docker.get("version"))
    if hidden.get("containers"):
        problems.append("%d containers exist (it needs none: remove them with docker rm)" % hidden["containers"])
    if MIGRATABLE.get(source) is None or (target and target != MIGRATABLE.get(source)):
        problems.append("it carries only overlay2 to overlayfs and vfs to native, not %s to %s" % (source, target))
    if problems:
        return ("features.containerd-migration cannot move the images here: %s. Remove it from "
                "docker_storage_daemon_options and use docker_storage_migration: save_load. Nothing was changed"
                % "; ".join(problems))
    return None


def _stopped_snapshotter(facts):
    """The snapshotter a stopped dockerd would use by its current settings (daemon.json, the unit's
    --storage-driver), when that is the containerd image store and its snapshots directory holds state; else None."""
    docker = facts.get("docker") or {}
    if not docker.get("installed"):
        return None  # no dockerd has used any store here (a snapshot directory is another tool's, such as k8s')
    content = (facts.get("daemon_json") or {}).get("content") or {}
    config = dict((key, content[key]) for key in ("storage-driver", "features", "userns-remap") if key in content)
    for flag in (facts.get("service") or {}).get("flags") or ():
        if flag.get("key") == "storage-driver":
            config["storage-driver"] = flag.get("value")
    pick = dockerd_pick(host_view(facts), band_for(docker.get("version")), config)
    snapshotter = SNAPSHOTTER_OF.get(pick["driver"], pick["driver"])
    view = (((facts.get("containerd") or {}).get("snapshotters") or {}).get(snapshotter) or {})
    return snapshotter if pick["image_store"] == "containerd" and view.get("state") else None


def _stopped_errors(switch, migration, data_root):
    """dockerd is stopped, so nothing can be counted or saved: the switch is refused unless the user accepts that
    what is there stays hidden."""
    what = ", ".join("%s %s -> %s" % (k, v[0], v[1]) for k, v in sorted(switch.items()))
    if migration == "save_load":
        return ["docker_storage_migration save_load needs dockerd running to save the images, and it is stopped "
                "(switching %s). Start docker and run again, or use accept_hidden. Nothing was changed" % what]
    if migration == "none":
        return ["dockerd is stopped, and switching %s would hide what %s holds. Nothing was changed. Start docker so "
                "the images can be counted and saved (docker_storage_migration: save_load), or set "
                "docker_storage_migration: accept_hidden to keep the old state hidden on disk" % (what, data_root)]
    return []


def plan(facts, choice, data_root, extra=None, migration="none", pin_image_store=False, remove_unit_flags=False,
         resuming=False, prepare_at=None):
    """What writing daemon.json for ``choice`` means on the host ``facts`` describe.

    ``resuming``: an earlier run with the same target was cut short after it saved the images (or accepted the
    switch); what the switch hides is then not refused again.

    Returns ``content`` (merged), ``write`` (the file must be written), ``conflicts`` (options the service sets as flags too),
    ``switch`` (what changes for dockerd: driver, data-root, image store), ``hidden`` (images, containers,
    volumes the switch would hide), ``errors``.
    """
    daemon_json = facts.get("daemon_json") or {}
    existing = daemon_json.get("content") or {}
    docker = facts.get("docker") or {}
    errors = validate_extra(extra)
    if migration not in MIGRATIONS:
        errors.append("docker_storage_migration must be one of %s" % ", ".join(MIGRATIONS))
    errors.extend(data_root_errors(data_root, docker, existing))
    if isinstance(data_root, str) and posixpath.isabs(data_root):
        data_root = posixpath.normpath(data_root)
    keys = storage_keys(choice, data_root, pin_image_store=pin_image_store)
    content = merge(existing, keys, extra)
    flags = [(f["flag"], f["key"], f.get("value"), f.get("file"), f.get("line"))
             for f in ((facts.get("service") or {}).get("flags") or [])]
    conflicts = flag_conflicts(flags, content)
    for name, key, value, path, line in flags:
        # The default data-root is left out of daemon.json, so a --data-root/-g flag conflicts with nothing
        # there, yet it wins: dockerd would run elsewhere.
        if key == "data-root" and "data-root" not in content and "graph" not in content and value and \
                isinstance(data_root, str) and posixpath.normpath(value) != data_root:
            conflicts.append({"key": "data-root", "flag": "%s %s" % (name, value), "file": path, "line": line,
                              "overrides": data_root})
    switch, hidden = _switch(facts, choice, data_root, prepare_at)
    if not docker.get("running") and switch and not resuming:
        errors.extend(_stopped_errors(switch, migration, data_root))
    if hidden and migration == "none" and not resuming:
        errors.append(
            "switching %s would hide %s from dockerd (they stay on disk under %s, invisible). Nothing was changed. "
            "Set docker_storage_migration: save_load to save the images and load them after the switch, or "
            "accept_hidden to switch anyway and keep the old data hidden" % (
                ", ".join("%s %s -> %s" % (k, v[0], v[1]) for k, v in sorted(switch.items())),
                ", ".join("%d %s" % (v, k) for k, v in sorted(hidden.items())), docker.get("data_root")))
    if switch.get("image_store") and migration == "save_load" and docker.get("untagged_images") and not resuming:
        errors.append("%d untagged images cannot be carried across a switch of image store (%s -> %s): saved by ID, "
                      "one did not come back from docker load into Docker 28's containerd store in this collection's "
                      "tests. Tag each one you keep (docker tag ID name:tag) and remove the rest (docker image "
                      "prune), then run again; nothing was changed" % (
                          docker["untagged_images"], switch["image_store"][0], switch["image_store"][1]))
    if hidden.get("containers") and migration == "save_load" and not resuming:
        names = docker.get("container_names") or []
        errors.append("%d containers exist%s: their writable layers cannot move to another driver. Remove them (docker "
                      "rm), or recreate them after the switch from their images; nothing was changed" % (
                          hidden["containers"], " (%s)" % ", ".join(names) if names else ""))
    refusal = containerd_migration(content, docker, switch, hidden)
    if refusal:
        errors.append(refusal)
    exec_start = None
    if conflicts and remove_unit_flags:
        exec_start = without_flags((facts.get("service") or {}).get("exec_start"), set(c["key"] for c in conflicts))
    for conflict in ([] if remove_unit_flags else conflicts):
        if conflict.get("overrides"):
            errors.append("the flag %s in %s line %s overrides docker_storage_data_root %s: dockerd would run from "
                          "another data-root. Remove the flag there (or set docker_storage_remove_unit_flags). Nothing "
                          "was changed" % (conflict["flag"], conflict["file"], conflict["line"], conflict["overrides"]))
            continue
        errors.append("%s is set in daemon.json and as the flag %s in %s line %s: dockerd would not start. Remove the "
                      "flag there (or set docker_storage_remove_unit_flags). Nothing was changed"
                      % (conflict["key"], conflict["flag"], conflict["file"], conflict["line"]))
    return {"content": content, "write": content != existing or not daemon_json.get("exists"),
            "conflicts": conflicts, "exec_start": exec_start, "switch": switch, "hidden": hidden, "errors": errors}
