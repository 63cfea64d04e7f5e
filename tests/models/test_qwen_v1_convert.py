"""`taiyi model convert`: Qwen-7B (v1) -> native Qwen2, parity on the real Qwen-7B files, both revisions.

Inputs are the real model kits (``../shared/models/qwen-7b`` at HEAD, ``qwen-7b-2023-09`` as when
Taiyi-1 was trained; the latter holds only the files that differ, the rest comes from HEAD):
``build_tiny_qwen_v1`` writes the real config shrunk, the real ``qwen.tiktoken`` / tokenizer /
remote code, and random weights under the real v1 names. That is converted, then compared with:

- ids: v1's OWN tokenizer code (``tokenization_qwen.py`` from the kit: its tiktoken ``Encoding``
  with v1's PAT_STR and 208 special tokens, and its ``QWenTokenizer``, which NFC-normalises first)
  against the converted fast tokenizer reloaded with ``AutoTokenizer`` from DST (it comes back as
  ``Qwen2Tokenizer``, which rebuilds the pre-tokenizer: the check is after that reload), on
  hand-written bilingual edge cases, the real sample cuts' lines, and strings glued from random
  vocabulary entries (merge orders natural text seldom reaches);
- logits: v1's OWN ``modeling_qwen.py`` (how it is run under transformers 5, and every shim, is
  written down in ``tests/models/qwen_v1_reference.py``) against ``Qwen2ForCausalLM`` on DST,
  fp32, CPU, weights ~ N(0, 0.2) so logits have a realistic spread (std ~1).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest
from typer.testing import CliRunner

from tests.kits import KITS_DIR, kit_dir

pytest.importorskip("tiktoken", reason="the v1 reference tokenizer needs tiktoken (test extra)")
pytest.importorskip("einops", reason="the v1 reference model needs einops (test extra)")

# revision kit -> the kit holding the files it does not (None: complete).
REVISIONS = {"qwen-7b": None, "qwen-7b-2023-09": "qwen-7b"}
MAX_LOGIT_DIFF = 1e-4
PARITY_STD = 0.2

# Hand-written: the cases a byte-level BPE converter gets wrong first.
CORPUS = (
    "Naloxone reverses the antihypertensive effect of clonidine in hypertensive patients.",
    "Lidocaine-induced cardiac asystole; BRCA1/BRCA2 mutations (p.Arg1699Trp) raise risk 5-fold.",
    "患者出现发热、咳嗽、呼吸困难等症状，诊断为社区获得性肺炎。",
    "糖尿病是一种慢性代谢性疾病。二甲双胍（metformin）500mg bid，HbA1c 7.5%→6.8%。",
    "实体类型：疾病，药物，症状\n疾病：糖尿病; 高血压\n药物：二甲双胍; 阿司匹林",
    "   leading spaces, trailing spaces   ",
    "tabs\tand\t\tnewlines\n\n\n  \n\t\nruns\r\n\r\nCRLF",
    "0 12 345 6789 3.14159 1e-10 2023-09-25 12:30:00 ¥1,234.56 ½ ² ⅓ ١٢٣ 一二三",
    "punctuation!?…—–‘’“”«»【】《》〈〉、。，；：？！（）［］｛｝@#$%^&*_+=|\\/<>~`",
    "emoji 😀👍🏽🧬💊🫀 family 👨‍👩‍👧‍👦 flags 🇨🇳🇺🇸 keycap 1️⃣",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n",
    "<|endoftext|>问题<|endoftext|>回答<|endoftext|><|extra_0|><|extra_204|>",
    "specials glued:abc<|im_end|>def<|endoftext|>, partial <|im_end| and <|extra_205|> stay text",
    "I'm can't we'll they've she'd IT'S DON'T",
    "日本語のテキストと한국어 텍스트, русский текст, العربية, ελληνικά, हिन्दी",
    "combining: cafe\u0301 e\u0301\u0301 Å A\u030a \ufb01 ﬁ ＡＢＣ１２３",  # non-NFC: v1 NFC-normalises
    "code: def f(x):\n    return x ** 2  # square\n\n\tif x >= 0 and y != 1: pass",
    "\u200b zero\u200dwidth \ufeff bom \u00a0nbsp \u3000ideographic space",
    "a" * 300 + " " + "哈" * 200 + " " + "!" * 50,
    "",
)


def _real_sample_lines(limit_per_file: int = 60) -> list[str]:
    """Lines of the real dataset cuts (English and Chinese biomedical text), when they are present."""
    root = KITS_DIR.parent / "samples"
    lines: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".txt", ".json", ".jsonl", ".tsv", ".csv", ".xml"}:
            with path.open(encoding="utf-8", errors="replace") as fh:
                for _, line in zip(range(limit_per_file), fh, strict=False):
                    lines.append(line)
    return lines


def _random_vocabulary_strings(tiktoken_file, n: int = 5_000, seed: int = 0) -> list[str]:
    """Strings glued from 2-6 random vocabulary entries: merge orders natural text seldom reaches."""
    import random

    from taiyi_core.models.qwen_v1_tokenizer import load_ranks

    pieces, rng = list(load_ranks(tiktoken_file)), random.Random(seed)
    glued = (b"".join(rng.choice(pieces) for _ in range(rng.randint(2, 6))) for _ in range(n))
    return [s for s in (g.decode("utf-8", errors="ignore") for g in glued) if s]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """revision -> (tiny v1 folder, converted native folder), built once per module."""
    from taiyi_core.models.qwen_v1_convert import convert
    from taiyi_core.models.qwen_v1_tiny import build_tiny_qwen_v1

    built: dict[str, tuple] = {}

    def get(name: str):
        if name not in built:
            base = REVISIONS[name]
            root = tmp_path_factory.mktemp(name)
            v1 = build_tiny_qwen_v1(
                kit_dir(name), root / "v1", base_kit=kit_dir(base) if base else None, init_std=PARITY_STD
            )
            built[name] = (v1, root / "native", convert(v1, root / "native"))
        return built[name]

    return get


@pytest.mark.parametrize("name", REVISIONS)
def test_token_ids_equal_v1_tiktoken(converted, name):
    from transformers import AutoTokenizer

    from tests.models.qwen_v1_reference import load_reference_tokenizer

    v1_dir, native, _ = converted(name)
    fast = AutoTokenizer.from_pretrained(native)
    reference = load_reference_tokenizer(v1_dir)  # v1's QWenTokenizer (NFC + tiktoken)
    encoding = reference.tokenizer  # v1's tiktoken Encoding over the real qwen.tiktoken
    natural = list(CORPUS) + _real_sample_lines()
    assert len(natural) > 500, "the real samples should add hundreds of lines"
    texts = natural + _random_vocabulary_strings(v1_dir / "qwen.tiktoken")
    ours = fast(texts, add_special_tokens=False)["input_ids"]
    n_tokens = 0
    for text, ids in zip(texts, ours, strict=True):
        nfc = unicodedata.normalize("NFC", text)
        assert ids == encoding.encode(nfc, allowed_special="all"), text[:80]
        assert fast.decode(ids) == nfc == encoding.decode(ids)
        n_tokens += len(ids)
    for text in CORPUS:  # the whole v1 tokenizer class, NFC included
        assert fast(text, add_special_tokens=False)["input_ids"] == reference(text)["input_ids"], text[:80]
    assert n_tokens > 100_000
    # Non-NFC text: ids follow v1's QWenTokenizer (NFC first), not raw tiktoken on the raw string.
    raw = "cafe\u0301"
    assert fast(raw)["input_ids"] == encoding.encode("café") != encoding.encode(raw)


@pytest.mark.parametrize("name", REVISIONS)
def test_special_tokens_keep_v1_ids(converted, name):
    from transformers import AutoTokenizer

    from taiyi_core.models.qwen_v1_tokenizer import SPECIAL_TOKENS

    _, native, _ = converted(name)
    fast = AutoTokenizer.from_pretrained(native)
    ids = fast.convert_tokens_to_ids(list(SPECIAL_TOKENS))
    assert ids == list(range(151643, 151643 + 208))
    named = fast.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    assert named == [151643, 151644, 151645]
    assert fast.get_vocab()["<|extra_204|>"] == 151850 and len(fast) == 151851
    assert fast.eos_token_id == fast.pad_token_id == 151643 and fast.bos_token_id is None
    assert fast("<|im_end|>")["input_ids"] == [151645]  # nothing prepended or appended
    assert fast.decode([151644, 872, 151645], skip_special_tokens=True) == fast.decode([872])
    assert fast.chat_template is None  # Qwen-7B base ships none, so none is invented


@pytest.mark.parametrize("name", REVISIONS)
def test_logits_equal_v1_implementation(converted, name, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.models.qwen_v1_reference import load_reference_model

    v1_dir, native, _ = converted(name)
    tok = AutoTokenizer.from_pretrained(native)
    text = "<|endoftext|>请识别以下文本中的实体：Naloxone reverses clonidine hypotension.<|endoftext|>"
    real = tok(text)["input_ids"]
    rand = torch.randint(0, 151851, (len(real),), generator=torch.Generator().manual_seed(0)).tolist()
    ids = torch.tensor([real, rand])
    reference = load_reference_model(v1_dir)
    with torch.no_grad():
        expected = reference(ids).logits
        assert expected.shape == (2, len(real), 151936) and expected.std() > 0.5  # not trivially small
        diffs = {}
        for impl in ("sdpa", "eager"):
            model = AutoModelForCausalLM.from_pretrained(
                native, dtype=torch.float32, attn_implementation=impl
            )
            assert type(model).__name__ == "Qwen2ForCausalLM"
            diffs[impl] = (model.eval()(ids).logits - expected).abs().max().item()
        # The comparison can fail: Qwen's w1/w2 swapped (a plausible mapping slip) is far off.
        layer = model.model.layers[0].mlp
        layer.gate_proj.weight, layer.up_proj.weight = layer.up_proj.weight, layer.gate_proj.weight
        swapped = (model(ids).logits - expected).abs().max().item()
    with capsys.disabled():
        shown = ", ".join(f"{impl} {d:.2e}" for impl, d in diffs.items())
        print(f"\n{name}: max |logit diff| {shown} (w1/w2 swapped: {swapped:.2f})")
    assert max(diffs.values()) <= MAX_LOGIT_DIFF
    assert swapped > 100 * MAX_LOGIT_DIFF


@pytest.mark.parametrize("name", REVISIONS)
def test_real_release_weights_are_exactly_the_expected_ones(name):
    """The real Qwen-7B weight index names every tensor the converter expects, and nothing else; at
    bf16 their shapes from the real config add up to the release's total_size byte for byte."""
    import math

    from taiyi_core.models.qwen_v1_weights import expected_shapes

    cfg = json.loads((kit_dir(name) / "config.json").read_text())
    index = json.loads((kit_dir("qwen-7b") / "model.safetensors.index.json").read_text())  # same at 2023-09
    shapes = expected_shapes(cfg)
    assert set(shapes) == set(index["weight_map"])
    assert sum(math.prod(s) for s in shapes.values()) * 2 == index["metadata"]["total_size"] == 15_442_649_088


