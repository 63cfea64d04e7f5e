"""One answer to "can this model be loaded here" (taiyi_core/model_check.py) for every caller: the
submission check and doctor (preset keys), ``taiyi train``/``merge`` and ``taiyi eval run --model``
(flag names). Real Qwen-7B (v1) kit files where the remote-code rule is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taiyi_core.config import ConfigError, ModelSpec
from taiyi_core.model_check import model_problem, require_model
from tests.config.test_typed_presets import _preset, submit
from tests.kits import kit_dir


def _folder(path: Path, **files: dict) -> Path:
    path.mkdir(parents=True)
    for name, content in files.items():
        (path / f"{name}.json").write_text(json.dumps(content))
    return path


def test_qwen_v1_checkpoint_is_refused_at_submission_with_the_converter(tmp_path, runs_root):
    """What the loaders refuse (models/remote_code) is refused before anything is queued."""
    path = _preset(tmp_path, {"model": {"name_or_path": str(kit_dir("qwen-7b"))}})
    code, out = submit("stage1", "--run", "r", "--preset", str(path), "--dry-run")
    lines = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert code == 2 and len(lines) == 1, out
    assert f"{path}: key 'model.name_or_path'" in lines[0] and "a Qwen-7B (v1) checkpoint" in lines[0], out
    assert "`taiyi model convert SRC DST`" in lines[0]
    assert list(runs_root.iterdir()) == []


def test_qwen_v1_tokenizer_names_the_tokenizer_key(tmp_path):
    model = _folder(tmp_path / "model", config={"model_type": "qwen2"})
    spec = ModelSpec(name_or_path=str(model), tokenizer=str(kit_dir("qwen-7b")))
    problem = model_problem(spec, "p.yaml")
    assert problem and problem.startswith("p.yaml: key 'model.tokenizer': ") and "QWenTokenizer" in problem


def test_model_folder_needs_config_json_a_tokenizer_folder_its_tokenizer_config(tmp_path):
    tok = _folder(tmp_path / "tok", tokenizer_config={"tokenizer_class": "PreTrainedTokenizerFast"})
    model = _folder(tmp_path / "model", config={"model_type": "qwen2"})
    assert model_problem(ModelSpec(name_or_path=str(model), tokenizer=str(tok))) is None
    problem = model_problem(ModelSpec(name_or_path=str(tok)), "p.yaml")
    assert problem == (
        f"p.yaml: key 'model.name_or_path': {str(tok)!r} is a folder without config.json "
        f"({tok.resolve()}; not a transformers checkpoint)"
    )


def test_own_remote_code_needs_the_opt_in(tmp_path):
    auto_map = {"AutoModelForCausalLM": "modeling.LM", "AutoConfig": "c.C"}
    config = {"model_type": "custom-lm", "auto_map": auto_map}
    model = _folder(tmp_path / "model", config=config)
    problem = model_problem(ModelSpec(name_or_path=str(model)), None, labels=("--model", "--model"))
    assert problem and problem.startswith(f"--model: {str(model)!r} needs its own remote code (AutoConfig, ")
    assert "--trust-remote-code" in problem and "model.trust_remote_code: true" in problem
    assert model_problem(ModelSpec(name_or_path=str(model), trust_remote_code=True)) is None


def test_a_hub_id_not_cached_is_refused_offline_only(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    spec = ModelSpec(name_or_path="taiyi-test/not-cached", revision="v1.0")
    with pytest.raises(ConfigError) as refused:
        require_model(spec, None, labels=("--model", "--model"))
    line = str(refused.value)
    assert line.startswith("--model: 'taiyi-test/not-cached' not found")
    assert str(tmp_path / "empty-cache") in line
    assert "`hf download taiyi-test/not-cached --revision v1.0`" in line and "`taiyi model convert" in line
    assert model_problem(spec, offline=False) is None  # online, the loader downloads it
