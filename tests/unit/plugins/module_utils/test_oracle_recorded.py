"""dockerd_pick against what real dockerds did: tests/unit/data/oracle-docker28.jsonl is the case log that
molecule/containerd's oracle wrote on Docker 28.5.2 (Debian unstable, containerd 2.1.9, kernel 7.2.13), one line
per private dockerd started on loop ext4, xfs or btrfs. Replayed here so the rules cannot drift from it between VM
runs."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.cowstack.docker_storage.plugins.module_utils._drivers import band_for, dockerd_pick, host_view
from factsbuilder import facts

LOG = os.path.join(os.path.dirname(__file__), "..", "..", "data", "oracle-docker28.jsonl")
with open(LOG) as handle:
    ROWS = [json.loads(line) for line in handle if line.strip()]


def test_the_log_covers_each_filesystem_and_both_stores():
    assert len(ROWS) >= 36
    assert {r["fs"] for r in ROWS} == {"ext4", "xfs", "btrfs"}
    assert {r["store"] for r in ROWS if r["started"]} == {"graphdriver", "containerd"}


@pytest.mark.parametrize("row", [r for r in ROWS if r["config"]],
                         ids=lambda r: "%s-%s" % (r["fs"], json.dumps(r["config"], sort_keys=True)))
def test_dockerd_pick_predicts_what_docker_28_did(row):
    pick = dockerd_pick(host_view(facts(row["fs"], "28.5.2", tuple([row["prior"]] if row["prior"] else ()))),
                        band_for("28.5.2"), row["config"])
    assert (pick["driver"] is not None) is row["started"], (pick, row["error"])
    if row["started"]:
        assert (pick["driver"], pick["image_store"]) == (row["driver"], row["store"]), pick["reason"]
