"""`taiyi eval run --model/--adapter` on every kit's real-shaped tiny model, through the CLI.

Each kit (../shared/models: real config shrunk, real tokenizer and generation config, random
weights) evaluates one set prepared from the demo raw files: predictions are written, the prompt
format is the one its files call for, the stop ids are its generation config's eos ids (read here
from the kit's own file), and metrics.json records both.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taiyi_core.cli import app
from taiyi_core.evaluate.backends import PromptFormatter
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.prompting import resolve_prompting, token_id
from taiyi_core.evaluate.weights import Weights
from tests.kits import NATIVE_KITS, V1_KITS, kit_dir, tiny_kit  # noqa: F401

DEMO_RAW = Path(__file__).resolve().parents[1] / "fixtures" / "demo_raw"
EVAL_SET = "pubmed_qa"  # from demo_raw/pubmed_qa: a yes/no set, short answers
runner = CliRunner()

EXPECTED_FORMAT = {
    "qwen2.5-7b": "raw",  # the base kit has no tokenizer_config.json, so no chat template
    "qwen2.5-7b-instruct": "chat_template",
    "qwen3-8b": "chat_template",
    "llama-3.1-8b-instruct": "chat_template",
    "qwen-7b": "taiyi1",  # converted with `taiyi model convert`: Taiyi's format
    "qwen-7b-2023-09": "taiyi1",  # the revision Taiyi-1 was trained from, converted likewise
}
needs_tiktoken = pytest.mark.skipif(
    importlib.util.find_spec("tiktoken") is None, reason="tiktoken not installed (test extra)"
)


def kit_eos_ids(name: str) -> list[int]:
    """The eos ids in the kit's own files: generation_config.json, else config.json."""
    folder = kit_dir(name)
    for file in ("generation_config.json", "config.json"):
        if (folder / file).is_file():
            eos = json.loads((folder / file).read_text(encoding="utf-8")).get("eos_token_id")
            if eos is not None:
                return eos if isinstance(eos, list) else [eos]
    raise AssertionError(f"kit {name}: no eos_token_id")


def eval_cli(runs_root: Path, *args: str) -> tuple[int, str]:
    argv = ["eval", "run", *args, "--limit", "2", "--datasets", EVAL_SET, "--raw-dir", str(DEMO_RAW)]
    result = runner.invoke(app, [*argv, "--max-new-tokens", "3", "--batch-size", "2"])
    return result.exit_code, result.output


def check_outputs(folder: Path, fmt: str, stop_ids: list[int]) -> dict:
    preds = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 2 and all(p["new_tokens"] <= 3 for p in preds)
    gen = json.loads((folder / "generation.json").read_text())
    assert gen["prompt_format"] == fmt
    assert gen["stop_ids"] == stop_ids
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n"] == 2 and metrics["prompt_format"] == fmt and metrics["stop_ids"] == stop_ids
    return gen


@pytest.mark.parametrize("name", [*NATIVE_KITS, *V1_KITS])
def test_every_kit_evaluates_one_set_through_the_cli(name, tiny_kit, runs_root):  # noqa: F811
    """Qwen-7B v1 kits are evaluated as `taiyi model convert` leaves them (tiny_kit converts them)."""
    if name in V1_KITS and importlib.util.find_spec("tiktoken") is None:
        pytest.skip("tiktoken not installed (test extra): the converter reads qwen.tiktoken")
    model = tiny_kit(name)
    code, out = eval_cli(runs_root, "--model", str(model))
    assert code == 0, out
    fmt = EXPECTED_FORMAT[name]
    assert f"prompt format {fmt}" in out  # printed
    folder = runs_root / f"eval-{model.name}" / "eval" / EVAL_SET
    gen = check_outputs(folder, fmt, kit_eos_ids(name))
    assert gen["generation_eos_ids"] == kit_eos_ids(name)
    assert gen["model"]["name_or_path"] == str(model) and gen["adapter"] is None
    eval_file = runs_root / f"eval-{model.name}" / "data" / "eval" / f"{EVAL_SET}.jsonl"
    rows = [json.loads(line) for line in eval_file.read_text().splitlines()]
    assert rows and all(r["target"].strip() and r["prompt"].strip() for r in rows)  # prepared from raw


def test_prompt_format_override_is_recorded(tiny_kit, runs_root):  # noqa: F811
    model = tiny_kit("qwen2.5-7b-instruct")
    code, out = eval_cli(runs_root, "--model", str(model), "--prompt-format", "raw", "--run", "forced-raw")
    assert code == 0, out
    gen = check_outputs(
        runs_root / "forced-raw" / "eval" / EVAL_SET, "raw", kit_eos_ids("qwen2.5-7b-instruct")
    )
    assert gen["prompt_format_reason"] == "set by --prompt-format"


