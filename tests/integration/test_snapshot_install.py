"""cowstack.docker_storage.snapshot_install through ansible on this host, on a btrfs subvolume (loop device):
check mode (reports, writes nothing), apply, apply again (no change), the diff, drift put right, a configuration
the installed tool refuses kept out, the timer variant (enabled offline: no systemd runs here) and removal.
Everything it writes outside the scratch directory (two units and a link in /etc/systemd/system) has a unique
name and is removed afterwards."""

from __future__ import annotations

import filecmp
import json
import os
import stat

import pytest

import realhost
import snapshot_helpers as H

pytestmark = pytest.mark.root

UNIT_DIR = "/etc/systemd/system"


def source(path):
    with open(path) as handle:
        return handle.read()


@pytest.fixture
def site(loopfs, tmp_path):
    unit = "cowstack-install-test-%d" % os.getpid()
    with loopfs("btrfs") as mnt:
        data = H.subvolume(os.path.join(mnt, "data"))
        base = str(tmp_path)
        os.makedirs(base + "/sbin")
        args = {
            "config": {"version": 1, "prefix": "cowstack", "policy": {"hourly": 2}, "schedule": "5 */4 * * *",
                       "targets": [{"target": data}], "lock_file": base + "/lock"},
            "tool_source": source(H.TOOL), "retention_source": source(H.RETENTION),
            "lib_dir": base + "/lib/cowstack", "bin": base + "/sbin/cowstack-snapshot",
            "config_path": base + "/etc/cowstack/snapshot.json", "unit": unit,
        }
        paths = {"lib": args["lib_dir"], "tool": args["lib_dir"] + "/cowstack-snapshot.py",
                 "retention": args["lib_dir"] + "/_retention.py", "bin": args["bin"], "config": args["config_path"],
                 "service": "%s/%s.service" % (UNIT_DIR, unit), "timer": "%s/%s.timer" % (UNIT_DIR, unit),
                 "wants": "%s/timers.target.wants/%s.timer" % (UNIT_DIR, unit)}
        try:
            yield {"data": data, "args": args, "paths": paths}
        finally:
            for key in ("service", "timer", "wants"):
                if os.path.lexists(paths[key]):
                    os.unlink(paths[key])


def install(site, check=False, diff=False, **overrides):
    result = realhost.run_module("snapshot_install", dict(site["args"], **overrides), check_mode=check, diff=diff)
    assert not result.get("failed"), result.get("msg")
    return result


def test_check_apply_apply_again_and_drift(site):
    paths = site["paths"]
    checked = install(site, check=True, diff=True)
    assert checked["changed"] is True
    assert "write %s" % paths["config"] in checked["changes"]
    assert not os.path.exists(paths["lib"]) and not os.path.exists(paths["config"])
    headers = [d["after_header"] for d in checked["diff"]]
    library = [paths["lib"] + "/" + name for name in H.LIBRARY]
    assert headers == [paths["retention"]] + library + [paths["tool"], paths["bin"], paths["config"]]
    by_path = {d["after_header"]: d for d in checked["diff"]}
    assert json.loads(by_path[paths["config"]]["after"])["policy"] == {"hourly": 2}
    assert "sha256" in by_path[paths["tool"]]["after"] and by_path[paths["tool"]]["before"] == ""
    # what the cron task of the role is given
    assert checked["schedule"]["minute"] == "5" and checked["schedule"]["hour"] == "*/4"

    applied = install(site)
    assert applied["changed"] is True and applied["changes"] == checked["changes"]
    assert filecmp.cmp(paths["retention"], H.RETENTION, shallow=False)
    for name, path in H.LIBRARY.items():   # the module's own copies, the collection's files
        assert filecmp.cmp(paths["lib"] + "/" + name, path, shallow=False), name
    assert filecmp.cmp(paths["tool"], H.TOOL, shallow=False)
    for path, mode in ((paths["bin"], 0o755), (paths["config"], 0o600), (paths["tool"], 0o644), (paths["lib"], 0o755)):
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, 0, 0), path
    # the wrapper runs the installed tool against the installed configuration
    proc = realhost.run([paths["bin"], "--config", paths["config"], "--check-config"], check=False)
    assert proc.returncode == 0, proc.stderr
    assert "configuration OK, 1 target(s)" in proc.stdout

    again = install(site)
    assert again["changed"] is False and again["changes"] == []
    assert install(site, check=True)["changed"] is False

    # drift by hand: an edited wrapper and a loosened configuration mode are put back, and only they
    with open(paths["bin"], "a") as handle:
        handle.write("echo tampered\n")
    os.chmod(paths["config"], 0o644)
    drift = install(site, check=True, diff=True)
    assert drift["changes"] == ["write %s" % paths["bin"], "set owner root:root, mode 0600 on %s" % paths["config"]]
    assert "echo tampered" in drift["diff"][0]["before"] and "echo tampered" not in drift["diff"][0]["after"]
    assert install(site)["changed"] is True
    assert stat.S_IMODE(os.stat(paths["config"]).st_mode) == 0o600
    assert "tampered" not in source(paths["bin"])
    assert install(site)["changed"] is False


