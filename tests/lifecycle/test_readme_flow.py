"""The README's in-process flow, command by command, on the demo preset and a tiny offline model:
``taiyi data prepare --run R --preset P`` freezes the preset; ``taiyi train --run R --stage 1/2``,
``taiyi merge --run R``, ``taiyi eval run --run R`` and ``taiyi eval report --run R`` reuse it;
``taiyi-status R`` shows the run although nothing was ever submitted.

The overrides only make it small (one dataset, two optimizer steps, two instances per set)."""

from __future__ import annotations

import json
import os

from typer.testing import CliRunner

from taiyi_core import cli
from taiyi_core.config import load_preset
from taiyi_core.status import cli as status_cli


def test_readme_in_process_flow(tmp_path, monkeypatch):
    from taiyi_core.train.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny-qwen2", seed=0)
    monkeypatch.setenv("TAIYI_RUNS", str(tmp_path / "runs"))
    env = {**os.environ, "COLUMNS": "200"}
    runner = CliRunner()

    def taiyi(*args: str) -> str:
        res = runner.invoke(cli.app, list(args), env=env)
        assert res.exit_code == 0, f"taiyi {' '.join(args)}:\n{res.output}"
        return res.output

    small = [
        f"model.name_or_path={model}",
        "train.stages.1.max_steps=2",
        "train.stages.2.max_steps=2",
        "eval.limit=2",
        "eval.datasets=[kuake_qic]",
    ]
    taiyi("data", "prepare", "--run", "R", "--preset", "demo", "--datasets", "kuake_qic", *small)
    run_root = tmp_path / "runs" / "R"
    frozen = run_root / "preset.yaml"
    assert frozen.is_file() and "# overrides: " + " ".join(small) in frozen.read_text()
    assert load_preset(frozen) == load_preset("demo", small)
    taiyi("train", "--run", "R", "--stage", "1")  # no --preset: the frozen one
    taiyi("train", "--run", "R", "--stage", "2")
    taiyi("merge", "--run", "R")
    taiyi("eval", "run", "--run", "R")
    taiyi("eval", "report", "--run", "R")
    assert (run_root / "eval" / "kuake_qic" / "metrics.json").is_file()

    res = runner.invoke(status_cli.app, ["R", "--json"], env=env)
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["mode"] == "in_process" and st["errors"] == []
    steps = {s["name"]: s for s in st["steps"]}
    assert list(steps) == ["data", "curate", "stage1", "stage2", "eval", "report"]
    assert all(s["state"] == "COMPLETED" and s["in_process"] for s in steps.values()), steps
    assert steps["stage2"]["progress"]["step"] == 2
    assert st["eval"]["progress"] == [{"dataset": "kuake_qic", "written": 2, "total": 2, "scored": True}]

    # a later step with a different recipe is refused, naming the key, and changes nothing
    before = frozen.read_text()
    res = runner.invoke(cli.app, ["train", "--run", "R", "--stage", "1", "--preset", "demo"], env=env)
    assert res.exit_code == 2 and "different preset" in res.output and "model.name_or_path" in res.output
    assert frozen.read_text() == before
