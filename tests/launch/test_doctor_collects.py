"""``taiyi doctor`` collects every problem before reporting, and never ends in a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from taiyi_core import cli
from tests.conftest import slurm_available

REPO = Path(__file__).resolve().parents[2]


def _doctor(*args: str, env: dict | None = None) -> tuple[int, list[dict], str]:
    res = CliRunner().invoke(cli.app, ["doctor", *args, "--json"], env=env)
    assert "Traceback" not in res.output
    return res.exit_code, json.loads(res.stdout[res.stdout.index("[") :]), res.output


def _files(tmp_path: Path, partition: str = "nope") -> tuple[Path, Path]:
    profile = tmp_path / "bad.yaml"
    profile.write_text(
        yaml.safe_dump({"name": "bad", "executor": "slurm", "slurm": {"partition": partition}})
    )
    preset = tmp_path / "p.yaml"
    preset.write_text(
        yaml.safe_dump(
            {"name": "p", "model": {"name_or_path": "./no-such-model"}, "data": {"raw_dir": "no-such-raw"}}
        )
    )
    return profile, preset


def test_every_problem_is_collected_without_slurm(tmp_path):
    profile, preset = _files(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": f"{empty}:{Path(os.sys.executable).parent}"}  # python, but no SLURM client
    code, checks, _ = _doctor("--profile", str(profile), "--preset", str(preset), "--submit", env=env)
    by = {c["name"]: c for c in checks}
    assert code == 1
    assert by["slurm sbatch"]["status"] == "fail" and "not found on PATH" in by["slurm sbatch"]["detail"]
    assert by["model"]["status"] == "fail" and "no-such-model" in by["model"]["detail"]
    assert by["raw data"]["status"] == "fail" and "no-such-raw" in by["raw data"]["detail"]
    assert by["submit probe"]["status"] == "fail"  # sbatch missing: a failed check, not a traceback
    assert by["python"]["status"] == "pass"  # the rest still ran


def test_a_broken_preset_is_one_failed_check(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: b\nmodel: {name_or_path: m}\ntrain: {learning_rate: 1}\n")
    code, checks, _ = _doctor("--profile", "local", "--preset", str(bad))
    preset = next(c for c in checks if c["name"] == "preset")
    assert (
        code == 1 and preset["status"] == "fail" and "unknown key 'train.learning_rate'" in preset["detail"]
    )
    assert any(c["name"] == "package torch" for c in checks)


@pytest.mark.slurm
@pytest.mark.skipif(not slurm_available(), reason="sbatch not found: make devcluster-up")
def test_bad_partition_on_the_dev_cluster(tmp_path):
    profile, preset = _files(tmp_path)
    code, checks, _ = _doctor("--profile", str(profile), "--preset", str(preset), "--submit")
    by = {c["name"]: c for c in checks}
    assert code == 1
    assert by["partition nope"]["status"] == "fail"
    assert (
        by["sbatch --test-only"]["status"] == "fail"
        and "partition=nope" in by["sbatch --test-only"]["detail"]
    )
    assert by["submit probe"]["status"] == "fail" and "partition" in by["submit probe"]["detail"].lower()
    assert by["model"]["status"] == "fail" and by["raw data"]["status"] == "fail"
    good, _ = _files(tmp_path / "g", "debug") if (tmp_path / "g").mkdir() is None else None
    code, checks, _ = _doctor("--profile", str(good))
    assert {c["name"]: c for c in checks}["sbatch --test-only"]["status"] == "pass"
