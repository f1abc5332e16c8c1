"""storage_facts (its _probe_docker) does not open docker's socket when docker.service is stopped and docker.socket listens on it
(socket activation would start the daemon): the reading of `systemctl show`. The VM scenario `safe` checks it with
the real docker.socket."""

from __future__ import annotations

from ansible_collections.cowstack.docker_storage.plugins.module_utils import _probe_docker as F

SHOW = "ActiveState=%s\nListen=%s\n\nActiveState=%s\n"


def test_stopped_service_behind_a_listening_socket():
    assert F._activation_only(SHOW % ("active", "/run/docker.sock (Stream)", "inactive"), "/run/docker.sock")
    assert F._activation_only(SHOW % ("active", "/run/docker.sock (Stream)", "failed"), "/run/docker.sock")


def test_a_running_service_or_no_socket_unit_is_asked():
    assert not F._activation_only(SHOW % ("active", "/run/docker.sock (Stream)", "active"), "/run/docker.sock")
    assert not F._activation_only(SHOW % ("inactive", "", "inactive"), "/run/docker.sock")
    assert not F._activation_only("", "/run/docker.sock")


def test_another_socket_is_asked():
    # a rootless daemon's socket is not the one docker.socket listens on
    assert not F._activation_only(SHOW % ("active", "/run/docker.sock (Stream)", "inactive"),
                                  "/run/user/1000/docker.sock")


def test_every_listener_of_the_socket_counts():
    # systemctl show prints one Listen= line per listener; a drop-in's TCP listener after the unix one
    show = ("ActiveState=active\nListen=/run/docker.sock (Stream)\nListen=0.0.0.0:2375 (Stream)\n\n"
            "ActiveState=inactive\n")
    assert F._activation_only(show, "/run/docker.sock")
    reverse = show.replace("/run/docker.sock (Stream)\nListen=0.0.0.0:2375", "0.0.0.0:2375 (Stream)\nListen=/run/docker.sock")
    assert F._activation_only(reverse, "/run/docker.sock")
