"""Pipeline groups through the launcher: an array step, then a step that needs all its outputs.
Runs on the local executor always, and on the dev cluster (afterok chain) when SLURM is present."""

from __future__ import annotations

import json

import pytest
import yaml

from taiyi_core.config import REPO_ROOT, ConfigError, load_preset, load_profile
from taiyi_core.launch import Launcher, StepNotBuilt, load_pipeline, wait
from taiyi_core.rundir import RunDir
from tests.conftest import slurm_available

PIPELINE = {
    "steps": {
        "fanout": {
            "entry": "tests.launch.jobs:touch_item",
            "items": "tests.launch.jobs:items_abc",
            "kwargs": {"stage": 7},
        },
        "gather": {"entry": "tests.launch.jobs:gather", "after": ["fanout"]},
        "later": {"entry": "taiyi_core.not_yet_written:run", "after": ["gather"]},
    },
    "groups": {"both": ["fanout", "gather"], "all": ["fanout", "gather", "later"]},
}


@pytest.fixture
def pipeline(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(PIPELINE))
    return load_pipeline(path)


def check_run(launcher: Launcher, submitted) -> None:
    assert [s.record.task for s in submitted["fanout"]] == ["a", "b", "c"]
    assert wait(submitted["gather"]) == [["a", "b", "c"]]
    first = json.loads((launcher.run.root / "selftest" / "a.txt").read_text())
    assert first["kwargs"] == {"stage": 7}
    manifest = json.loads(launcher.run.manifest.read_text())
    steps = [s["step"] for s in manifest["submissions"]]
    assert steps == ["fanout"] * 3 + ["gather"]
    # the frozen preset is the resolved one: it loads to exactly what the preset file loads to
    assert load_preset(launcher.run.preset) == load_preset(REPO_ROOT / "jobs" / "demo.yaml")


def test_local_group_runs_in_order(runs_root, pipeline):
    launcher = Launcher(RunDir.named("local-pipe"), load_profile("local"), REPO_ROOT / "jobs" / "demo.yaml")
    submitted = launcher.submit_group("both", pipeline)
    check_run(launcher, submitted)
    assert all(s.record.executor == "local" for subs in submitted.values() for s in subs)


def test_unbuilt_step_is_refused_before_anything_is_queued(runs_root, pipeline):
    launcher = Launcher(RunDir.named("unbuilt"), load_profile("local"), REPO_ROOT / "jobs" / "demo.yaml")
    with pytest.raises(StepNotBuilt, match="step 'later' is not built yet"):
        launcher.submit_group("all", pipeline)
    assert not launcher.run.root.exists()  # a refused submission changes nothing on disk


def test_run_refuses_a_different_preset(runs_root):
    run = RunDir.named("frozen")
    from taiyi_core import lifecycle

    lifecycle.step_preset(run, REPO_ROOT / "jobs" / "demo.yaml")  # a first step (of any kind) freezes it
    with pytest.raises(ConfigError, match="was started with a different preset"):
        Launcher(RunDir.named("frozen"), load_profile("local"), REPO_ROOT / "jobs" / "taiyi1.yaml")


@pytest.mark.slurm
@pytest.mark.skipif(not slurm_available(), reason="sbatch not found: make devcluster-up")
def test_slurm_group_chains_with_afterok(runs_root, pipeline):
    launcher = Launcher(
        RunDir.named("slurm-pipe"), load_profile("devcluster"), REPO_ROOT / "jobs" / "demo.yaml"
    )
    submitted = launcher.submit_group("both", pipeline)
    array_ids = [s.job_id for s in submitted["fanout"]]
    assert submitted["gather"][0].record.depends_on == array_ids
    check_run(launcher, submitted)
