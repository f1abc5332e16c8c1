"""snapshot_install's timer handling on a running systemd, against a stubbed systemctl (systemd does not run on
this host; the snapshot VM scenarios use the real one). The units and link are real files in a scratch dir."""

from __future__ import annotations

import os

import pytest

from ansible_collections.cowstack.docker_storage.plugins.modules import snapshot_install as S


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, systemd_dir, active="active"):
        self.params = {"unit": "snap", "systemd_dir": systemd_dir, "bin": "/usr/local/sbin/cowstack-snapshot",
                       "config_path": "/etc/cowstack/snapshot.json", "config": {"schedule": "0 * * * *"}}
        self.active = active
        self.calls = []
        self.zfs = {}
        self.zfs_fail = set()
        self.failure = None
        self.need_reload = set()          # units systemd has not read since they were written

    def get_bin_path(self, name, required=False):
        return "/bin/" + name

    def run_command(self, argv, environ_update=None):
        assert isinstance(argv, list) and environ_update["LC_ALL"] == "C"
        self.calls.append(argv[1:])
        if argv[0] == "/bin/zfs" and argv[1] == "get":
            return 0, "".join("%s\t%s\t%s\n" % ((ds,) + self.zfs.get(ds, ("-", "-"))) for ds in argv[5:]), ""
        if argv[0] == "/bin/zfs" and argv[1] == "set":
            if argv[3] in self.zfs_fail:
                return 1, "", "cannot set property for '%s': permission denied" % argv[3]
            self.zfs[argv[3]] = (argv[2].split("=")[1], "local")
            return 0, "", ""
        if argv[1] == "show":
            return 0, "\n".join("ActiveState=%s\nNeedDaemonReload=%s\n" % (
                self.active if unit.endswith(".timer") else "inactive", "yes" if unit in self.need_reload else "no")
                for unit in argv[3:]), ""
        if argv[1] == "start" or argv[1] == "restart":
            self.active = "active"
        if argv[1] == "stop":
            self.active = "inactive"
        return 0, "", ""

    def fail_json(self, **kwargs):
        self.failure = kwargs
        raise Failed(kwargs["msg"])

    def set_default_selinux_context(self, path, changed):
        return changed


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "chown", lambda path, uid, gid: None)    # the unit test need not run as root

    def installer(module):
        inst = S.Installer(module)
        inst.systemd_running = True
        return inst
    return str(tmp_path), installer


def planned(installer, module, method, *args):
    """An installer that has planned ``method(*args)``, and the descriptions of its steps."""
    inst = installer(module)
    getattr(inst, method)(*args)
    return inst, [d for d, _a in inst.steps]


def installed(systemd, on_calendar="hourly"):
    """A module stub whose timer is installed and active, its calls forgotten."""
    directory, installer = systemd
    module = FakeModule(directory)
    planned(installer, module, "plan_timer", on_calendar)[0].apply()
    module.calls = []
    return module


def test_a_new_timer_is_written_enabled_and_started_then_left_alone(systemd):
    directory, installer = systemd
    module = FakeModule(directory, active="inactive")
    inst = installer(module)
    inst.plan_timer("*-*-* *:00:00")
    assert [d for d, _a in inst.steps] == [
        "write %s/snap.service" % directory, "write %s/snap.timer" % directory, "enable snap.timer",
        "reload systemd and restart snap.timer"]
    assert module.calls == []                       # the timer files changed: no need to ask whether it is active
    inst.apply()
    assert module.calls == [["daemon-reload"], ["restart", "snap.timer"]]
    assert os.readlink(os.path.join(directory, "timers.target.wants", "snap.timer")) == directory + "/snap.timer"

    module.calls = []
    inst = installer(module)
    inst.plan_timer("*-*-* *:00:00")
    assert inst.steps == [] and module.calls == [
        ["show", "--property=ActiveState,NeedDaemonReload", "snap.timer", "snap.service"]]


def test_a_stopped_timer_is_started_and_a_changed_one_restarted(systemd):
    directory, installer = systemd
    module = installed(systemd)
    module.active = "inactive"
    inst, steps = planned(installer, module, "plan_timer", "hourly")
    assert steps == ["start snap.timer"]
    inst.apply()
    assert module.calls[-1] == ["start", "snap.timer"]
    steps = planned(installer, module, "plan_timer", "daily")[1]
    assert steps == ["write %s/snap.timer" % directory, "reload systemd and restart snap.timer"]


