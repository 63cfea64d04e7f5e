"""`taiyi resubmit --failed` resubmits only the failed array task, with its original call, and
points the job queued behind it at the replacement."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from taiyi_core.config import REPO_ROOT, load_profile
from taiyi_core.launch import JobFailed, Launcher, load_pipeline, wait
from taiyi_core.launch.resubmit import judge, resubmit_failed
from taiyi_core.launch.slurm_state import job_states
from taiyi_core.rundir import RunDir
from tests.conftest import slurm_available

PIPELINE = {
    "steps": {
        "fan": {
            "entry": "tests.launch.jobs:flaky_item",
            "items": "tests.launch.jobs:items_abc",
        },
        "gather": {"entry": "tests.launch.jobs:gather", "after": ["fan"]},
    },
    "groups": {"both": ["fan", "gather"]},
}


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(PIPELINE))
    return load_pipeline(path)


def test_local_resubmit_reruns_only_the_failed_task(runs_root, pipeline):
    launcher = Launcher(RunDir.named("flaky-local"), load_profile("local"), REPO_ROOT / "jobs" / "demo.yaml")
    with pytest.raises(JobFailed, match="item b: input not ready"):
        launcher.submit_group("fan", pipeline)
    states = {v.submission.task: v.state for v in judge(launcher)}
    assert states == {"a": "LOCAL_OK", "b": "LOCAL_FAILED", "c": "LOCAL_OK"}
    (launcher.run.root / "selftest" / "allow-b").write_text("ok")
    new = resubmit_failed(launcher)
    assert [s.record.task for s in new] == ["b"]
    wait(new)
    old_b = [s for s in launcher.manifest.read().submissions if s.task == "b"][0]
    assert new[0].record.resubmit_of == old_b.job_id
    assert {v.state for v in judge(launcher)} == {"LOCAL_OK"}


@pytest.mark.slurm
@pytest.mark.skipif(not slurm_available(), reason="sbatch not found: make devcluster-up")
def test_slurm_resubmit_repoints_the_waiting_dependent(runs_root, pipeline):
    launcher = Launcher(
        RunDir.named("flaky-slurm"), load_profile("devcluster"), REPO_ROOT / "jobs" / "demo.yaml"
    )
    submitted = launcher.submit_group("both", pipeline)
    fan = {s.record.task: s for s in submitted["fan"]}
    with pytest.raises(JobFailed):
        fan["b"].result()
    gather_id = submitted["gather"][0].job_id
    assert job_states([gather_id])[gather_id] == "PENDING"  # stuck behind the failed task
    (launcher.run.root / "selftest" / "allow-b").write_text("ok")
    new = resubmit_failed(launcher)
    assert [(s.step, s.record.task) for s in new] == [("fan", "b")]
    assert new[0].record.resubmit_of == fan["b"].job_id
    wait(new)
    assert wait(submitted["gather"]) == [["a", "b", "c"]]  # the dependent now ran, after the new job
    entries = json.loads(launcher.run.manifest.read_text())["submissions"]
    assert [e["task"] for e in entries if e["step"] == "fan"] == ["a", "b", "c", "b"]
    for _ in range(20):
        if {v.state for v in judge(launcher)} == {"COMPLETED"}:
            break
        time.sleep(0.5)
    assert {v.state for v in judge(launcher)} == {"COMPLETED"}
