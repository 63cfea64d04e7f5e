"""Assistant-only loss, preview and one training step on every real model kit (../shared/models).

Expectations are computed independently of the encoder: each assistant content tokenised on its
own, followed by the kit's end-of-turn token, must be exactly the labelled runs, in order; every
other position is -100; and the input ids are exactly what the real template's own
``apply_chat_template(tokenize=True)`` produces.
"""

from __future__ import annotations

import json
import math

import pytest
import yaml
from conftest import save_sft
from transformers import AutoTokenizer
from typer.testing import CliRunner

from taiyi_core.config import load_preset
from taiyi_core.rundir import RunDir
from taiyi_core.train.chat_format import IGNORE, make_encoder
from taiyi_core.train.config import train_settings
from taiyi_core.train.preview import TRAINED_STYLE, highlighted, runs
from tests.kits import NATIVE_KITS, V1_KITS, chat_tokenizer_dir, localize_preset, tiny_kit  # noqa: F401

# The token that closes an assistant turn in each kit's template.
END_OF_TURN = {
    "qwen2.5-7b": "<|im_end|>",
    "qwen2.5-7b-instruct": "<|im_end|>",
    "qwen3-8b": "<|im_end|>",
    "llama-3.1-8b-instruct": "<|eot_id|>",
}
# The preset each kit trains with (kits without a preset of their own: the same recipe, own template).
KIT_PRESET = {
    "qwen2.5-7b": "taiyi-qwen25",
    "qwen3-8b": "taiyi-qwen3",
    "qwen2.5-7b-instruct": "taiyi-qwen25",
    "llama-3.1-8b-instruct": "taiyi-qwen25",
    "qwen-7b": "taiyi1",  # converted to native Qwen2 (`taiyi model convert`)
    "qwen-7b-2023-09": "taiyi1",  # the revision Taiyi-1 was trained from
}
PRESET_KITS = {"taiyi-qwen25": "qwen2.5-7b", "taiyi-qwen3": "qwen3-8b", "taiyi1": "qwen-7b"}
EOD = "<|endoftext|>"  # taiyi1's separator; it closes each assistant turn


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


CONVERSATIONS = [
    [  # two turns, English then Chinese, no system message
        user("Extract the chemical entities: Naloxone reverses the effect of clonidine."),
        assistant("chemical: Naloxone; clonidine"),
        user("请识别以下文本中的疾病：患者有糖尿病和高血压。"),
        assistant("疾病：糖尿病; 高血压"),
    ],
    [  # a system message, three turns, a multi-line answer
        {"role": "system", "content": "You are a biomedical annotator. 请用中文或英文回答。"},
        user("Find relations of drug pairs: Mitotane with warfarin and coumarin."),
        assistant("ADVISE: [Mitotane, coumarin]\nMECHANISM: [Mitotane, warfarin]"),
        user("是否存在相互作用？"),
        assistant("是的，存在相互作用。"),
        user("Thanks."),
        assistant("You're welcome. 不客气。"),
    ],
    [  # answers that also occur in the user turn and in the template's role header
        user("Which role do you play here? Answer with one word, e.g. assistant or aspirin."),
        assistant("assistant"),
        user("Repeat exactly: aspirin"),
        assistant("aspirin"),
    ],
    [  # spaces a template may trim (Llama-3.1), and an untrimmed form that occurs in a later turn
        user("Extract: aspirin and breast"),
        assistant("aspirin and breast "),
        user("Why aspirin and breast cancer?"),
        assistant(" Because both were named. "),
    ],
]
# How a kit's template renders an assistant content (Llama-3.1 trims it; the Qwen templates keep it).
RENDERED = {"llama-3.1-8b-instruct": str.strip}


@pytest.fixture(scope="module", params=NATIVE_KITS)
def kit(request):
    name = request.param
    return name, AutoTokenizer.from_pretrained(chat_tokenizer_dir(name))


def expected_runs(tok, kit_name, messages):
    eot = tok.convert_tokens_to_ids(END_OF_TURN[kit_name])
    rendered = RENDERED.get(kit_name, str)
    return [
        tok(rendered(m["content"]), add_special_tokens=False)["input_ids"] + [eot]
        for m in messages
        if m["role"] == "assistant"
    ]