def test_a_missing_bin_directory_is_created_and_an_existing_one_left_as_it_is(site):
    """The wrapper's directory is made (root:root 0755) when it is not there, as on a new host where the role's
    bin points somewhere new; an existing one (think /usr/local/sbin, 2775 root:staff on older Debian) keeps its
    mode."""
    bin_dir = os.path.join(os.path.dirname(site["args"]["bin"]), "new", "sbin")
    wrapper = os.path.join(bin_dir, "cowstack-snapshot")
    checked = install(site, check=True, bin=wrapper)
    assert "create directory %s" % bin_dir in checked["changes"] and not os.path.exists(bin_dir)
    assert install(site, bin=wrapper)["changed"] is True
    st = os.stat(bin_dir)
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o755, 0, 0)
    assert os.access(wrapper, os.X_OK)
    os.chmod(bin_dir, 0o2775)
    assert install(site, bin=wrapper)["changed"] is False
    assert stat.S_IMODE(os.stat(bin_dir).st_mode) == 0o2775


def test_a_configuration_the_installed_tool_refuses_is_kept_out(site):
    paths = site["paths"]
    install(site)
    before = source(paths["config"])
    refusing_tool = "import sys\nsys.stderr.write('refused by this tool\\n')\nsys.exit(2)\n"
    result = realhost.run_module("snapshot_install", dict(site["args"], tool_source=refusing_tool,
                                                          config=dict(site["args"]["config"], policy={"hourly": 5})))
    assert result.get("failed") and "refused by this tool" in result["msg"], result
    assert source(paths["config"]) == before                  # the old configuration stays
    assert [n for n in os.listdir(os.path.dirname(paths["config"])) if n.startswith(".")] == []   # no temp file


def test_the_timer_variant_and_removal(site):
    paths = site["paths"]
    install(site)
    timer = install(site, scheduler="systemd")
    assert timer["changed"] is True and timer["on_calendar"] == "*-*-* 00,04,08,12,16,20:05:00"
    assert timer["changes"] == ["write %s" % paths["service"], "write %s" % paths["timer"],
                                "enable %s.timer" % site["args"]["unit"]]
    text = source(paths["timer"])
    assert "OnCalendar=*-*-* 00,04,08,12,16,20:05:00\n" in text and "Persistent=true\n" in text
    assert "ExecStart=%s --config %s\n" % (paths["bin"], paths["config"]) in source(paths["service"])
    assert os.readlink(paths["wants"]) == paths["timer"]
    assert install(site, scheduler="systemd")["changed"] is False
    # a timer disabled by hand is enabled again
    os.unlink(paths["wants"])
    assert install(site, scheduler="systemd")["changes"] == ["enable %s.timer" % site["args"]["unit"]]
    # an OnCalendar= systemd rejects is refused before anything changes
    bad = realhost.run_module("snapshot_install", dict(site["args"], scheduler="systemd", on_calendar="every tuesday"))
    assert bad.get("failed") and "systemd-analyze" in bad["msg"], bad
    assert "OnCalendar=*-*-* 00,04,08,12,16,20:05:00\n" in source(paths["timer"])
    # back to cron: the timer goes
    back = install(site, scheduler="cron")
    assert back["changes"] == ["disable (remove link) %s" % paths["wants"], "remove %s" % paths["timer"],
                               "remove %s" % paths["service"]]
    for key in ("service", "timer", "wants"):
        assert not os.path.lexists(paths[key]), key

    install(site, scheduler="systemd")
    checked = realhost.run_module("snapshot_install", {"state": "absent", "lib_dir": paths["lib"], "bin": paths["bin"],
                                                       "config_path": paths["config"], "unit": site["args"]["unit"]},
                                  check_mode=True)
    assert checked["changed"] is True and os.path.exists(paths["timer"]) and os.path.exists(paths["tool"])
    gone = realhost.run_module("snapshot_install", {"state": "absent", "lib_dir": paths["lib"], "bin": paths["bin"],
                                                    "config_path": paths["config"], "unit": site["args"]["unit"]})
    assert gone["changed"] is True, gone
    for key in ("lib", "bin", "config", "service", "timer", "wants"):
        assert not os.path.lexists(paths[key]), key
    assert not os.path.exists(os.path.dirname(paths["config"]))
    again = realhost.run_module("snapshot_install", {"state": "absent", "lib_dir": paths["lib"], "bin": paths["bin"],
                                                     "config_path": paths["config"], "unit": site["args"]["unit"]})
    assert again["changed"] is False


def test_bad_input_is_refused_before_anything_is_written(site):
    paths = site["paths"]
    cases = {
        "missing target": ({"config": dict(site["args"]["config"], targets=[{"target": "/nonexistent/sub"}])},
                           "does not exist"),
        "bad unit name": ({"unit": "../evil", "scheduler": "systemd"}, "not a unit name"),
        "relative lib_dir": ({"lib_dir": "lib"}, "absolute path"),
        "systemd cannot": ({"config": dict(site["args"]["config"], schedule="0 0 1 * 1"), "scheduler": "systemd"},
                           "on_calendar"),
        "no such python": ({"python": "/usr/bin/python2.1"}, "not an executable file"),
        "python not on PATH": ({"python": "python2.1"}, "not on this host's PATH"),
    }
    for case, (overrides, message) in cases.items():
        result = realhost.run_module("snapshot_install", dict(site["args"], **overrides))
        assert result.get("failed") and message in result["msg"], (case, result.get("msg"))
    assert not os.path.exists(paths["lib"]) and not os.path.exists(paths["config"])
    assert not os.path.lexists(paths["timer"])