def test_converted_record_accounts_for_every_field(converted):
    from taiyi_core.models.qwen_v1_convert import RECORD

    v1_dir, native, record = converted("qwen-7b")
    assert json.loads((native / RECORD).read_text()) == record
    v1 = json.loads((v1_dir / "config.json").read_text())
    assert set(record["config_fields"]) == set(v1)
    assert all(f["how"] != "?" for f in record["config_fields"].values())
    tiktoken_bytes = (kit_dir("qwen-7b") / "qwen.tiktoken").read_bytes()
    assert record["source_files_sha256"]["qwen.tiktoken"] == hashlib.sha256(tiktoken_bytes).hexdigest()
    cfg = json.loads((native / "config.json").read_text())
    assert cfg["model_type"] == "qwen2" and cfg["architectures"] == ["Qwen2ForCausalLM"]
    assert cfg["intermediate_size"] * 2 == v1["intermediate_size"]
    assert cfg["num_key_value_heads"] == cfg["num_attention_heads"] == v1["num_attention_heads"]
    assert cfg["max_position_embeddings"] == v1["seq_length"] == record["exact_up_to_tokens"]
    assert cfg["rope_parameters"]["rope_theta"] == v1["rotary_emb_base"]
    assert "auto_map" not in cfg and not list(native.glob("*.py"))  # no remote code left
    gen = json.loads((native / "generation_config.json").read_text())
    assert gen["eos_token_id"] == gen["pad_token_id"] == 151643 and gen["top_p"] == 0.8
    assert gen["top_k"] == 0 and gen["do_sample"] is True  # 0 = no top-k (not transformers' default 50)
    assert record["generation_config"]["dropped"]["chat_format"]["value"] == "raw"
    index = json.loads((native / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) == 2 and record["weights"]["tensors_out"] == 2 * 12 + 3
    assert (native / "LICENSE").read_bytes() == (kit_dir("qwen-7b") / "LICENSE").read_bytes()


def test_bin_checkpoint_converts_to_the_same_weights(converted, tmp_path):
    from safetensors.torch import load_file

    from taiyi_core.models.qwen_v1_convert import convert
    from taiyi_core.models.qwen_v1_tiny import build_tiny_qwen_v1

    _, native, _ = converted("qwen-7b")
    v1 = build_tiny_qwen_v1(kit_dir("qwen-7b"), tmp_path / "v1", init_std=PARITY_STD, weights_format="bin")
    convert(v1, tmp_path / "native")
    got = load_file(str(tmp_path / "native" / "model.safetensors"))
    want = {}
    for shard in native.glob("model-*.safetensors"):
        want.update(load_file(str(shard)))
    assert got.keys() == want.keys() and all((got[k] == want[k]).all() for k in want)


# --------------------------------------------------------------------------- errors


@pytest.fixture
def tiny_v1(tmp_path):
    from taiyi_core.models.qwen_v1_tiny import build_tiny_qwen_v1

    return build_tiny_qwen_v1(kit_dir("qwen-7b"), tmp_path / "v1")


def _convert(src, dst):
    from taiyi_core.models.qwen_v1_convert import convert

    return convert(src, dst)


def test_not_a_qwen_v1_folder_is_refused(tmp_path):
    from taiyi_core.models.qwen_v1_config import ConvertError

    with pytest.raises(ConvertError, match=r"qwen2.5-7b/config.json: model_type is 'qwen2', expected 'qwen'"):
        _convert(kit_dir("qwen2.5-7b"), tmp_path / "out")
    with pytest.raises(ConvertError, match="no config.json"):
        _convert(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_tiktoken_is_named(tiny_v1, tmp_path):
    from taiyi_core.models.qwen_v1_config import ConvertError

    (tiny_v1 / "qwen.tiktoken").unlink()
    with pytest.raises(ConvertError, match=r"qwen.tiktoken is missing"):
        _convert(tiny_v1, tmp_path / "out")


def test_unexpected_weight_names_are_listed(tiny_v1, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from taiyi_core.models.qwen_v1_config import ConvertError

    shard = tiny_v1 / "model-00001-of-00002.safetensors"
    state = load_file(str(shard))
    state["transformer.h.0.attn.rotary.extra"] = torch.zeros(2)
    state["transformer.visual.proj"] = torch.zeros(2)
    save_file(state, str(shard))
    with pytest.raises(ConvertError, match=r"unexpected Qwen-v1 weight names \['transformer.h.0.attn.rotary"):
        _convert(tiny_v1, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_shape_mismatch_and_missing_weights_are_named(tiny_v1, tmp_path):
    from taiyi_core.models.qwen_v1_config import ConvertError

    cfg = json.loads((tiny_v1 / "config.json").read_text())
    (tiny_v1 / "config.json").write_text(json.dumps({**cfg, "intermediate_size": 64}))
    expected = r"00002.safetensors: shape mismatch against config.json: .*w1.weight \(64, 32\) \(expected"
    with pytest.raises(ConvertError, match=expected):
        _convert(tiny_v1, tmp_path / "out")
    (tiny_v1 / "config.json").write_text(json.dumps({**cfg, "num_hidden_layers": 3}))
    with pytest.raises(ConvertError, match=r"weights missing for \['transformer.h.2"):
        _convert(tiny_v1, tmp_path / "out")


def test_unknown_or_unmappable_config_is_refused(tiny_v1, tmp_path):
    from taiyi_core.models.qwen_v1_config import ConvertError

    cfg = json.loads((tiny_v1 / "config.json").read_text())
    (tiny_v1 / "config.json").write_text(json.dumps({**cfg, "num_key_value_heads": 2}))
    with pytest.raises(ConvertError, match=r"unknown Qwen-v1 config keys \['num_key_value_heads'\]"):
        _convert(tiny_v1, tmp_path / "out")
    (tiny_v1 / "config.json").write_text(json.dumps({**cfg, "rotary_pct": 0.5}))
    with pytest.raises(ConvertError, match=r"rotary_pct is 0.5; only 1.0 maps onto Qwen2 exactly"):
        _convert(tiny_v1, tmp_path / "out")


def test_cli_converts_and_reports_errors(converted, tmp_path):
    from taiyi_core.cli import app

    v1_dir, _, _ = converted("qwen-7b")
    runner = CliRunner()
    ok = runner.invoke(app, ["model", "convert", str(v1_dir), str(tmp_path / "out"), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["weights"]["tensors_out"] == 27
    again = runner.invoke(app, ["model", "convert", str(v1_dir), str(tmp_path / "out")])
    assert again.exit_code == 2 and "exists and is not empty (pass --overwrite" in again.stderr
    bad = runner.invoke(app, ["model", "convert", str(kit_dir("qwen2.5-7b")), str(tmp_path / "x")])
    assert bad.exit_code == 2 and "expected 'qwen'" in bad.stderr


def test_merged_converted_model_keeps_its_lineage(converted, tmp_path):
    """`taiyi merge` on the converted base copies CONVERTED.json, so evaluation still prompts in taiyi1."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taiyi_core.config import ModelSpec
    from taiyi_core.evaluate.prompting import detect_format
    from taiyi_core.evaluate.weights import Weights
    from taiyi_core.models.qwen_v1_convert import RECORD
    from taiyi_core.train.merge import merge

    _, native, _ = converted("qwen-7b")
    lora = get_peft_model(
        AutoModelForCausalLM.from_pretrained(native), LoraConfig(r=2, target_modules="all-linear")
    )
    lora.save_pretrained(str(tmp_path / "adapter"))
    merge(ModelSpec(name_or_path=str(native)), tmp_path / "adapter", tmp_path / "merged", dtype="fp32")
    merged = tmp_path / "merged"
    assert (merged / RECORD).read_bytes() == (native / RECORD).read_bytes()
    tok = AutoTokenizer.from_pretrained(merged)
    fmt, why = detect_format(Weights(str(merged), str(merged), None, "merged"), tok)
    assert fmt == "taiyi1", why
