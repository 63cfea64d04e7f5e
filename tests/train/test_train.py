"""Training on CPU with the tiny model: loss goes down, stage 2 continues stage 1, resume is exact."""

from __future__ import annotations

import json
import random

import pytest
import torch
from conftest import make_preset
from safetensors.torch import load_file
from transformers import TrainerCallback

from taiyi_core.config import ConfigError
from taiyi_core.train.jobs import merge_adapter, train_stage
from taiyi_core.train.preemption import StopFlag


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def adapter_weights(path):
    return load_file(str(path / "adapter_model.safetensors"))


def test_loss_decreases_and_stage2_continues_stage1(run, tiny_model):
    preset = make_preset(tiny_model, stages={1: {"epochs": 4}, 2: {"epochs": 1}})  # stage 2: defaults
    s1 = train_stage(run, preset, stage=1)
    assert s1["status"] == "done" and s1["global_step"] == s1["max_steps"]
    losses = [r["loss"] for r in read_jsonl(run.train(1) / "log.jsonl") if "loss" in r]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses
    log = read_jsonl(run.train(1) / "log.jsonl")
    keys = {
        "time",
        "step",
        "total_steps",
        "epoch",
        "loss",
        "lr",
        "grad_norm",
        "tokens_per_s",
        "samples_per_s",
        "gpu_mem_gb",
        "packing_efficiency",
    }
    assert keys <= set(log[0]) and log[-1]["event"] == "done"
    assert 0 < log[0]["packing_efficiency"] <= 1 and log[0]["tokens_per_s"] > 0
    assert any((run.train(1) / "tensorboard").iterdir())

    # Stage 2 starts from the stage-1 adapter: capture the trainable weights at the first step.
    seen = {}

    class Grab(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            seen.update({k: v.detach().clone() for k, v in model.named_parameters() if "lora_" in k})

    s2 = train_stage(run, preset, stage=2, callbacks=[Grab()])
    stage1 = adapter_weights(run.train(1) / "adapter")
    assert len(seen) == len(stage1) > 0
    for name, tensor in stage1.items():
        live = next(v for k, v in seen.items() if k.startswith(name.removesuffix(".weight")))
        assert torch.equal(live, tensor), name
    stage2 = adapter_weights(run.train(2) / "adapter")
    assert any(not torch.equal(stage2[k], stage1[k]) for k in stage1)  # and it trained on
    recorded = json.loads((run.train(2) / "stage.json").read_text())
    assert recorded["init_from_adapter"] == str(run.train(1) / "adapter") == s2["init_from_adapter"]
    assert train_stage(run, preset, stage=2)["skipped"] is True  # a re-run does not train again

    merged = merge_adapter(run, preset)
    assert (run.root / "train" / "merged" / "config.json").is_file() and merged["adapter"].endswith("adapter")


class StopAt(TrainerCallback):
    def __init__(self, flag: StopFlag, step: int):
        self.flag, self.step = flag, step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            self.flag.set("test")


def test_resume_after_stops_is_exact(tmp_path, tiny_model):
    """N steps straight vs. stopped twice at random steps and resumed: same steps, batches, losses."""
    from conftest import save_sft, sft_rows

    from taiyi_core.rundir import RunDir

    preset = make_preset(
        tiny_model,
        stages={1: {"epochs": 2}},
        grad_accum=2,
        per_device_batch=2,
        save_every_steps=4,
        keep_checkpoints=2,
        lr=5e-3,
    )
    runs = []
    for name in ("straight", "stopped"):
        r = RunDir(tmp_path / name).ensure()
        save_sft(r.sft(1), sft_rows(24, seed=5))
        runs.append(r)
    straight, stopped = runs
    full = train_stage(straight, preset, stage=1)
    n = full["global_step"]
    assert n >= 8

    rng = random.Random(11)
    k1 = rng.randint(2, n // 2)
    k2 = rng.randint(k1 + 1, n - 1)
    for k in (k1, k2):
        flag = StopFlag()
        out = train_stage(stopped, preset, stage=1, flag=flag, callbacks=[StopAt(flag, k)])
        assert out["status"] == "stopped" and out["global_step"] == k and out["stop_reason"] == "test"
        assert (stopped.train(1) / "checkpoints" / f"step-{k:06d}").is_dir()
        assert not (stopped.train(1) / "adapter").exists()
    ckpts = sorted(p.name for p in (stopped.train(1) / "checkpoints").iterdir())
    assert len(ckpts) <= 2 and ckpts[-1] == f"step-{k2:06d}"
    final = train_stage(stopped, preset, stage=1)
    assert final["status"] == "done" and final["resumed_from"].endswith(f"step-{k2:06d}")
    assert final["train_loss"] == pytest.approx(full["train_loss"], rel=1e-4)  # over the whole stage

    a, b = (read_jsonl(r.train(1) / "steps.jsonl") for r in runs)
    assert [s["step"] for s in b] == list(range(1, n + 1))  # no gap, no repeat
    assert [s["batches"] for s in a] == [s["batches"] for s in b]  # same data, same order
    la = [r["loss"] for r in read_jsonl(straight.train(1) / "log.jsonl") if "loss" in r]
    lb = [r["loss"] for r in read_jsonl(stopped.train(1) / "log.jsonl") if "loss" in r]
    assert len(la) == len(lb) == n
    assert la == pytest.approx(lb, abs=1e-5)  # deterministic CPU: in practice bit-identical
    wa, wb = adapter_weights(straight.train(1) / "adapter"), adapter_weights(stopped.train(1) / "adapter")
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], atol=1e-6, rtol=0)