def test_switching_to_cron_stops_disables_and_removes_the_timer(systemd):
    directory, installer = systemd
    module = installed(systemd)
    inst, steps = planned(installer, module, "plan_no_timer")
    assert steps == [
        "stop snap.timer", "disable (remove link) %s/timers.target.wants/snap.timer" % directory,
        "remove %s/snap.timer" % directory, "remove %s/snap.service" % directory, "reload systemd"]
    inst.apply()
    assert module.calls == [["show", "--property=ActiveState,NeedDaemonReload", "snap.timer"], ["stop", "snap.timer"], ["daemon-reload"]]
    assert sorted(os.listdir(directory)) == ["timers.target.wants"]
    module.calls = []
    inst = installer(module)
    inst.plan_no_timer()
    assert inst.steps == [] and module.calls == []


def test_unit_names_are_checked():
    for bad in ("../x", "x.timer", "-x", "a b", ""):
        module = FakeModule("/etc/systemd/system")
        module.params["unit"] = bad
        with pytest.raises(Failed, match="not a unit name"):
            S.Installer(module).timer_names()


def test_docker_datasets_are_opted_out_of_other_snapshot_tools_once(systemd):
    directory, installer = systemd
    module = FakeModule(directory)
    module.zfs = {"tank/docker": ("-", "-"), "tank/other-root": ("false", "local"), "tank/child": ("false", "inherited from tank")}
    inst = installer(module)
    inst.plan_zfs_opt_out(["tank/docker", "tank/other-root", "tank/child"])
    assert module.calls == [["get", "-H", "-o", "name,value,source", "com.sun:auto-snapshot", "tank/docker",
                             "tank/other-root", "tank/child"]]    # one zfs get for every dataset
    # an inherited false is set locally too, so that a later change of the parent does not reach Docker's dataset
    assert [d for d, _a in inst.steps] == ["set com.sun:auto-snapshot=false on tank/docker",
                                           "set com.sun:auto-snapshot=false on tank/child"]
    assert inst.diffs[0]["before"] == "com.sun:auto-snapshot: - (-)\n"
    inst.apply()
    assert module.zfs["tank/docker"] == ("false", "local")
    inst = installer(module)
    inst.plan_zfs_opt_out(["tank/docker", "tank/other-root", "tank/child"])
    assert inst.steps == []
    inst = installer(module)
    inst.plan_zfs_opt_out([])
    assert inst.steps == [] and len(module.calls) == 4            # no datasets: no zfs command at all


def test_units_written_but_never_read_by_systemd_are_reloaded(systemd):
    directory, installer = systemd
    module = installed(systemd)
    for unit in ("snap.timer", "snap.service"):
        module.need_reload = {unit}       # an earlier run wrote this unit and failed before the reload
        assert planned(installer, module, "plan_timer", "hourly")[1] == ["reload systemd and restart snap.timer"]


def test_a_failed_step_reports_what_was_done(systemd, tmp_path):
    directory, installer = systemd
    module = FakeModule(directory)
    inst = installer(module)
    inst.step("first", lambda: None)
    inst.step("second", lambda: os.rmdir(str(tmp_path / "missing")))
    with pytest.raises(Failed, match="second failed"):
        inst.apply()
    assert inst.done == ["first"]


def test_a_failed_zfs_set_reports_the_datasets_already_done(systemd):
    directory, installer = systemd
    module = FakeModule(directory)
    module.zfs_fail = {"tank/child"}
    inst = installer(module)
    inst.plan_zfs_opt_out(["tank/docker", "tank/child"])
    with pytest.raises(Failed, match="zfs set com.sun:auto-snapshot=false failed .*'tank/child': permission denied"):
        inst.apply()
    assert module.failure["changed"] is True
    assert module.failure["changes"] == ["set com.sun:auto-snapshot=false on tank/docker"]


def test_the_files_the_tool_imports_are_the_collections_own():
    # installed beside the tool with _retention.py: each one the module_utils file as it is in the collection
    here = os.path.dirname(os.path.abspath(__file__))
    module_utils = os.path.join(here, "..", "..", "..", "..", "plugins", "module_utils")
    files = S.library_files()
    assert [name for name, _source in files] == list(S.LIBRARY_NAMES)
    assert set(S.LIBRARY_NAMES) == {"_schedule.py", "_snapshot_config.py", "_snapshot_fs.py", "_mountinfo.py"}
    for name, source in files:
        with open(os.path.join(module_utils, name)) as handle:
            assert source == handle.read(), name
