"""Semantics that must not drift across library versions: warmup steps, and what a merge writes.

- Warmup: ``train.warmup_ratio`` becomes ``ceil(ratio * total steps)`` optimizer steps, passed to
  transformers as an int (a float ``warmup_steps`` is a ratio in transformers 5 but a step count
  in 4.x).
- Merge (`taiyi merge`, on a real-shaped kit model): every tensor of the merged model equals the
  base tensor plus ``B @ A * alpha / r`` for LoRA targets and the base tensor otherwise, and the
  merged model's logits equal the base model's with the adapter applied (fp32).
"""

from __future__ import annotations

import json
import math

import pytest
import torch
import yaml
from conftest import make_preset, save_sft, sft_rows
from safetensors.torch import load_file
from typer.testing import CliRunner

from taiyi_core.rundir import RunDir
from taiyi_core.train.jobs import train_stage
from tests.kits import tiny_kit  # noqa: F401


def log_rows(run, stage):
    return [json.loads(x) for x in (run.train(stage) / "log.jsonl").read_text().splitlines()]


def test_warmup_ratio_is_whole_steps_of_the_stage_total(run, tiny_model):
    lr, ratio = 1e-2, 0.3
    preset = make_preset(
        tiny_model, lr=lr, warmup_ratio=ratio, scheduler="constant_with_warmup", stages={1: {"epochs": 1}}
    )
    out = train_stage(run, preset, stage=1)
    total = out["max_steps"]  # 32 packed samples in batches of 4 rows: 7 steps
    warmup = math.ceil(ratio * total)
    assert total == 7 and out["warmup_steps"] == warmup == 3
    logged = [(r["step"], r["lr"]) for r in log_rows(run, 1) if "lr" in r]
    assert [s for s, _ in logged] == list(range(1, total + 1))
    # the lr a step used: linear from 0 over `warmup` steps, then constant
    for step, value in logged:
        assert value == pytest.approx(lr * min(1.0, (step - 1) / warmup)), step


def load_weights(folder):
    """Every tensor of a checkpoint folder, one file or shards."""
    out = {}
    for path in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(path)))
    return out


def lora_delta(adapter_dir):
    """{base weight name: B @ A * alpha / r} from a saved adapter."""
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    scale = cfg["lora_alpha"] / cfg["r"]
    assert not cfg.get("use_rslora") and not cfg.get("use_dora")
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    deltas = {}
    for key, a in weights.items():
        if ".lora_A." not in key:
            continue
        b = weights[key.replace(".lora_A.", ".lora_B.")]
        name = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
        deltas[name] = b @ a * scale
    return deltas


# An instruct model with its chat template, and Qwen-7B converted to native (what Taiyi-LLM is built on;
# merging it under its remote code silently re-drew attn.c_proj, the reason for the conversion).
MERGE_KITS = {"qwen2.5-7b-instruct": "chat_template", "qwen-7b": "taiyi1"}


@pytest.mark.parametrize("name", MERGE_KITS)
def test_merge_is_base_plus_adapter_on_every_tensor_of_a_kit_model(tmp_path, tiny_kit, name):  # noqa: F811
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taiyi_core.cli import app

    model_dir = tiny_kit(name)
    preset = make_preset(
        model_dir, conversation_format=MERGE_KITS[name], stages={1: {"epochs": 1, "max_steps": 2}}
    )
    run = RunDir(tmp_path / "run").ensure()
    save_sft(run.sft(1), sft_rows(8, seed=1))
    assert train_stage(run, preset, stage=1)["status"] == "done"
    adapter = run.train(1) / "adapter"

    path = tmp_path / "preset.yaml"
    path.write_text(yaml.safe_dump(preset.model_dump(mode="json")), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["merge", "--run", str(run.root), "--stage", "1", "--preset", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    merged_dir = run.root / "train" / "merged"
    summary = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert summary["merged"] == str(merged_dir) and summary["dtype"] == "fp32"

    base = load_weights(model_dir)
    merged = load_weights(merged_dir)
    deltas = lora_delta(adapter)
    assert set(merged) == set(base)
    assert deltas and set(deltas) <= set(base)
    assert len(deltas) == 7 * 2  # q, k, v, o, gate, up, down in each of the 2 layers; not the head
    assert max(float(d.abs().max()) for d in deltas.values()) > 1e-4  # the adapter really changes weights
    for name, tensor in base.items():
        want = tensor + deltas[name] if name in deltas else tensor
        torch.testing.assert_close(merged[name], want, rtol=0, atol=1e-6, msg=name)

    tok = AutoTokenizer.from_pretrained(merged_dir)
    assert tok.chat_template == AutoTokenizer.from_pretrained(model_dir).chat_template
    ids = tok("Naloxone reverses clonidine. 患者出现发热。", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        with_adapter = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(model_dir), str(adapter)
        )
        want = with_adapter.eval()(ids).logits
        got = AutoModelForCausalLM.from_pretrained(merged_dir).eval()(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(model_dir).eval()(ids).logits
    assert float((got - want).abs().max()) <= 1e-5
    assert float((plain - want).abs().max()) > 1e-4  # and the adapter changes the logits
