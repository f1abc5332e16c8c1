"""daemon.json merge: foreign keys kept in place and value, storage keys set, switches refused without a migration."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._choice import choose
from ansible_collections.cowstack.docker_storage.plugins.module_utils._daemon_json import merge, plan, validate_extra
from factsbuilder import facts

FOREIGN = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"},
           "runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}},
           "registry-mirrors": ["https://mirror.example.invalid"]}


def test_merge_keeps_foreign_keys_in_order_and_value():
    existing = dict(FOREIGN, **{"storage-driver": "overlay2"})
    merged = merge(existing, {"storage-driver": "btrfs", "storage-opts": None, "data-root": None})
    assert list(merged) == ["log-driver", "log-opts", "runtimes", "registry-mirrors", "storage-driver"]
    for key in FOREIGN:
        assert json.dumps(merged[key]) == json.dumps(FOREIGN[key])
    assert merged["storage-driver"] == "btrfs"


def test_merge_features_and_legacy_graph():
    merged = merge({"features": {"buildkit": True}, "graph": "/old"},
                   {"storage-driver": "overlay2", "data-root": "/srv/docker",
                    "features": {"containerd-snapshotter": False}})
    assert merged == {"features": {"buildkit": True, "containerd-snapshotter": False}, "storage-driver": "overlay2",
                      "data-root": "/srv/docker"}


def _running(fs="ext4", driver="overlay2", images=3, containers=0, volumes=1, daemon_json=None, version="26.1.5",
             data_root="/var/lib/docker"):
    f = facts(fs, version, daemon_json=daemon_json)
    f["docker"].update({"running": True, "driver": driver, "image_store": "graphdriver", "images": images,
                        "containers": containers, "volumes": volumes, "data_root": data_root})
    return f


def test_plan_unchanged_when_already_pinned():
    f = _running(daemon_json=dict(FOREIGN, **{"storage-driver": "overlay2"}))
    result = plan(f, choose(f, "overlay2"), "/var/lib/docker")
    assert result["write"] is False and result["errors"] == [] and result["switch"] == {}


def test_plan_switch_with_images_is_refused_without_migration():
    f = _running(fs="btrfs", daemon_json=dict(FOREIGN))
    result = plan(f, choose(f, "btrfs"), "/var/lib/docker")
    assert result["switch"] == {"driver": ["overlay2", "btrfs"]}
    assert result["hidden"] == {"images": 3, "volumes": 1}
    assert any("docker_storage_migration: save_load" in e for e in result["errors"])
    for migration in ("save_load", "accept_hidden"):
        assert plan(f, choose(f, "btrfs"), "/var/lib/docker", migration=migration)["errors"] == []


def test_plan_save_load_refuses_containers():
    f = _running(fs="btrfs", containers=2)
    result = plan(f, choose(f, "btrfs"), "/var/lib/docker", migration="save_load")
    assert any("2 containers exist" in e for e in result["errors"])


def test_plan_data_root_move_is_a_switch():
    f = _running(images=0, volumes=2)
    result = plan(f, choose(f, "overlay2"), "/srv/docker")
    assert result["switch"] == {"data-root": ["/var/lib/docker", "/srv/docker"]}
    assert result["content"]["data-root"] == "/srv/docker"
    assert result["hidden"] == {"volumes": 2} and result["errors"]


def test_plan_flag_conflicts_name_file_and_line():
    f = _running(images=0, volumes=0)
    f["service"] = {"flags": [{"flag": "--storage-driver", "key": "storage-driver", "value": "overlay2",
                               "file": "/etc/systemd/system/docker.service.d/override.conf", "line": 3}]}
    result = plan(f, choose(f, "overlay2"), "/var/lib/docker")
    assert result["conflicts"][0]["file"].endswith("override.conf")
    assert any("override.conf line 3" in e for e in result["errors"])


def test_plan_pins_the_image_store_on_request():
    f = facts("ext4", "29.0.0")
    choice = choose(f, "auto")
    result = plan(f, choice, "/var/lib/docker", pin_image_store=True)
    assert result["content"] == {"storage-driver": "overlayfs", "features": {"containerd-snapshotter": True}}


@pytest.mark.parametrize("options, fragment", [
    ({"log-drivr": "journald"}, "unknown dockerd option 'log-drivr'"),
    ({"storage-driver": "vfs"}, "set by the role"),
    ({"live-restore": True}, None),
])
def test_extra_options(options, fragment):
    errors = validate_extra(options)
    assert (errors and fragment in errors[0]) if fragment else errors == []


def test_unknown_migration_is_an_error():
    f = _running()
    assert any("docker_storage_migration must be" in e for e in plan(f, choose(f, "overlay2"), "/var/lib/docker",
                                                                     migration="copy")["errors"])


def test_remove_unit_flags_gives_a_command_line_without_them():
    f = _running(images=0, volumes=0)
    f["service"] = {"exec_start": "/usr/sbin/dockerd -H fd:// -s overlay2 --storage-opt=overlay2.size=1G --debug "
                                  "--containerd=/run/containerd/containerd.sock",
                    "flags": [{"flag": "-s", "key": "storage-driver", "value": "overlay2", "file": "u", "line": 3},
                              {"flag": "--storage-opt", "key": "storage-opts", "value": "overlay2.size=1G",
                               "file": "u", "line": 3}]}
    choice = choose(f, "overlay2", storage_opts=[])
    choice["storage_opts"] = ["overlay2.size=1G"]
    result = plan(f, choice, "/var/lib/docker", remove_unit_flags=True)
    assert result["errors"] == []
    assert result["exec_start"] == ("/usr/sbin/dockerd -H fd:// --debug "
                                    "--containerd=/run/containerd/containerd.sock")


@pytest.mark.parametrize("data_root, fragment", [
    ("docker", "must be an absolute path"),
    ("var/lib/docker", "must be an absolute path"),
    ("/var/lib/docker/nested", "are nested"),          # inside the data-root dockerd runs on
    ("/var/lib", "are nested"),                         # above it: dockerd would own /var/lib
    ("/srv/docker/inner", "are nested"),               # inside the data-root daemon.json names
])
def test_plan_refuses_relative_or_nested_data_roots(data_root, fragment):
    f = _running(images=0, volumes=0, daemon_json={"data-root": "/srv/docker"})
    f["docker"]["data_root"] = "/var/lib/docker"
    errors = plan(f, choose(f, "overlay2"), data_root)["errors"]
    assert any(fragment in e and "Nothing was changed" in e for e in errors), errors


@pytest.mark.parametrize("data_root", ["/var/lib/docker", "/var/lib/docker2", "/srv/docker"])
def test_plan_accepts_the_same_or_a_sibling_data_root(data_root):
    f = _running(images=0, volumes=0, daemon_json={"data-root": "/srv/docker"})
    errors = plan(f, choose(f, "overlay2"), data_root)["errors"]
    assert not [e for e in errors if "nested" in e or "absolute" in e], errors


@pytest.mark.parametrize("data_root", ["/var/lib/docker/", "/var/lib//docker", "/var/lib/./docker", "/srv/x/../docker"])
def test_plan_refuses_a_data_root_not_written_plainly(data_root):
    """The role and dockerd compare the data-root as written: /var/lib/docker/ would move the state into itself."""
    f = _running(images=0, volumes=0)
    errors = plan(f, choose(f, "overlay2"), data_root)["errors"]
    assert any("write it as /" in e and "Nothing was changed" in e for e in errors), errors


def test_plan_new_storage_over_a_used_data_root_is_a_switch_even_for_the_same_driver():
    """Docker runs btrfs on a btrfs root; a dedicated btrfs filesystem under the data-root moves its state aside."""
    f = _running(fs="ext4", driver="btrfs", images=2, volumes=0)
    f["data_root_empty"] = False
    choice = choose(f, "btrfs", prepare_storage=True)
    assert choice["prepare"] == "btrfs"
    result = plan(f, choice, "/var/lib/docker")
    assert "driver" not in result["switch"] and result["switch"]["storage"][1].startswith("a new btrfs filesystem")
    assert result["hidden"] == {"images": 2}
    assert any("would hide 2 images" in e for e in result["errors"])
    assert plan(f, choice, "/var/lib/docker", migration="save_load")["errors"] == []


@pytest.mark.parametrize("migration, fragment", [
    ("none", "dockerd is stopped, and switching driver overlay2 (on disk) -> btrfs would hide"),
    ("save_load", "needs dockerd running to save the images"),
    ("accept_hidden", None),
])
def test_plan_with_dockerd_stopped_reads_the_state_on_disk(migration, fragment):
    f = facts("btrfs", prior=["overlay2"])          # dockerd stopped, overlay2 layers under the data-root
    result = plan(f, choose(f, "btrfs"), "/var/lib/docker", migration=migration)
    assert result["switch"] == {"driver": ["overlay2 (on disk)", "btrfs"]} and result["hidden"] == {}
    if fragment:
        assert any(fragment in e and "Nothing was changed" in e for e in result["errors"]), result["errors"]
    else:
        assert result["errors"] == []
    same = facts("btrfs", prior=["btrfs"])          # stopped on the driver it keeps: nothing to refuse
    assert plan(same, choose(same, "btrfs"), "/var/lib/docker")["errors"] == []


def _stopped_on_containerd_store(version="28.5.2", content=None, state=True, flag=None):
    """dockerd stopped; daemon.json (or a unit flag) puts it on the containerd store; overlayfs snapshots on disk."""
    f = facts("ext4", version, daemon_json=content if content is not None else {
        "features": {"containerd-snapshotter": True}})
    f["containerd"] = {"managed_by_dockerd": True, "snapshotters": {
        "overlayfs": {"path": "/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.overlayfs",
                      "fstype": "ext4", "mount_point": "/", "state": state}}}
    if flag:
        f["service"] = {"exec_start": "/usr/sbin/dockerd --storage-driver %s" % flag, "flags": [
            {"flag": "--storage-driver", "key": "storage-driver", "value": flag, "file": "/lib/u", "line": 3}]}
    return f


def _target(f, store):
    """The choice for overlay2 on ``store`` (the containerd store names it overlayfs)."""
    return dict(choose(f, "overlay2"), driver="overlayfs" if store == "containerd" else "overlay2", image_store=store)


@pytest.mark.parametrize("migration, fragment", [
    ("none", "dockerd is stopped, and switching image_store containerd, overlayfs snapshots (on disk) -> overlay2 "
             "(graphdriver) would hide"),
    ("save_load", "needs dockerd running to save the images"),
    ("accept_hidden", None),
])
def test_plan_stopped_on_the_containerd_store_is_refused_a_store_switch(migration, fragment):
    """Stopped, on the containerd store by daemon.json, with snapshots on disk: a graphdriver target would hide
    them (before: nothing was planned, and the images were hidden)."""
    f = _stopped_on_containerd_store()
    result = plan(f, _target(f, "graphdriver"), "/var/lib/docker", migration=migration)
    assert result["switch"]["image_store"] == ["containerd, overlayfs snapshots (on disk)", "overlay2 (graphdriver)"]
    if fragment:
        assert any(fragment in e and "Nothing was changed" in e for e in result["errors"]), result["errors"]
    else:
        assert result["errors"] == []


@pytest.mark.parametrize("case, kwargs, store, refused", [
    ("same store and snapshotter", {}, "containerd", False),
    ("no snapshots on disk", {"state": False}, "graphdriver", False),
    ("daemon.json keeps the graphdriver store", {"content": {"features": {"containerd-snapshotter": False}}},
     "graphdriver", False),
    ("Docker 29 default store, nothing set", {"version": "29.1.2", "content": {}}, "graphdriver", True),
    ("Docker 28 opt-in store, nothing set", {"content": {}}, "graphdriver", False),
    ("a unit flag names the snapshotter", {"content": {}, "flag": "overlayfs"}, "graphdriver", True),
])
def test_plan_stopped_store_state_cases(case, kwargs, store, refused):
    f = _stopped_on_containerd_store(**kwargs)
    result = plan(f, _target(f, store), "/var/lib/docker")
    assert ("image_store" in result["switch"]) is refused, (case, result["switch"])
    assert bool(result["errors"]) is refused, (case, result["errors"])


def test_plan_data_root_flag_overriding_the_default_is_refused():
    """The default data-root is not written to daemon.json, so the flag conflicts with nothing there, yet wins."""
    f = _running(images=0, volumes=0)
    f["service"] = {"exec_start": "/usr/sbin/dockerd -H fd:// -g /srv/old",
                    "flags": [{"flag": "-g", "key": "data-root", "value": "/srv/old", "file": "/lib/u", "line": 7}]}
    result = plan(f, choose(f, "overlay2"), "/var/lib/docker")
    assert any("-g /srv/old in /lib/u line 7 overrides docker_storage_data_root /var/lib/docker" in e
               for e in result["errors"]), result["errors"]
    fixed = plan(f, choose(f, "overlay2"), "/var/lib/docker", remove_unit_flags=True)
    assert fixed["errors"] == [] and fixed["exec_start"] == "/usr/sbin/dockerd -H fd://"
    f["service"]["flags"][0]["value"] = "/var/lib/docker"   # the flag says what the role wants: no conflict
    f["service"]["exec_start"] = "/usr/sbin/dockerd -H fd:// -g /var/lib/docker"
    assert plan(f, choose(f, "overlay2"), "/var/lib/docker")["errors"] == []


@pytest.mark.parametrize("case, version, driver, containers, fragment", [
    ("Docker 28", "28.5.2", "overlay2", 0, "Docker 28.5.2 has no such feature"),
    ("containers present", "29.1.2", "overlay2", 2, "2 containers exist (it needs none"),
    ("a driver it cannot read", "29.1.2", "btrfs", 0, "only overlay2 to overlayfs and vfs to native, not btrfs"),
    ("its preconditions hold", "29.1.2", "overlay2", 0, None),
])
def test_containerd_migration_is_known(case, version, driver, containers, fragment):
    """features.containerd-migration (Docker 29, experimental): refused where it cannot carry the images; where it
    can, the switch is still guarded by docker_storage_migration (save_load is the verified way)."""
    f = _running(fs="btrfs" if driver == "btrfs" else "ext4", driver=driver, images=3, containers=containers,
                 version=version)
    target = dict(choose(f, "overlay2"), driver="overlayfs", image_store="containerd")
    extra = {"features": {"containerd-migration": True}}
    errors = plan(f, target, "/var/lib/docker", extra=extra, migration="accept_hidden")["errors"]
    if fragment:
        assert any(fragment in e and "use docker_storage_migration: save_load" in e for e in errors), (case, errors)
    else:
        assert errors == [], errors
        guarded = plan(f, target, "/var/lib/docker", extra=extra)["errors"]
        assert any("would hide 3 images" in e for e in guarded), guarded


def test_untagged_images_are_refused_a_switch_of_image_store():
    """Seen on Docker 28: an untagged image saved by ID did not come back from docker load into the containerd
    store. So a store switch with save_load and untagged images is refused before anything changes."""
    f = _running(images=3, volumes=0, version="28.5.2")
    f["docker"]["untagged_images"] = 1
    target = dict(choose(f, "overlay2"), driver="overlayfs", image_store="containerd")
    errors = plan(f, target, "/var/lib/docker", migration="save_load")["errors"]
    assert any("1 untagged images cannot be carried across a switch of image store (graphdriver -> containerd)" in e
               and "docker image prune" in e for e in errors), errors
    f["docker"]["untagged_images"] = 0
    assert plan(f, target, "/var/lib/docker", migration="save_load")["errors"] == []
    f["docker"]["untagged_images"] = 1                      # the same store: IDs are kept, untagged images too
    same = dict(choose(f, "overlay2"), driver="btrfs", image_store="graphdriver")
    assert not any("untagged" in e for e in plan(facts_btrfs(f), same, "/var/lib/docker", migration="save_load")["errors"])


def facts_btrfs(f):
    f = dict(f, backing_fs=dict(f["backing_fs"], fstype="btrfs"))
    return f
