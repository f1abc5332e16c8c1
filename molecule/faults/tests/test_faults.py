"""After the fault suite and a last converge: the host is converged and nothing was lost; every fault passed."""

from __future__ import annotations

import json
import os


def test_docker_on_zfs_with_every_image(host):
    assert host.check_output("docker info --format '{{.Driver}}'") == "zfs"
    images = host.check_output("docker image ls --all --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort")
    assert images.split() == host.file("/root/images_before.txt").content_string.split()


def test_volume_and_foreign_keys_kept(host):
    assert host.file("/var/lib/docker/volumes/cowstack-data/_data/kept.txt").content_string == "kept\n"
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-driver"] == "json-file" and daemon["log-opts"]["max-size"] == "10m"
    assert daemon["storage-driver"] == "zfs"


def test_no_switch_left_half_done(host):
    assert not host.file("/var/lib/cowstack-docker-storage/switch.json").exists
    assert not host.file("/srv/spool/migration").exists
    assert not host.file("/run/cowstack-docker-storage/role.lock").exists


def test_every_fault_passed():
    path = os.environ.get("COWSTACK_FAULTS_REPORT") or os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"],
                                                                    "faults.json")
    report = json.load(open(path))
    # every planned fault has its row; the whole suite (the matrix's run) is 12 cuts, 5 other faults and the snapshot
    assert report["complete"] and len(report["faults"]) == report["planned"]
    assert report["planned"] >= {"all": 18, "kill": 9, "reset": 10}.get(report["part"], 1)
    failed = [(f["fault"], f["phase"], [k for k, v in f["checks"].items() if not v]) for f in report["faults"]
              if not f["passed"]]
    assert failed == []
