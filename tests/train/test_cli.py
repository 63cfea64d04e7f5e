"""`taiyi model tiny` and `taiyi train` through typer; the tiny model is deterministic."""

from __future__ import annotations

import json

from conftest import make_preset
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from taiyi_core.train.commands import app, model_app


def test_tiny_model_cli_deterministic_and_reloads(tmp_path, tiny_model):
    out = tmp_path / "tiny"
    result = CliRunner().invoke(model_app, ["tiny", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (out / name).read_bytes() == (tiny_model / name).read_bytes(), name
    tok = AutoTokenizer.from_pretrained(out)
    AutoModelForCausalLM.from_pretrained(out)
    text = "请识别以下文本中的实体：糖尿病 and BRCA1 <|im_start|>user"
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text and len(ids) < len(text.encode())  # merges learned for en and zh
    assert tok.convert_ids_to_tokens(ids)[-3] == "<|im_start|>"


def test_train_cli_json(tmp_path, run, tiny_model):
    import yaml

    preset = make_preset(tiny_model, stages={1: {"epochs": 1, "max_steps": 2}})
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(preset.model_dump(mode="json")))
    result = CliRunner().invoke(
        app, ["train", "--run", str(run.root), "--stage", "1", "--preset", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{\n") :])
    assert summary["status"] == "done" and summary["global_step"] == 2
