"""The launcher against the real dev cluster: single job, array, 2-task gloo all-reduce,
afterok chain, and a failing job whose traceback and log path reach the caller."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from taiyi_core.config import Resources, load_profile
from taiyi_core.launch import JobFailed, Launcher, selftest, wait
from taiyi_core.rundir import RunDir
from tests.conftest import slurm_available
from tests.launch import jobs

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not slurm_available(),
        reason="sbatch/squeue not found: start the dev cluster (make devcluster-up) to run SLURM tests",
    ),
]

SMALL = Resources(cpus_per_task=1, mem_gb=1, timeout_min=5)


@pytest.fixture
def launcher(runs_root) -> Launcher:
    return Launcher(RunDir.named("slurm-test"), load_profile("devcluster"))


def sacct_field(job_id: str, field: str) -> str:
    out = subprocess.run(
        ["sacct", "-n", "-P", "-X", "-j", job_id, f"--format={field}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[0] if out.strip() else ""


def settled_field(job_id: str, field: str, timeout: float = 30.0) -> str:
    """``field`` once accounting has the job's final state (sacct lags the controller by seconds)."""
    deadline = time.time() + timeout
    while sacct_field(job_id, "State") in {"", "PENDING", "RUNNING", "COMPLETING"} and time.time() < deadline:
        time.sleep(0.5)
    return sacct_field(job_id, field)


def test_single_job_runs_on_slurm_and_is_recorded(launcher):
    sub = launcher.submit_function("hello", selftest.hello, "one", resources=SMALL)
    result = sub.result()
    assert result["tag"] == "one"
    assert result["job_id"] == sub.job_id  # it really ran as that SLURM job
    manifest = json.loads(launcher.run.manifest.read_text())
    [entry] = manifest["submissions"]
    assert entry["step"] == "hello" and entry["job_id"] == sub.job_id and entry["executor"] == "slurm"
    assert entry["config_hash"].startswith("sha256:") and entry["profile"] == "devcluster"
    assert (launcher.run.logs("hello")).is_dir()
    assert any(launcher.run.logs("hello").glob(f"{sub.job_id}_0_log.out"))


def test_four_task_array(launcher):
    subs = launcher.map_array("square", jobs.square, [1, 2, 3, 4], resources=SMALL)
    assert len({s.record.array_job_id for s in subs}) == 1
    assert [s.record.array_index for s in subs] == [0, 1, 2, 3]
    assert wait(subs) == [1, 4, 9, 16]
    assert [s.record.task for s in subs] == ["1", "2", "3", "4"]


def test_two_task_job_all_reduces_over_gloo(launcher):
    res = Resources(tasks_per_node=2, cpus_per_task=1, mem_gb=2, timeout_min=5)
    sub = launcher.submit_function("allreduce", jobs.all_reduce_sum, 1.5, distributed=True, resources=res)
    results = sub.job.results()  # one result per task
    assert sorted(r["rank"] for r in results) == [0, 1]
    assert all(r["world_size"] == 2 for r in results)
    assert all(r["total"] == pytest.approx(1.5 * 1 + 1.5 * 2) for r in results)


def test_afterok_chain_starts_second_only_after_first_succeeds(launcher, tmp_path):
    stamp = str(tmp_path / "stamp.txt")
    first = launcher.submit_function("first", jobs.write_stamp, stamp, 3.0, resources=SMALL)
    second = launcher.submit_function(
        "second", jobs.read_stamp, stamp, resources=SMALL, depends_on=[first.job_id]
    )
    assert second.record.depends_on == [first.job_id]
    # while the first job sleeps, the second is held by SLURM on its dependency
    queued = subprocess.run(
        ["squeue", "-h", "-j", second.job_id, "-o", "%T|%r|%E"], capture_output=True, text=True, check=True
    ).stdout.strip()
    state, _reason, dependency = queued.split("|")
    assert state == "PENDING" and dependency == f"afterok:{first.job_id}(unfulfilled)", queued
    out = second.result()
    written = first.result()
    assert out["stamp"] == pytest.approx(written)
    assert out["now"] >= written
    # the scheduler's own record: second started no earlier than first ended
    assert settled_field(second.job_id, "Start") >= settled_field(first.job_id, "End")


def test_failing_job_surfaces_remote_traceback_and_log(launcher):
    sub = launcher.submit_function("boom", jobs.fail, "the reagent ran out", resources=SMALL)
    with pytest.raises(JobFailed) as info:
        sub.result()
    err = info.value
    assert err.job_id == sub.job_id and err.step == "boom"
    assert "the reagent ran out" in str(err)
    assert "Traceback" in str(err) and "jobs.py" in str(err)
    assert err.log.exists() and err.log.name == f"{sub.job_id}_0_log.err"
    assert settled_field(sub.job_id, "State") == "FAILED"
