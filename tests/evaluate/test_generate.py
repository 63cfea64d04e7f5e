"""HF generation plumbing on the tiny model: batching, stop tokens, adapters, resume, idempotency."""

from __future__ import annotations

import json

import pytest
import torch
from evalhelpers import make_preset, ner_rows, write_eval_set

from taiyi_core.evaluate.backends.hf import HFGenerator
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.generate import generate_all
from taiyi_core.evaluate.io import EvalRow
from taiyi_core.evaluate.jobs import evaluate_dataset
from taiyi_core.evaluate.weights import Weights, resolve_weights
from taiyi_core.rundir import RunDir

PROMPTS = [
    "Extract the chemical entities from the following text:\nNaloxone reverses clonidine.",
    "hi",
    "请识别以下文本中的实体：患者出现发热、咳嗽、呼吸困难等症状。",
    "Question: Does aspirin reduce the risk of myocardial infarction?",
    "Translate the following text into Chinese: Diabetes mellitus is a chronic metabolic disease.",
]


def _rows(prompts: list[str]) -> list[EvalRow]:
    return [EvalRow(f"r{i}", "x", "ner", "en", p, "None") for i, p in enumerate(prompts)]


@pytest.fixture(scope="module")
def generator(tiny_model) -> HFGenerator:
    return HFGenerator.load(
        Weights(str(tiny_model), str(tiny_model), None, "base"), EvalSettings(batch_size=4)
    )


def test_batched_equals_one_by_one_greedy(generator):
    settings = EvalSettings()
    rows = _rows(PROMPTS)
    generator.chunk_size = 4  # 5 prompts of different lengths: one padded batch of 4 plus 1
    batched = generate_all(rows, generator, 16, settings.decoding)
    # Reference: plain model.generate on each prompt alone, no padding, no code of ours in between.
    for row in rows:
        ids = torch.tensor([generator.format(row.prompt)])
        out = generator.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=16,
            do_sample=False,
            eos_token_id=generator.stop_ids,
            pad_token_id=generator.pad_id,
        )
        alone = generator.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()
        assert batched[row.id]["prediction"] == alone, row.id
        assert batched[row.id]["prompt"] == row.prompt  # results went back to their own rows
    assert len({b["prediction"] for b in batched.values()}) > 1


def test_sampling_is_seeded(tiny_model):
    w = Weights(str(tiny_model), str(tiny_model), None, "base")
    rows = _rows(PROMPTS[:3])

    def sample(seed: int) -> dict[str, str]:
        s = EvalSettings(decoding={"mode": "sampling", "seed": seed, "temperature": 1.0})
        return {
            k: v["prediction"] for k, v in generate_all(rows, HFGenerator.load(w, s), 10, s.decoding).items()
        }

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_generation_stops_at_stop_token(tiny_model):
    base = HFGenerator.load(Weights(str(tiny_model), str(tiny_model), None, "base"), EvalSettings())
    ids = base.format(PROMPTS[0])
    free = base.model.generate(
        input_ids=torch.tensor([ids]),
        max_new_tokens=12,
        do_sample=False,
        eos_token_id=None,
        pad_token_id=base.pad_id,
    )[0, len(ids) :].tolist()
    stop_id = next(t for t in free[3:] if t not in base.stop_ids)
    stop = base.tokenizer.convert_ids_to_tokens(stop_id)
    cut = free.index(stop_id)
    gen = HFGenerator.load(
        Weights(str(tiny_model), str(tiny_model), None, "base"),
        EvalSettings(stop_tokens=[stop, "<|im_end|>"]),
    )
    out = gen.generate([ids], 12, 0)[0]
    assert out.new_tokens == cut
    assert out.text == base.tokenizer.decode(free[:cut], skip_special_tokens=True).strip()


