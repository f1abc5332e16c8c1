"""The one Plan of the state modules: check mode plans and changes nothing, apply runs the steps in order, a failed
step fails the module naming the failed step and the steps done before it."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._plan import Plan, StepFailed, command, settle


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, check_mode=False, diff=True, commands=None):
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.failure = None
        self.commands = commands or {}
        self.ran = []

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **kwargs):
        self.failure = kwargs
        raise Failed(kwargs["msg"])

    def run_command(self, argv, environ_update=None):
        assert isinstance(argv, list) and environ_update["LC_ALL"] == "C"
        self.ran.append(argv)
        return self.commands.get(argv[0], (0, "out\n", ""))


def two_steps(log):
    plan = Plan()
    plan.before["file"] = "absent"
    plan.add("create the file", lambda: log.append("create"))
    plan.after["file"] = "10 bytes"
    plan.add("attach it", lambda: log.append("attach"))
    return plan


def test_check_mode_plans_and_changes_nothing():
    log = []
    module = FakeModule(check_mode=True)
    result = settle(module, two_steps(log), {"device": None}, header="lab file /x")
    assert result["changed"] is True and result["plan"] == ["create the file", "attach it"]
    assert log == [] and result["device"] is None
    assert result["diff"] == {"before": "file: absent\n", "after": "file: 10 bytes\n",
                              "before_header": "lab file /x", "after_header": "lab file /x"}


def test_apply_runs_every_step_in_order():
    log = []
    plan = two_steps(log)
    result = settle(FakeModule(), plan)
    assert log == ["create", "attach"] and plan.done == ["create the file", "attach it"]
    assert result["changed"] is True and result["plan"] == plan.done


def test_nothing_to_do_is_no_change_and_no_diff():
    result = settle(FakeModule(), Plan(), {"uuid": "abc"})
    assert result == {"uuid": "abc", "changed": False, "plan": []}


def test_a_failing_step_names_the_done_steps_and_the_failed_one(tmp_path):
    log = []
    plan = two_steps(log)
    plan.add("remove the old one", (tmp_path / "missing").unlink)
    plan.add("never reached", lambda: log.append("never"))
    module = FakeModule()
    with pytest.raises(Failed):
        settle(module, plan, {"device": "/dev/loop0"})
    failure = module.failure
    assert failure["msg"].startswith("remove the old one failed: ")
    assert "Done before it: create the file; attach it." in failure["msg"]
    assert failure["failed_step"] == "remove the old one" and failure["done"] == ["create the file", "attach it"]
    assert failure["changed"] is True and failure["device"] == "/dev/loop0"
    assert failure["plan"] == ["create the file", "attach it", "remove the old one", "never reached"]
    assert "never" not in log


def test_a_failing_first_step_says_nothing_was_changed():
    module = FakeModule(commands={"/sbin/mkfs": (1, "", "device busy\n")})
    plan = Plan()
    plan.add("mkfs /dev/vdb", lambda: command(module, ["/sbin/mkfs", "/dev/vdb"]))
    with pytest.raises(Failed):
        settle(module, plan)
    assert module.failure["msg"] == ("mkfs /dev/vdb failed: /sbin/mkfs /dev/vdb failed (rc 1): device busy. "
                                     "Nothing was changed before it.")
    assert module.failure["changed"] is False and module.failure["done"] == []
    assert module.failure["rc"] == 1 and module.failure["cmd"] == ["/sbin/mkfs", "/dev/vdb"]


def test_step_failed_carries_its_result():
    module = FakeModule()
    plan = Plan()

    def refuse():
        raise StepFailed("the tool refuses it (rc 2)", rc=2)
    plan.add("write the config", refuse)
    with pytest.raises(Failed, match="write the config failed: the tool refuses it"):
        plan.apply(module, {"changes": plan.done})
    assert module.failure["rc"] == 2 and module.failure["changes"] == []


def test_refusals_fail_before_any_step_in_every_mode():
    for check_mode in (True, False):
        log = []
        plan = two_steps(log)
        plan.refuse("/dev/vdb holds ext4.")
        plan.refuse("/mnt holds files.")
        module = FakeModule(check_mode=check_mode)
        with pytest.raises(Failed):
            settle(module, plan)
        assert module.failure["msg"] == "/dev/vdb holds ext4. /mnt holds files."
        assert module.failure["refused"] == ["/dev/vdb holds ext4.", "/mnt holds files."]
        assert module.failure["changed"] is False and log == []


def test_warnings_are_warned():
    module = FakeModule()
    plan = Plan()
    plan.warnings.append("dedup needs RAM")
    settle(module, plan)
    assert module.warnings == ["dedup needs RAM"]


def test_file_diffs_follow_the_state_and_details_keep_the_steps():
    plan = Plan()
    plan.before["fstab"] = "absent"
    plan.after["fstab"] = "UUID=x /d btrfs"
    plan.add("fstab entry for /d", lambda: None, diff=("/etc/fstab", "a\n", "a\nUUID=x /d btrfs\n"))
    result = settle(FakeModule(check_mode=True), plan, header="btrfs storage at /d", details={"take": None})
    assert result["plan"] == {"take": None, "steps": ["fstab entry for /d"]}
    state, fstab = result["diff"]
    assert state["before_header"] == "btrfs storage at /d" and state["after"] == "fstab: UUID=x /d btrfs\n"
    assert fstab == {"before_header": "/etc/fstab", "after_header": "/etc/fstab", "before": "a\n",
                     "after": "a\nUUID=x /d btrfs\n"}
    only_files = Plan()
    only_files.add("write /etc/x", lambda: None, diff=("/etc/x", "", "new\n"))
    assert only_files.diff() == [{"before_header": "/etc/x", "after_header": "/etc/x", "before": "", "after": "new\n"}]
    texts = Plan()
    texts.before, texts.after = "a\nb\n", "b\n"
    texts.add("destroy a", lambda: None)
    assert texts.diff("tank/home") == {"before": "a\nb\n", "after": "b\n", "before_header": "tank/home",
                                       "after_header": "tank/home"}


def test_no_diff_outside_diff_mode():
    assert "diff" not in settle(FakeModule(check_mode=True, diff=False), two_steps([]))
