"""build_tiny_from_kit: the real config shrunk, the real tokenizer, random weights, reloadable offline."""

from __future__ import annotations

import json

import pytest

from tests.kits import NATIVE_KITS, kit_dir, tiny_kit  # noqa: F401


@pytest.mark.parametrize("name", NATIVE_KITS)
def test_tiny_model_keeps_real_ids_and_tokenizer(tiny_kit, name):  # noqa: F811
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    real = json.loads((kit_dir(name) / "config.json").read_text())
    path = tiny_kit(name)
    model = AutoModelForCausalLM.from_pretrained(path)
    cfg = model.config
    assert type(model).__name__ == real["architectures"][0]
    assert cfg.vocab_size == real["vocab_size"]
    for key in ("bos_token_id", "eos_token_id", "tie_word_embeddings", "model_type"):
        assert getattr(cfg, key) == real[key], key
    assert cfg.num_hidden_layers == 2 and cfg.hidden_size == 32
    assert cfg.num_key_value_heads < cfg.num_attention_heads  # grouped-query attention kept
    # The real tokenizer: same ids as the kit's own tokenizer on a bilingual text.
    text = "Naloxone reverses clonidine. 患者出现发热。"
    assert AutoTokenizer.from_pretrained(path)(text)["input_ids"] == AutoTokenizer.from_pretrained(
        kit_dir(name)
    )(text)["input_ids"]
    if (kit_dir(name) / "generation_config.json").is_file():
        real_gen = json.loads((kit_dir(name) / "generation_config.json").read_text())
        assert model.generation_config.eos_token_id == real_gen["eos_token_id"]
    with torch.no_grad():
        logits = model(torch.tensor([[1, 2, 3]])).logits
    assert logits.shape == (1, 3, real["vocab_size"]) and torch.isfinite(logits).all()


def test_remote_code_kit_is_refused(tmp_path):
    from taiyi_core.train.tiny import build_tiny_from_kit

    with pytest.raises(ValueError, match="taiyi model convert"):
        build_tiny_from_kit(kit_dir("qwen-7b"), tmp_path / "x")
