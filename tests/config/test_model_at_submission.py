"""A preset whose model is neither a folder nor in the Hugging Face cache is refused at submission
(``taiyi submit ... [--dry-run]``, ``make plan``) with one line naming the preset file, the key and
what was expected, before anything is written; steps that need no model (jobs/pipeline.yaml,
``needs_model``) are not refused for it; a local folder and a Hub id in the cache both pass, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from taiyi_core.launch import load_pipeline
from tests.config.test_typed_presets import _preset, submit

MISSING = "taiyi-test/not-downloaded"


def _errors(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith("error:")]


def _model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    return path


def _hf_cache(root: Path, repo_id: str) -> Path:
    """A hub cache as `hf download ID` leaves it: blobs, a snapshot of symlinks, refs/main."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = root / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    blob = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    (repo / "blobs" / blob).write_text(json.dumps({"model_type": "qwen2"}))
    (repo / "snapshots" / commit / "config.json").symlink_to(Path("..", "..", "blobs", blob))
    return root


@pytest.mark.parametrize("group", ["stage1", "stage2", "eval", "all"])
def test_missing_model_is_one_line_at_dry_run_and_submit(tmp_path, runs_root, group):
    path = _preset(tmp_path, {"model": {"name_or_path": MISSING}})
    for dry in (("--dry-run",), ()):
        code, out = submit(group, "--run", "r", "--preset", str(path), *dry)
        lines = _errors(out)
        assert code == 2 and len(lines) == 1, out  # once, although several steps need the model
        line = lines[0]
        assert line.startswith(f"error: {path}: key 'model.name_or_path': '{MISSING}' not found"), line
        assert "a folder with config.json" in line and "Hugging Face cache" in line, line
        assert f"`hf download {MISSING}`" in line and "`taiyi model convert" in line, line
        assert "Traceback" not in out
        assert list(runs_root.iterdir()) == []  # no run folder, frozen preset or manifest


def test_missing_separate_tokenizer_names_its_key(tmp_path, runs_root):
    model = _model_folder(tmp_path / "model")
    path = _preset(tmp_path, {"model": {"name_or_path": str(model), "tokenizer": str(tmp_path / "no-tok")}})
    code, out = submit("stage1", "--run", "r", "--preset", str(path), "--dry-run")
    assert code == 2 and "key 'model.tokenizer'" in _errors(out)[0] and "no-tok" in _errors(out)[0], out
    assert list(runs_root.iterdir()) == []


def test_steps_without_a_model_are_not_refused_for_it(tmp_path, runs_root):
    """data counts tokens only when the tokenizer loads (else "n/a"); curate and report read files."""
    pipeline = load_pipeline()
    assert {n for n, s in pipeline.steps.items() if s.needs_model} == {"stage1", "stage2", "eval"}
    path = _preset(tmp_path, {"model": {"name_or_path": MISSING}})
    for group in ("data", "report"):
        code, out = submit(group, "--run", "r", "--preset", str(path), "--dry-run")
        assert code == 0 and not _errors(out), out
    assert list(runs_root.iterdir()) == []


def test_a_local_model_folder_passes(tmp_path, runs_root):
    model = _model_folder(tmp_path / "model")
    path = _preset(tmp_path, {"model": {"name_or_path": str(model)}})
    code, out = submit("all", "--run", "r", "--preset", str(path), "--dry-run")
    assert code == 0 and not _errors(out), out
    assert list(runs_root.iterdir()) == []


def test_a_hub_id_in_the_hf_cache_passes_offline(tmp_path, runs_root):
    """HF_HUB_CACHE as a user sets it, read by a fresh process (huggingface_hub reads it at import)."""
    repo_id = "taiyi-test/tiny-in-cache"
    cache = _hf_cache(tmp_path / "hf-cache", repo_id)
    path = _preset(tmp_path, {"model": {"name_or_path": repo_id}})
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "COLUMNS": "400"}
    argv = [sys.executable, "-m", "taiyi_core.cli", "submit", "all", "--run", "r", "--preset", str(path)]
    argv.append("--dry-run")
    ok = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    missing = yaml.safe_load(path.read_text())
    missing["model"]["name_or_path"] = "taiyi-test/other-model"
    path.write_text(yaml.safe_dump(missing))
    refused = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert refused.returncode == 2 and str(cache) in refused.stderr, refused.stderr  # the cache looked in
    assert list(runs_root.iterdir()) == []