def test_adapter_and_merged_model_load(tiny_model, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    peft_model.save_pretrained(tmp_path / "adapter")
    peft_model.merge_and_unload().save_pretrained(tmp_path / "merged")
    from taiyi_core.config import ModelSpec

    spec = ModelSpec(name_or_path=str(tiny_model))
    w_adapter = resolve_weights(spec, str(tmp_path / "adapter"), None)
    w_merged = resolve_weights(spec, str(tmp_path / "merged"), None)
    assert (w_adapter.kind, w_merged.kind) == ("adapter", "merged")
    assert w_adapter.record()["adapter"]["hash"].startswith("sha256:")
    settings = EvalSettings(batch_size=3)
    rows = _rows(PROMPTS[:3])
    outs = {}
    for name, w in (
        ("base", resolve_weights(spec, "none", None)),
        ("adapter", w_adapter),
        ("merged", w_merged),
    ):
        outs[name] = {
            k: v["prediction"]
            for k, v in generate_all(rows, HFGenerator.load(w, settings), 10, settings.decoding).items()
        }
    assert outs["adapter"] == outs["merged"]
    assert outs["adapter"] != outs["base"]


def test_stage_adapter_missing_names_folder(tiny_model, tmp_path):
    from taiyi_core.config import ConfigError, ModelSpec

    with pytest.raises(ConfigError, match=r"train/stage2/adapter"):
        resolve_weights(ModelSpec(name_or_path=str(tiny_model)), "stage2", RunDir(tmp_path / "r"))


def test_resume_after_kill_generates_only_missing(tiny_model, ner_run):
    preset = make_preset(tiny_model, max_prompt_tokens=40)  # some prompts are cut: counted per row
    first = evaluate_dataset(ner_run, preset, "bc5cdr_chem")
    assert first["n"] == 7 and first["missing"] == 0
    out = ner_run.eval("bc5cdr_chem")
    uninterrupted = json.loads((out / "generation.json").read_text())
    assert uninterrupted["prompt_truncated"] > 0 and uninterrupted["generated_tokens"] > 0
    lines = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    full = {json.loads(x)["id"]: json.loads(x)["prediction"] for x in lines}
    # Simulate a kill: three rows made it, the fourth was cut mid-write, metrics never written.
    (out / "predictions.jsonl").write_text("".join(lines[:3]) + lines[3][:25], encoding="utf-8")
    (out / "metrics.json").unlink()
    counted: list[int] = []
    second = evaluate_dataset(
        ner_run,
        preset,
        "bc5cdr_chem",
        on_start=lambda total, todo: counted.append(todo),
        on_batch=counted.append,
    )
    assert counted[0] == 4 and sum(counted[1:]) == 4  # only the 4 missing ids were generated
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"bc5cdr_chem-{i}" for i in range(7)]  # eval-file order restored
    assert {r["id"]: r["prediction"] for r in rows} == full  # greedy: resumed rows identical
    assert second["n"] == 7 and second["missing"] == 0 and not second["skipped"]
    gen = json.loads((out / "generation.json").read_text())
    assert gen["resumed_with"] == 3
    for key in ("generated_tokens", "prompt_truncated"):  # a resumed evaluation keeps every field
        assert gen[key] == uninterrupted[key], key
        assert json.loads((out / "metrics.json").read_text())[key] == uninterrupted[key], key


def test_finished_set_is_skipped_and_changes_redo(tiny_model, ner_run):
    preset = make_preset(tiny_model)
    evaluate_dataset(ner_run, preset, "bc5cdr_chem")
    again = evaluate_dataset(ner_run, preset, "bc5cdr_chem", on_batch=lambda k: pytest.fail("generated"))
    assert again["skipped"] is True
    forced: list[int] = []
    evaluate_dataset(ner_run, preset, "bc5cdr_chem", force=True, on_batch=forced.append)
    assert sum(forced) == 7
    changed: list[int] = []
    res = evaluate_dataset(
        ner_run, make_preset(tiny_model, max_new_tokens={"ner": 4}), "bc5cdr_chem", on_batch=changed.append
    )
    assert sum(changed) == 7 and res["n"] == 7
    assert (ner_run.eval("bc5cdr_chem") / "predictions.stale.jsonl").is_file()
    # A changed eval file (new dataset version) also invalidates the metrics.
    write_eval_set(ner_run, ner_rows(n=5))
    redo: list[int] = []
    res = evaluate_dataset(
        ner_run, make_preset(tiny_model, max_new_tokens={"ner": 4}), "bc5cdr_chem", on_batch=redo.append
    )
    assert sum(redo) == 5 and res["n"] == 5


def test_metrics_record_provenance(tiny_model, ner_run):
    res = evaluate_dataset(ner_run, make_preset(tiny_model, limit=4), "bc5cdr_chem")
    m = json.loads((ner_run.eval("bc5cdr_chem") / "metrics.json").read_text())
    assert m == {k: v for k, v in res.items() if k not in ("status", "skipped")}
    assert m["n"] == 4 and m["limit"] == 4
    assert m["decoding"] == {"mode": "greedy", "repetition_penalty": 1.0}
    assert m["model"]["name_or_path"] == str(tiny_model) and m["adapter"] is None
    assert m["dataset_version"].startswith("sha256:") and "git_commit" in m
    assert {"precision", "recall", "f1", "parse_failures"} <= set(m)


def test_missing_eval_file(tiny_model, tmp_path):
    from taiyi_core.evaluate.io import EvalDataError

    run = RunDir(tmp_path / "r")
    with pytest.raises(EvalDataError, match=r"hoc.*data/eval/hoc.jsonl not found"):
        evaluate_dataset(run, make_preset(tiny_model), "hoc")
    assert evaluate_dataset(run, make_preset(tiny_model, missing="skip"), "hoc")["status"] == "skipped"