def template_ids(tok, messages):
    out = tok.apply_chat_template(messages, tokenize=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
def test_labels_are_exactly_assistant_contents_and_end_of_turn(kit, conv):
    name, tok = kit
    messages = CONVERSATIONS[conv]
    enc = make_encoder(tok, "chat_template", 4096)(messages, f"conv{conv}")
    assert enc.input_ids == template_ids(tok, messages)
    trained = [ids for is_trained, ids in runs(enc.input_ids, enc.labels) if is_trained]
    assert trained == expected_runs(tok, name, messages)
    assert all(lab in (IGNORE, tid) for tid, lab in zip(enc.input_ids, enc.labels, strict=True))
    eot = END_OF_TURN[name]
    rendered = RENDERED.get(name, str)
    assert [tok.decode(ids) for ids in trained] == [
        rendered(m["content"]) + eot for m in messages if m["role"] == "assistant"
    ]


def test_template_specifics_are_context_not_loss(kit):
    """What each real template adds around the turns, and that none of it is trained."""
    name, tok = kit
    messages = CONVERSATIONS[0]
    enc = make_encoder(tok, "chat_template", 4096)(messages, "conv0")
    context = "".join(tok.decode(ids) for trained, ids in runs(enc.input_ids, enc.labels) if not trained)
    text = tok.decode(enc.input_ids)
    if name.startswith("qwen2.5"):  # default system prompt when the sample has none
        assert text.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")
        assert "You are Qwen" in context
    if name == "qwen3-8b":  # an empty think block before the LAST assistant turn only
        assert text.count("<think>\n\n</think>\n\n") == 1
        assert text.index("<think>") > text.index("chemical: Naloxone")
        assert "<think>" in context and "<|im_start|>system" not in text
    if name == "llama-3.1-8b-instruct":  # BOS once, dated system header, <|eot_id|> ends turns
        assert enc.input_ids.count(tok.bos_token_id) == 1 and enc.input_ids[0] == tok.bos_token_id
        assert "Cutting Knowledge Date: December 2023" in context


def write_preset(path, preset):
    path.write_text(yaml.safe_dump(preset.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    return path


def test_preview_cli_json_and_text(tmp_path, tiny_kit):  # noqa: F811
    from taiyi_core.cli import app

    preset = localize_preset(load_preset("taiyi-qwen3"), tiny_kit)
    path = write_preset(tmp_path / "preset.yaml", preset)
    data = tmp_path / "conv.jsonl"
    data.write_text("".join(json.dumps({"messages": m}, ensure_ascii=False) + "\n" for m in CONVERSATIONS))
    tok = AutoTokenizer.from_pretrained(preset.model.name_or_path)

    result = CliRunner().invoke(
        app, ["train", "preview", "--preset", str(path), "--data", str(data), "--n", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["sample"] for r in records] == ["conv.jsonl:1", "conv.jsonl:2"]
    for rec, messages in zip(records, CONVERSATIONS, strict=False):
        assert rec["input_ids"] == template_ids(tok, messages)
        assert [ids for t, ids in runs(rec["input_ids"], rec["labels"]) if t] == expected_runs(
            tok, "qwen3-8b", messages
        )

    result = CliRunner().invoke(app, ["train", "preview", "--preset", str(path), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert f"{len(CONVERSATIONS)} conversation(s)" in result.stdout
    assert "疾病：糖尿病; 高血压<|im_end|>" in result.stdout
    text = highlighted(tok, records[0])
    assert [text.plain[s.start : s.end] for s in text.spans if s.style == TRAINED_STYLE] == [
        "chemical: Naloxone; clonidine<|im_end|>",
        "疾病：糖尿病; 高血压<|im_end|>",
    ]


def test_preview_names_the_bad_line(tmp_path, tiny_kit):  # noqa: F811
    from taiyi_core.cli import app

    path = write_preset(tmp_path / "p.yaml", localize_preset(load_preset("taiyi-qwen3"), tiny_kit))
    data = tmp_path / "conv.jsonl"
    bad = {"messages": [{"role": "assistant", "content": "x"}]}
    data.write_text(json.dumps({"messages": CONVERSATIONS[0]}) + "\n" + json.dumps(bad) + "\n")
    result = CliRunner().invoke(app, ["train", "preview", "--preset", str(path), "--data", str(data)])
    assert result.exit_code == 2
    assert "sample conv.jsonl:2: messages[0].role is 'assistant', expected 'user'" in result.output


def one_step(preset):
    """The preset's recipe as is (NF4, paged AdamW, packing, ...) but one small step on CPU."""
    train = {
        **(preset.train if isinstance(preset.train, dict) else preset.train.model_dump()),
        "per_device_batch": 2,
        "grad_accum": 1,
        "max_length": 256,
        "logging_steps": 1,
        "stages": {1: {"epochs": 1, "max_steps": 1}},
    }
    return type(preset).model_validate({**preset.model_dump(), "train": train})  # sections are typed


def without_system(messages):
    return [m for m in messages if m["role"] != "system"]


def sft_rows(fmt="chat_template"):
    convs = CONVERSATIONS if fmt == "chat_template" else [without_system(m) for m in CONVERSATIONS]
    return [{"id": f"kit-{i}", "messages": m} for i, m in enumerate(convs * 2)]


@pytest.fixture(scope="module")
def converted_tokenizer(tiny_kit):  # noqa: F811
    """The converted Qwen-v1 kits' tokenizers, loaded once (a 151k-rank tokenizer.json takes seconds)."""
    loaded = {}

    def get(name):
        if name not in loaded:
            loaded[name] = AutoTokenizer.from_pretrained(tiny_kit(name))
        return loaded[name]

    return get


@pytest.mark.parametrize("name", tuple(V1_KITS))
@pytest.mark.parametrize("conv", range(len(CONVERSATIONS)))
def test_taiyi1_labels_on_converted_qwen_v1(converted_tokenizer, name, conv):
    """Firefly's <eod>u<eod>a<eod> with the converted fast tokenizer: each answer + its <eod> only."""
    tok = converted_tokenizer(name)
    messages = without_system(CONVERSATIONS[conv])
    enc = make_encoder(tok, "taiyi1", 4096)(messages, f"conv{conv}")
    eod = tok.convert_tokens_to_ids(EOD)
    assert eod == 151643
    want_ids = [eod]
    for m in messages:
        want_ids += tok(m["content"], add_special_tokens=False)["input_ids"] + [eod]
    assert enc.input_ids == want_ids
    trained = [ids for t, ids in runs(enc.input_ids, enc.labels) if t]
    assert trained == [
        tok(m["content"], add_special_tokens=False)["input_ids"] + [eod]
        for m in messages
        if m["role"] == "assistant"
    ]


@pytest.mark.parametrize("name", NATIVE_KITS + tuple(V1_KITS))
def test_one_training_step_on_each_kit(tmp_path, tiny_kit, name, converted_tokenizer):  # noqa: F811
    """Every kit trains one step through the CLI (`taiyi train`): its preset's own, or the same recipe."""
    from taiyi_core.cli import app

    preset = load_preset(KIT_PRESET[name])
    own = PRESET_KITS.get(preset.name) == name
    if own:
        preset = localize_preset(preset, tiny_kit)  # the preset's own model and tokenizer
    else:  # the same recipe on this kit's model with its own template
        model = preset.model.model_copy(update={"name_or_path": str(tiny_kit(name)), "tokenizer": None})
        preset = preset.model_copy(update={"model": model})
    preset = one_step(preset)
    settings = train_settings(preset)
    fmt = settings.conversation_format
    run = RunDir(tmp_path / "run").ensure()
    save_sft(run.sft(1), sft_rows(fmt))
    path = write_preset(tmp_path / "preset.yaml", preset)
    result = CliRunner().invoke(
        app, ["train", "--run", str(run.root), "--stage", "1", "--preset", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{\n") :])  # after the Trainer's log lines
    assert summary["status"] == "done" and summary["global_step"] == 1
    assert math.isfinite(summary["train_loss"]) and summary["train_loss"] > 0
    assert summary["effective"]["packing"] is settings.packing is True
    if name in V1_KITS:
        tok = converted_tokenizer(name)
    else:
        tok = AutoTokenizer.from_pretrained(preset.model.tokenizer or preset.model.name_or_path)
    if fmt == "taiyi1":
        answers = [m["content"] for c in CONVERSATIONS for m in c if m["role"] == "assistant"]
        want = sum(len(tok(a, add_special_tokens=False)["input_ids"]) + 1 for a in answers) * 2
    else:
        want = sum(len(ids) for m in CONVERSATIONS for ids in expected_runs(tok, name, m)) * 2
    assert summary["data"]["trained_tokens"] == want
    assert (run.train(1) / "adapter" / "adapter_model.safetensors").is_file()
