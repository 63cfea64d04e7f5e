"""Parsing sacct/squeue text in the formats we request (real dev-cluster captures and hand fixtures)."""

from __future__ import annotations

import pytest

from taiyi_core.status import slurm

from .conftest import DATA


def test_real_devcluster_sacct_capture():
    """Captured with the 12 allocation fields of an earlier version; the 3 resource fields appended empty."""
    rows = slurm.parse_sacct((DATA / "sacct_devcluster.txt").read_text())
    by = {}
    for r in rows:
        by.setdefault(r.job_id, []).append(r)
    assert (
        by["25"][0].state == "COMPLETED" and by["26"][0].state == "FAILED" and by["26"][0].exit_code == "1:0"
    )
    assert by["27"][0].reason == "JobHeldUser" and by["28"][0].reason == "Dependency"
    assert by["27"][0].timelimit_s is None  # "Partition_Limit"
    assert by["30"][0].state == "TIMEOUT" and by["30"][0].timelimit_s == 60 and by["30"][0].elapsed_s == 81
    assert [r.state for r in by["31"]] == ["REQUEUED", "PENDING"]  # -D: one record per requeued run
    assert {f"29_{i}" for i in range(4, 8)} <= set(by)  # 29_[4-7] expanded
    assert by["25"][0].tres == {"billing": 1.0, "cpu": 1.0, "node": 1.0}


def test_real_devcluster_squeue_capture():
    rows = {r.job_id: r for r in slurm.parse_squeue((DATA / "squeue_devcluster.txt").read_text())}
    assert rows["31"].restarts == 1 and rows["31"].reason == "BeginTime"
    assert rows["29_7"].reason == "JobHeldUser" and rows["28"].reason == "Dependency"
    assert rows["28"].timelimit_s is None and rows["28"].tres["mem"] == pytest.approx(16000 / 1024)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123_[4-7]", ["123_4", "123_5", "123_6", "123_7"]),
        ("123_[1,3-4,9%2]", ["123_1", "123_3", "123_4", "123_9"]),
        ("123_5", ["123_5"]),
        ("123", ["123"]),
    ],
)
def test_expand_array_ranges(text, expected):
    assert slurm.expand_job_id(text) == expected


@pytest.mark.parametrize(
    ("text", "secs"),
    [
        ("0:17", 17),
        ("1:00", 60),
        ("2:00:00", 7200),
        ("1-00:00:00", 86400),
        ("3-04:05:06", 273906),
        ("UNLIMITED", None),
        ("Partition_Limit", None),
        ("", None),
    ],
)
def test_durations(text, secs):
    assert slurm.parse_duration(text) == secs


def test_tres_and_gpus():
    tres = slurm.parse_tres("billing=64,cpu=64,gres/gpu:a100=8,gres/gpu=8,mem=500G,node=1")
    assert slurm.gpus_of(tres) == 8 and tres["cpu"] == 64 and tres["mem"] == 500
    assert slurm.gpus_of(slurm.parse_tres("cpu=8,gres/gpu:h100=4")) == 4
    assert slurm.gpus_of(slurm.parse_tres("")) == 0


def test_squeue_without_r_keeps_working_on_ranges():
    rows = slurm.parse_squeue("12_[4-7]|PENDING|JobHeldUser|N/A|0|0:00|UNLIMITED|1||\n")
    assert [r.job_id for r in rows] == ["12_4", "12_5", "12_6", "12_7"]


def test_malformed_squeue_line_is_named():
    with pytest.raises(ValueError, match="squeue output line 2: expected 9"):
        slurm.parse_squeue("12|PENDING|None|N/A|0|0:00|UNLIMITED|1||\n12|RUNNING\n")


def test_argv_is_one_call_with_requested_fields():
    argv = slurm.sacct_argv(["1", "2_3"])
    assert argv[:5] == ["sacct", "-n", "-P", "-D", "-j"] and argv[5] == "1,2_3"  # no -X: steps carry MaxRSS
    assert argv[-1] == "--format=" + ",".join(slurm.SACCT_FIELDS)
    q = slurm.squeue_argv(["1"])
    assert "-r" in q and q[-1].startswith("JobArrayID:|,State:|,Reason:|")
    assert slurm.query_ids(["5_1", "5_2", "7", "5_3"]) == ["5", "7"]