def test_config_errors_name_the_key(run, tiny_model):
    """train: is typed inside the Preset: a bad key stops the preset loading (at submission)."""
    from taiyi_core.config import Preset, validate
    from taiyi_core.preset_file import merge

    base = make_preset(tiny_model).model_dump(mode="json")
    for patch, pattern in (
        ({"lora": {"rank": 8}}, r"p.yaml: unknown key 'train.lora.rank'.*allowed: alpha, dropout, r"),
        ({"optimizer": "sgd"}, r"p.yaml: key 'train.optimizer'"),
    ):
        with pytest.raises(ConfigError, match=pattern):
            validate(Preset, {**base, "train": merge(base["train"], patch)}, "p.yaml")


def test_stage2_needs_stage1(run, tiny_model):
    with pytest.raises(FileNotFoundError, match="run stage 1 first"):
        train_stage(run, make_preset(tiny_model), stage=2)


def test_nf4_qlora_trains_on_cpu(run, tiny_model):
    preset = make_preset(
        tiny_model,
        quantization={"mode": "nf4", "double_quant": True, "compute_dtype": "fp16"},
        optimizer="paged_adamw_32bit",
        gradient_checkpointing=True,
        stages={1: {"epochs": 1, "max_steps": 3}},
    )
    out = train_stage(run, preset, stage=1)
    assert out["status"] == "done" and out["global_step"] == 3
    assert "nf4 compute dtype fp16 -> fp32 on CPU" in out["effective"]["notes"]
    cfg = json.loads((run.train(1) / "adapter" / "adapter_config.json").read_text())
    short = {name.rsplit(".", 1)[-1] for name in cfg["target_modules"]}
    assert short == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }  # no lm_head


def test_chat_template_format_trains_end_to_end(run, tiny_model):
    """The tokenizer's own template (the Qwen2.5 preset's format), with packing: loss goes down."""
    preset = make_preset(tiny_model, conversation_format="chat_template", stages={1: {"epochs": 4}})
    summary = train_stage(run, preset, stage=1)
    assert summary["status"] == "done"
    losses = [r["loss"] for r in read_jsonl(run.train(1) / "log.jsonl") if "loss" in r]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses
