"""Evaluation wraps prompts exactly as training did, so a taiyi1-trained model sees its own format."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from taiyi_core.config import load_preset
from taiyi_core.evaluate.backends import PromptFormatter
from taiyi_core.evaluate.config import eval_settings
from taiyi_core.train.chat_format import IGNORE, encode_taiyi1


@pytest.mark.parametrize(
    "prompt", ["Extract the chemicals: Cisplatin caused nephrotoxicity.", "判断：头痛三天"]
)
def test_taiyi1_prompt_is_the_training_prefix(tiny_model: Path, prompt: str):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    eod = tok.convert_tokens_to_ids("<|endoftext|>")
    trained = encode_taiyi1(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": "x: y"}],
        tok,
        eod,
        max_length=512,
    )
    prefix = [i for i, lab in zip(trained.input_ids, trained.labels, strict=True) if lab == IGNORE]
    assert PromptFormatter(tok, "taiyi1", 512)(prompt) == prefix


def test_auto_format_follows_the_preset():
    assert eval_settings(load_preset("demo"), "demo").prompt_format == "taiyi1"
    assert eval_settings(load_preset("taiyi1"), "taiyi1").prompt_format == "taiyi1"
    assert eval_settings(load_preset("taiyi-qwen25"), "q").prompt_format == "chat_template"
    # without a preset (or --model), auto is decided from the model (tests/evaluate/test_model_eval.py)
    assert eval_settings(None).prompt_format == "auto"
    assert eval_settings(load_preset("demo"), "demo", follow_training=False).prompt_format == "auto"
