"""zfs_storage's plan against a stubbed zpool/zfs (the real thing runs in the VM scenarios; ZFS is not in this
host's kernel). The stub keeps pool and dataset state so check mode, apply and apply-again can be followed."""

from __future__ import annotations

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cowstack.docker_storage.plugins.modules import zfs_storage


class Exit(Exception):
    def __init__(self, result, failed=False):
        super().__init__(result)
        self.result, self.failed = result, failed


class FakeZfs(object):
    """Enough of zpool/zfs for the module: list, status -P, get -H -p, create, set, mount."""

    def __init__(self, pool=None, layout=("single", ["/dev/vdb"]), ashift="12", props=None):
        self.pool = pool
        self.layout = layout
        self.ashift = ashift
        self.datasets = dict(props or {})
        self.calls = []

    def __call__(self, argv, environ_update=None, **kwargs):
        assert isinstance(argv, list), "commands must be argument lists"
        assert environ_update and environ_update.get("LC_ALL") == "C"
        self.calls.append(argv)
        tool, verb, args = argv[0].rsplit("/", 1)[-1], argv[1], argv[2:]
        if tool == "zfs" and verb == "version":
            return 0, "zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n", ""
        if tool == "zpool" and verb == "list":
            return (0, self.pool + "\n", "") if self.pool == args[-1] else (1, "", "no such pool")
        if tool == "zpool" and verb == "status":
            kind, devices = self.layout
            lines = ["config:", "", "\tNAME STATE READ WRITE CKSUM", "\t%s ONLINE 0 0 0" % self.pool]
            if kind == "single":
                lines += ["\t  %s ONLINE 0 0 0" % d for d in devices]
            else:
                lines += ["\t  %s-0 ONLINE 0 0 0" % kind] + ["\t    %s ONLINE 0 0 0" % d for d in devices]
            return 0, "\n".join(lines + ["", "errors: No known data errors"]) + "\n", ""
        if tool == "zpool" and verb == "get":
            return 0, "%s\tashift\t%s\tlocal\n" % (self.pool, self.ashift), ""
        if tool == "zpool" and verb == "create":
            self.pool = [a for a in args if not a.startswith("-") and "=" not in a][0]
            return 0, "", ""
        if tool == "zfs" and verb == "list":
            return (0, args[-1], "") if args[-1] in self.datasets else (1, "", "does not exist")
        if tool == "zfs" and verb == "get":
            name = args[-1]
            if name not in self.datasets:
                return 1, "", "does not exist"
            wanted = args[-2].split(",")
            out = "".join("%s\t%s\t%s\t%s\n" % (name, p, v, s) for p, (v, s) in self.datasets[name].items()
                          if p in wanted)
            return 0, out, ""
        if tool == "zfs" and verb == "create":
            props = dict(args[i + 1].split("=", 1) for i, a in enumerate(args) if a == "-o")
            self.datasets[args[-1]] = dict((k, (v, "local")) for k, v in props.items())
            self.datasets[args[-1]]["mounted"] = ("yes", "-")
            return 0, "", ""
        if tool == "zfs" and verb == "set":
            for assignment in args[:-1]:
                prop, value = assignment.split("=", 1)
                self.datasets[args[-1]][prop] = (value, "local")
            return 0, "", ""
        if tool == "zfs" and verb == "mount":
            self.datasets[args[-1]]["mounted"] = ("yes", "-")
            return 0, "", ""
        raise AssertionError("unexpected command %s" % argv)


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    blank = {"problem": None, "root_disk": False, "mounted_at": [], "holds": [], "probe": {}}
    holdings = {}
    monkeypatch.setattr(zfs_storage, "inspect", lambda module, device, mount_list=None: dict(
        blank, path=device, holds=holdings.get(device, [])))
    monkeypatch.setattr(zfs_storage, "mounts", lambda: [])
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None:
                        "/sbin/" + name)

    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Exit(kwargs, failed=True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(fake, check_mode=False, **params):
        params.setdefault("mount_point", str(tmp_path / "docker"))
        args = dict(params, _ansible_check_mode=check_mode, _ansible_diff=True)
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: fake(argv, **kw))
        with patch_module_args(args), pytest.raises(Exit) as caught:
            zfs_storage.main()
        return caught.value
    run.holdings = holdings
    return run


def test_create_check_apply_again(run_module):
    fake = FakeZfs()
    checked = run_module(fake, check_mode=True, pool="tank", devices=["/dev/vdb"])
    assert not checked.failed and checked.result["changed"]
    assert checked.result["plan"][0] == "zpool create tank single /dev/vdb"
    assert fake.pool is None and fake.datasets == {}, "check mode changed something"
    assert "diff" in checked.result

    applied = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert applied.result["changed"] and fake.pool == "tank"
    create = [c for c in fake.calls if c[1] == "create" and c[0].endswith("zpool")][0]
    assert create == ["/sbin/zpool", "create", "-O", "mountpoint=none", "tank", "/dev/vdb"]
    ds = fake.datasets["tank/docker"]
    assert ds["compression"][0] == "lz4" and ds["atime"][0] == "off" and ds["checksum"][0] == "sha256"

    again = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert again.result["changed"] is False and again.result["plan"] == []
    assert again.result["layout"]["vdev_type"] == "single"


