"""One parser per tool: mountinfo, xfs_info, docker info, dockerd's API responses, systemd units, versions."""

from __future__ import annotations

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._docker_info import image_store, storage_view
from ansible_collections.cowstack.docker_storage.plugins.module_utils._http import parse_response, request, unix_get
from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import (
    has_project_quota, mount_for, parse_mountinfo,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._systemd_unit import (
    command_words, dockerd_flags, env_file_assignments, flag_conflicts, parse_unit, service_settings,
)
from ansible_collections.cowstack.docker_storage.plugins.module_utils._version import at_least, parse_version, version_list
from ansible_collections.cowstack.docker_storage.plugins.module_utils._xfs import parse_ftype

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 22 0:26 / /proc rw,nosuid shared:5 - proc proc rw
41 22 7:0 / /srv/docker\\040data rw,relatime shared:20 - xfs /dev/loop0 rw,attr2,inode64,prjquota
42 22 7:1 / /var/lib/docker rw,relatime shared:21 - btrfs /dev/loop1 rw,space_cache=v2,subvolid=5,subvol=/
43 42 7:2 / /var/lib/docker rw,relatime shared:22 - ext4 /dev/loop2 rw
44 22 0:50 / /var/lib/dockerx rw shared:23 - tmpfs tmpfs rw
"""


def test_mountinfo_fields_and_escapes():
    mounts = parse_mountinfo(MOUNTINFO)
    assert len(mounts) == 6
    xfs = mounts[2]
    assert xfs["mount_point"] == "/srv/docker data"
    assert xfs["fstype"] == "xfs" and xfs["source"] == "/dev/loop0"
    assert "prjquota" in xfs["options"] and xfs["options"][0] == "rw"
    assert has_project_quota(xfs["options"])
    assert not has_project_quota(mounts[0]["options"])


@pytest.mark.parametrize("path, mount_point, fstype", [
    ("/var/lib/docker/overlay2", "/var/lib/docker", "ext4"),  # the later mount hides the earlier one
    ("/var/lib/dockerx/a", "/var/lib/dockerx", "tmpfs"),
    ("/var/lib", "/", "ext4"),
    ("/srv/docker data/x", "/srv/docker data", "xfs"),
    ("/", "/", "ext4"),
])
def test_mount_for(path, mount_point, fstype):
    mount = mount_for(parse_mountinfo(MOUNTINFO), path)
    assert (mount["mount_point"], mount["fstype"]) == (mount_point, fstype)


def test_mountinfo_skips_garbage():
    assert parse_mountinfo("garbage\n\n1 2 3\n") == []


XFS_INFO = """meta-data=/dev/loop3             isize=512    agcount=4, agsize=65536 blks
         =                       sectsz=512   attr=2, projid32bit=1
data     =                       bsize=4096   blocks=262144, imaxpct=25
naming   =version 2              bsize=4096   ascii-ci=0, ftype=1
log      =internal log           bsize=4096   blocks=16384, version=2
"""


def test_xfs_ftype():
    assert parse_ftype(XFS_INFO) == 1
    assert parse_ftype(XFS_INFO.replace("ftype=1", "ftype=0")) == 0
    assert parse_ftype("nothing here") is None
    assert parse_ftype(None) is None


def test_docker_info_views():
    info = {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
            "DockerRootDir": "/var/lib/docker", "Images": 3, "Containers": 1, "ServerVersion": "29.0.1",
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=userns"]}
    view = storage_view(info, {"Version": "29.0.1", "ApiVersion": "1.52"})
    assert view["image_store"] == "containerd" and view["driver"] == "overlayfs"
    assert view["images"] == 3 and view["containers"] == 1 and view["userns_remap"] is True
    assert view["version"] == "29.0.1" and view["api_version"] == "1.52"
    assert image_store([["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]) == "graphdriver"
    assert image_store(None) == "graphdriver"
    assert storage_view({"ServerVersion": "20.10.24"})["version"] == "20.10.24"


UNIT = """[Unit]
Description=Docker Application Container Engine

[Service]
Type=notify
EnvironmentFile=-/etc/default/docker
ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS \\
    --containerd=/run/containerd/containerd.sock
"""
DROP_IN = """[Service]
ExecStart=
ExecStart=/usr/bin/dockerd -H fd:// -s overlay2 --storage-opt overlay2.size=1G --data-root=/srv/docker
"""


def test_unit_continuations_and_env_file_expansion():
    settings = service_settings([("/lib/systemd/system/docker.service", UNIT)])
    assert settings["environment_files"] == [("/etc/default/docker", True)]
    env = env_file_assignments("/etc/default/docker", '# comment\nDOCKER_OPTS="-g /data/docker --debug"\n')
    words = command_words(settings["exec_start"], env)
    flags = dockerd_flags(words)
    by_key = dict((k, (f, v, p, ln)) for f, k, v, p, ln in flags)
    assert by_key["hosts"] == ("-H", "fd://", "/lib/systemd/system/docker.service", 7)
    assert by_key["data-root"] == ("-g", "/data/docker", "/etc/default/docker", 2)
    assert by_key["debug"][1] is None
    assert by_key["containerd"][1] == "/run/containerd/containerd.sock"


def test_drop_in_resets_exec_start_and_conflicts_name_file_and_line():
    units = [("/lib/systemd/system/docker.service", UNIT),
             ("/etc/systemd/system/docker.service.d/10-storage.conf", DROP_IN)]
    settings = service_settings(units)
    flags = dockerd_flags(command_words(settings["exec_start"], {}))
    conflicts = flag_conflicts(flags, {"storage-driver": "btrfs", "graph": "/x", "storage-opts": [],
                                       "log-driver": "json-file"})
    keys = sorted(c["key"] for c in conflicts)
    assert keys == ["graph", "storage-driver", "storage-opts"]
    for conflict in conflicts:
        assert conflict["file"].endswith("10-storage.conf") and conflict["line"] == 3
    assert [c["flag"] for c in conflicts if c["key"] == "storage-driver"] == ["-s overlay2"]
    assert flag_conflicts(flags, None) == []


def test_parse_unit_ignores_comments_and_other_sections():
    entries = parse_unit("# x\n; y\n[Install]\nWantedBy=multi-user.target\n[Service]\nEnvironment=\"A=1 2\" B=3\n")
    assert entries == [("Install", "WantedBy", "multi-user.target", 4), ("Service", "Environment", '"A=1 2" B=3', 6)]
    env = service_settings([("u", "[Service]\nEnvironment=\"A=1 2\" B=3\n")])["environment"]
    assert env["A"][0] == "1 2" and env["B"][0] == "3"


@pytest.mark.parametrize("text, expected", [
    ("20.10.24+dfsg1", (20, 10, 24)), ("26.1", (26, 1, 0)), ("6.1.0-28-amd64", (6, 1, 0)),
    ("zfs-2.1.11-1", (2, 1, 11)), ("v29.0.0-rc.1", (29, 0, 0)), ([6, 12], (6, 12, 0)), ("", None), (None, None),
    ("abc", None),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_version_helpers():
    assert version_list("6.18.44-fc-v782") == [6, 18, 44]
    assert version_list("") == []
    assert at_least("2.2.0", (2, 2)) is True and at_least("2.1.11", (2, 2)) is False and at_least(None, (1,)) is None


# -- dockerd's API over HTTP/1.0 (_http) ------------------------------------------------------------------


def test_http_request_is_http_1_0_with_a_host_header():
    raw = request("/info")
    assert raw.startswith(b"GET /info HTTP/1.0\r\n") and b"\r\nHost: docker\r\n" in raw and raw.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("raw, body", [
    (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", b"{}"),
    (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n\r\n{\"a\": 1}\n", b"{\"a\": 1}\n"),  # no length: read to close
    (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}trailing", b"{}"),
])
def test_http_response_body(raw, body):
    assert parse_response(raw, "/info") == body


@pytest.mark.parametrize("raw, fragment", [
    (b"", "malformed HTTP response to /info"),
    (b"garbage without a header end", "malformed"),
    (b"HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"page not found\"}", "HTTP 404 Not Found from /info"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n{}", "truncated response to /info: 2 of 10 bytes"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", "chunked"),
])
def test_http_response_refused(raw, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_response(raw, "/info")


def test_unix_get_against_a_socket_server(tmp_path):
    import socket
    import threading

    path = str(tmp_path / "api.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    seen = []

    def serve():
        conn, _addr = server.accept()
        seen.append(conn.recv(4096))
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 13\r\n\r\n{\"Driver\":1}\n")
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert unix_get(path, "/version", 5) == b"{\"Driver\":1}\n"
    finally:
        thread.join(5)
        server.close()
    assert seen[0].startswith(b"GET /version HTTP/1.0\r\n")


def test_containerd_snapshotter_dirs_from_its_config():
    from ansible_collections.cowstack.docker_storage.plugins.module_utils._containerd import (
        managed_dirs, snapshotter_dirs)
    assert snapshotter_dirs(None) == (dict((name, "/var/lib/containerd/io.containerd.snapshotter.v1.%s" % name)
                                           for name in ("overlayfs", "native", "btrfs", "zfs")),
                                      "/var/lib/containerd", True)
    moved = snapshotter_dirs('version = 2\nroot = "/srv/containerd/"  # moved\nstate = "/run/containerd"\n')
    assert moved[0]["zfs"] == "/srv/containerd/io.containerd.snapshotter.v1.zfs" and moved[2]
    # root inside a table is not containerd's root; a relative one is ignored
    assert snapshotter_dirs("version = 2\n[plugins]\n  root = '/elsewhere'\n")[1] == "/var/lib/containerd"
    assert snapshotter_dirs("root = 'relative'\n")[1] == "/var/lib/containerd"
    # the snapshotter's own root_path wins, for that snapshotter only
    own = snapshotter_dirs('version = 2\n[plugins."io.containerd.snapshotter.v1.zfs"]\n  root_path = "/tank/ctrd"\n'
                           '[plugins."io.containerd.snapshotter.v1.overlayfs"]\n  root_path = "/x"\n')
    assert own[0] == {"zfs": "/tank/ctrd", "btrfs": "/var/lib/containerd/io.containerd.snapshotter.v1.btrfs",
                      "overlayfs": "/x", "native": "/var/lib/containerd/io.containerd.snapshotter.v1.native"}
    # imports may move any of it
    assert snapshotter_dirs('imports = ["/etc/containerd/conf.d/*.toml"]\nversion = 2\n')[2] is False
    assert snapshotter_dirs('imports = []\n')[2] is True
    assert snapshotter_dirs('imports = [\n  "/etc/containerd/conf.d/*.toml",\n]\nversion = 2\n')[2] is False
    assert snapshotter_dirs('imports = [  # none yet\n]\n')[2] is False   # cannot tell without a TOML parser
    assert managed_dirs("/var/lib/docker/")[0]["btrfs"] == \
        "/var/lib/docker/containerd/daemon/io.containerd.snapshotter.v1.btrfs"


@pytest.mark.parametrize("text, kwargs, expected", [
    ("10G", {}, 10 * 1024 ** 3), ("512M", {}, 512 * 1024 ** 2), ("1TiB", {}, 1024 ** 4), ("7", {}, 7),
    ("1.5G", {}, None), ("1P", {}, None), ("-1G", {}, None), ("lots", {}, None), (True, {}, None), (5, {}, 5),
    ("1.5G", {"fractions": True}, int(1.5 * 1024 ** 3)), ("2P", {"fractions": True, "largest": "P"}, 2 * 1024 ** 5),
    ("10gb", {"fractions": True, "largest": "P"}, 10 * 1024 ** 3), ("128K", {"largest": "Z"}, 131072),
])
def test_one_size_reader_for_every_grammar(text, kwargs, expected):
    from ansible_collections.cowstack.docker_storage.plugins.module_utils._units import parse_size
    assert parse_size(text, **kwargs) == expected


def test_one_containment_test():
    from ansible_collections.cowstack.docker_storage.plugins.module_utils._mountinfo import at_or_below, below
    assert below("/var/lib/docker/x", "/var/lib/docker") and not below("/var/lib/docker", "/var/lib/docker")
    assert not below("/var/lib/dockerx", "/var/lib/docker") and below("/srv", "/")
    assert at_or_below("/var/lib/docker", "/var/lib/docker") and at_or_below("/var/lib/docker/a", "/var/lib/docker/")


def test_one_zfs_version_probe():
    from ansible_collections.cowstack.docker_storage.plugins.module_utils._zfs import probe_version
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, "zfs-2.3.2-1\nzfs-kmod-2.3.1-1\n", ""
    assert probe_version(lambda p: "2.1.11-1\n", run, "/sbin/zfs") == "2.1.11-1" and calls == []
    assert probe_version(lambda p: None, run, "/sbin/zfs") == "2.3.2" and calls == [["/sbin/zfs", "version"]]
    assert probe_version(lambda p: "", run, None) is None
    assert probe_version(lambda p: None, lambda argv: (1, "", "no"), "/sbin/zfs") is None