def test_set_overrides_in_model_mode_are_validated_applied_and_recorded(tiny_kit, runs_root):  # noqa: F811
    """`--set` works with --model as in the run mode: checked, applied, and kept in the frozen preset."""
    from taiyi_core.config import load_preset

    model = str(tiny_kit("qwen3-8b"))
    for bad, says in (
        ("eval.max_prompt_token=64", "unknown key 'eval.max_prompt_token'"),
        ("eval.max_prompt_tokens=4", "key 'eval.max_prompt_tokens'"),  # below its minimum (8)
        ("model.revision=main", "--set model.revision=main: with --model the model is set by --model"),
    ):
        code, out = eval_cli(runs_root, "--model", model, "--run", "sets", "--set", bad)
        errors = [ln for ln in out.splitlines() if ln.startswith("error:")]
        assert code == 2 and len(errors) == 1 and says in errors[0], out
        assert "Traceback" not in out and list(runs_root.iterdir()) == []  # refused before any write
    sets = ["eval.max_prompt_tokens=64", "eval.stop_tokens=[Answer]"]
    flags = [a for s in sets for a in ("--set", s)]
    code, out = eval_cli(runs_root, "--model", model, "--run", "sets", *flags)
    assert code == 0, out
    from transformers import AutoTokenizer

    answer_id = AutoTokenizer.from_pretrained(model).convert_tokens_to_ids("Answer")
    stops = [*kit_eos_ids("qwen3-8b"), answer_id]  # the extra stop token joins the stop ids
    gen = check_outputs(runs_root / "sets" / "eval" / EVAL_SET, "chat_template", stops)
    assert gen["max_prompt_tokens"] == 64 and gen["stop_tokens"] == ["Answer"]  # applied
    frozen = runs_root / "sets" / "preset.yaml"
    assert f"# overrides: {' '.join(sets)}" in frozen.read_text()  # recorded, as the run mode does
    again = load_preset(frozen)
    assert again.eval.max_prompt_tokens == 64 and again.model.name_or_path == model