def test_drift_is_reported_in_check_mode_and_fixed_by_apply(run_module, tmp_path):
    mp = str(tmp_path / "docker")
    fake = FakeZfs(pool="tank", props={"tank/docker": {
        "mountpoint": (mp, "local"), "compression": ("off", "local"), "atime": ("on", "default"),
        "checksum": ("sha256", "inherited from tank"), "dedup": ("off", "default"), "mounted": ("yes", "-")}})
    checked = run_module(fake, check_mode=True, pool="tank")
    assert checked.result["changed"] and checked.result["plan"] == ["zfs set atime=off compression=lz4 tank/docker"]
    assert fake.datasets["tank/docker"]["compression"][0] == "off"
    assert "compression: off (local)" in checked.result["diff"]["before"]
    assert checked.result["diff"]["before_header"] == "zfs storage at %s" % mp
    run_module(fake, pool="tank")
    assert fake.datasets["tank/docker"]["compression"] == ("lz4", "local")
    assert run_module(fake, pool="tank").result["changed"] is False


def test_relatime_and_user_property(run_module):
    fake = FakeZfs()
    run_module(fake, pool="tank", devices=["/dev/vdb"], properties={"atime": "relatime",
                                                                    "com.sun:auto-snapshot": "false"})
    ds = fake.datasets["tank/docker"]
    assert ds["atime"][0] == "on" and ds["relatime"][0] == "on" and ds["com.sun:auto-snapshot"][0] == "false"


@pytest.mark.parametrize("fake_args, params, fragment", [
    ({"pool": "tank", "layout": ("mirror", ["/dev/vdb", "/dev/vdc"])},
     {"vdev_type": "single", "devices": ["/dev/vdb"]}, "cannot be changed in place"),
    ({"pool": "tank", "layout": ("single", ["/dev/vdb1"])}, {"devices": ["/dev/vdc"]}, "adding or replacing"),
    ({"pool": "tank", "ashift": "9"}, {"pool_properties": {"ashift": 12}}, "ashift is fixed"),
])
def test_layout_and_ashift_drift_refused(run_module, fake_args, params, fragment):
    fake = FakeZfs(**fake_args)
    result = run_module(fake, pool="tank", **params)
    assert result.failed and fragment in result.result["msg"]
    assert not [c for c in fake.calls if c[1] in ("create", "set")]


def test_whole_disk_member_partition_matches(run_module):
    fake = FakeZfs(pool="tank", layout=("single", ["/dev/vdb1"]))
    result = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert not result.failed, result.result


def test_safe_mode_refuses_a_device_with_a_signature(run_module):
    run_module.holdings["/dev/vdb"] = ["a ext4 signature"]
    fake = FakeZfs()
    refused = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert refused.failed and "/dev/vdb" in refused.result["msg"] and "ext4" in refused.result["msg"]
    assert fake.pool is None
    forced = run_module(fake, pool="tank", devices=["/dev/vdb"], force_devices=["/dev/vdb"])
    assert not forced.failed and fake.pool == "tank"
    assert [c for c in fake.calls if c[1] == "create"][0][:3] == ["/sbin/zpool", "create", "-f"]


@pytest.mark.parametrize("params, fragment", [
    ({"pool": "tank;reboot"}, "no spaces"),
    ({"pool": "tank", "dataset": "tank/$(id)"}, "'$'"),
    ({"pool": "tank", "dataset": "other/docker"}, "is not in pool"),
    ({"pool": "tank", "properties": {"compression": "zstd-20"}}, "zstd level of"),
    ({"pool": "tank", "properties": {"atime": "sometimes"}}, "must be on or off"),
    ({"pool": "tank", "vdev_type": "mirror", "devices": ["/dev/vdb"]}, "at least 2 devices"),
])
def test_bad_input_before_any_change(run_module, params, fragment):
    fake = FakeZfs()
    result = run_module(fake, **params)
    assert result.failed and fragment in result.result["msg"], result.result
    assert not [c for c in fake.calls if c[1] in ("create", "set")]


def test_data_root_with_files_is_not_mounted_over(run_module, tmp_path):
    (tmp_path / "docker" / "overlay2").mkdir(parents=True)
    fake = FakeZfs()
    result = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert result.failed and "would hide them" in result.result["msg"]
    assert fake.pool is None


def test_a_failed_step_names_the_steps_done(run_module):
    class FailingCreate(FakeZfs):
        def __call__(self, argv, environ_update=None, **kwargs):
            if argv[0].endswith("/zfs") and argv[1] == "create":
                self.calls.append(argv)
                return 1, "", "cannot create 'tank/docker': out of space"
            return FakeZfs.__call__(self, argv, environ_update, **kwargs)
    fake = FailingCreate()
    result = run_module(fake, pool="tank", devices=["/dev/vdb"])
    assert result.failed and fake.pool == "tank"
    assert result.result["msg"].startswith("zfs create tank/docker (")
    assert "out of space" in result.result["msg"]
    assert result.result["msg"].endswith("Done before it: zpool create tank single /dev/vdb.")
    assert result.result["done"] == ["zpool create tank single /dev/vdb"] and result.result["changed"] is True


def test_validate_only_reads_no_device(run_module):
    fake = FakeZfs()
    result = run_module(fake, pool="tank", devices=["/dev/vdb"], validate_only=True)
    assert not result.failed and result.result["changed"] is False and result.result["plan"] == []
    assert result.result["dataset"] == "tank/docker" and result.result["layout"] is None
    assert not [c for c in fake.calls if c[1] != "version"]
    refused = run_module(fake, pool="tank", mount_point="relative", validate_only=True)
    assert refused.failed and "mount_point 'relative' must be an absolute path" in refused.result["msg"]
    outside = run_module(fake, pool="tank", assume_empty_mount_point=True)
    assert outside.failed and "only for check mode" in outside.result["msg"]