def test_adapter_alone_evaluates_on_its_base(tiny_kit, runs_root, tmp_path):  # noqa: F811
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = tiny_kit("qwen3-8b")
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora).save_pretrained(tmp_path / "adapter")
    assert json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"]
    code, out = eval_cli(runs_root, "--adapter", str(tmp_path / "adapter"), "--run", "with-adapter")
    assert code == 0, out
    gen = check_outputs(
        runs_root / "with-adapter" / "eval" / EVAL_SET, "chat_template", kit_eos_ids("qwen3-8b")
    )
    assert gen["model"]["name_or_path"] == str(base)  # the base named in adapter_config.json
    assert gen["adapter"]["kind"] == "adapter" and gen["adapter"]["path"] == str(tmp_path / "adapter")
    assert gen["adapter"]["hash"].startswith("sha256:")


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("taiyi-test-org/not-a-cached-model", "hf download taiyi-test-org/not-a-cached-model"),
        ("no/such/folder", "no such folder, nor a hub id"),
    ],
)
def test_unavailable_model_is_one_line_with_what_to_do(runs_root, model, says):
    result = runner.invoke(app, ["eval", "run", "--model", model, "--limit", "1"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("error:") and says in " ".join(result.output.split())


def test_remote_code_model_points_to_convert(runs_root):
    result = runner.invoke(app, ["eval", "run", "--model", str(kit_dir("qwen-7b")), "--limit", "1"])
    assert result.exit_code == 2 and "taiyi model convert" in result.output
    assert "Traceback" not in result.output


def test_missing_raw_files_name_the_set_and_how_to_get_them(tiny_kit, runs_root, tmp_path):  # noqa: F811
    argv = ["eval", "run", "--model", str(tiny_kit("qwen3-8b")), "--datasets", EVAL_SET]
    result = runner.invoke(app, [*argv, "--raw-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert EVAL_SET in result.output and "no raw files under" in result.output


@needs_tiktoken
def test_qwen_tokenizer_without_special_tokens_in_vocab_is_accepted():
    """QWenTokenizer (the real remote code) keeps special tokens out of get_vocab(); taiyi1 works."""
    from transformers import AutoTokenizer

    kit = kit_dir("qwen-7b")
    tok = AutoTokenizer.from_pretrained(kit, trust_remote_code=True)
    assert type(tok).__name__ == "QWenTokenizer"
    assert "<|endoftext|>" not in tok.get_vocab()  # the trap the old check fell into
    assert token_id(tok, "<|endoftext|>") == 151643 and token_id(tok, "<|im_end|>") == 151645
    assert token_id(tok, "<|not-a-token|>") is None
    ids = PromptFormatter(tok, "taiyi1", 64)("Is aspirin an NSAID?")
    assert ids[0] == ids[-1] == 151643 and len(ids) > 2
    weights = Weights(str(kit), str(kit), None, "base", trust_remote_code=True)
    prompting = resolve_prompting(weights, EvalSettings(), tok)
    assert prompting.prompt_format == "taiyi1" and "model_type 'qwen'" in prompting.reason
    assert list(prompting.stop_ids) == kit_eos_ids("qwen-7b") == [151643]


def test_unknown_tokens_are_not_taken_for_unk():
    """Qwen2.5's base tokenizer maps any unknown token to its unk (<|endoftext|>), not None."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(kit_dir("qwen2.5-7b"))
    assert tok.convert_tokens_to_ids("<|im_end|>") == tok.unk_token_id  # what a naive lookup gets
    assert token_id(tok, "<|im_end|>") is None
    assert token_id(tok, "<|endoftext|>") == 151643


def test_eval_set_prepared_from_a_real_release_sample(tiny_kit, runs_root, tmp_path, shared_samples):  # noqa: F811
    """The real BC5CDR PubTator cut (shared/samples), laid out as its test split, gives bc5cdr_chem."""
    raw = tmp_path / "raw" / "bc5cdr"
    raw.mkdir(parents=True)
    # a copy: the data step refuses symlinks out of the raw folder unless TAIYI_RAW_ALLOW names their root
    shutil.copyfile(shared_samples / "bc5cdr" / "CDR_sample.PubTator.txt", raw / "CDR_TestSet.PubTator.txt")
    model = tiny_kit("llama-3.1-8b-instruct")
    argv = ["eval", "run", "--model", str(model), "--datasets", "bc5cdr_chem", "--limit", "2"]
    result = runner.invoke(
        app, [*argv, "--raw-dir", str(raw.parent), "--max-new-tokens", "3", "--run", "real"]
    )
    assert result.exit_code == 0, result.output
    rows = [
        json.loads(x)
        for x in (runs_root / "real" / "data" / "eval" / "bc5cdr_chem.jsonl").read_text().splitlines()
    ]
    assert len(rows) > 2 and len({r["id"] for r in rows}) == len(rows)
    assert all(r["task"] == "ner" and r["input_text"] in r["prompt"] for r in rows)
    assert any(r["target"] != "None" for r in rows)  # gold chemicals came through from the release
    check_outputs(
        runs_root / "real" / "eval" / "bc5cdr_chem", "chat_template", kit_eos_ids("llama-3.1-8b-instruct")
    )


@pytest.mark.parametrize("name", ["qwen2.5-7b-instruct", "qwen3-8b", "llama-3.1-8b-instruct"])
def test_chat_prompt_is_what_training_sees_before_the_answer(name):
    """The eval prompt's ids equal the no-loss prefix of the training encoding (Qwen3: empty think block)."""
    from transformers import AutoTokenizer

    from taiyi_core.train.chat_format import IGNORE, encode_chat_template

    tok = AutoTokenizer.from_pretrained(kit_dir(name))
    prompt = "Extract the chemicals: Cisplatin caused nephrotoxicity.\n请识别实体。"
    enc = encode_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": "chemical: Cisplatin"}],
        tok,
        512,
    )
    first = next(i for i, lab in enumerate(enc.labels) if lab != IGNORE)
    assert PromptFormatter(tok, "chat_template", 512)(prompt) == enc.input_ids[:first]


def test_hub_id_is_read_from_the_hf_cache_offline(tiny_kit, runs_root, tmp_path, monkeypatch):  # noqa: F811
    """A hub id resolves through the Hugging Face cache (laid out as `hf download` leaves it), offline."""
    import shutil

    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf-cache" / "models--taiyi-test--tiny-qwen3"
    shutil.copytree(tiny_kit("qwen3-8b"), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # read at each call
    assert constants.HF_HUB_OFFLINE
    code, out = eval_cli(runs_root, "--model", "taiyi-test/tiny-qwen3")
    assert code == 0, out
    folder = runs_root / "eval-taiyi-test--tiny-qwen3" / "eval" / EVAL_SET
    gen = check_outputs(folder, "chat_template", kit_eos_ids("qwen3-8b"))
    assert gen["model"]["name_or_path"] == "taiyi-test/tiny-qwen3"


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("qwen2.5-7b-instruct", "<|im_end|>"),
        ("qwen3-8b", "<|im_end|>"),
        ("llama-3.1-8b-instruct", "<|eot_id|>"),
    ],
)
def test_end_of_turn_token_is_read_from_the_template(name, token):
    from transformers import AutoTokenizer

    from taiyi_core.evaluate.prompting import end_of_turn_token

    assert end_of_turn_token(AutoTokenizer.from_pretrained(kit_dir(name))) == token


def test_base_model_with_a_chat_tokenizer_also_stops_at_the_end_of_turn(tiny_kit):  # noqa: F811
    """taiyi-qwen25's case: Qwen2.5-7B base (eos <|endoftext|> only) trained with the Instruct template."""
    base = tiny_kit("qwen2.5-7b")
    weights = Weights(str(base), str(kit_dir("qwen2.5-7b-instruct")), None, "base")
    prompting = resolve_prompting(weights, EvalSettings())
    assert prompting.prompt_format == "chat_template"
    assert list(prompting.eos_ids) == kit_eos_ids("qwen2.5-7b") == [151643]
    assert list(prompting.stop_ids) == [151643, 151645]  # + <|im_end|>, which closes each answer
