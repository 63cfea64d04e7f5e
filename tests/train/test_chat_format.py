"""Label masks: decode exactly which tokens are trained, for both conversation formats."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from taiyi_core.train.chat_format import IGNORE, ConversationError, make_encoder

MULTI = [
    {"role": "user", "content": "Extract entities: aspirin"},
    {"role": "assistant", "content": "chemical: aspirin"},
    {"role": "user", "content": "请识别实体：糖尿病"},
    {"role": "assistant", "content": "疾病：糖尿病"},
]


@pytest.fixture(scope="module")
def tok(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


def trained_text(tok, enc) -> str:
    return tok.decode([t for t, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE])


def test_taiyi1_layout_and_mask(tok):
    enc = make_encoder(tok, "taiyi1", 512)(MULTI, "s1")
    eod = "<|endoftext|>"
    assert tok.decode(enc.input_ids) == (
        f"{eod}Extract entities: aspirin{eod}chemical: aspirin{eod}请识别实体：糖尿病{eod}疾病：糖尿病{eod}"
    )
    # assistant turns and the eod closing each; nothing of the user turns
    assert trained_text(tok, enc) == f"chemical: aspirin{eod}疾病：糖尿病{eod}"
    assert enc.labels[0] == IGNORE and not enc.truncated


def test_chat_template_mask_multi_turn(tok):
    enc = make_encoder(tok, "chat_template", 512)(MULTI, "s1")
    text = tok.decode(enc.input_ids)
    assert text.startswith("<|im_start|>user\nExtract entities: aspirin<|im_end|>\n<|im_start|>assistant\n")
    assert trained_text(tok, enc) == "chemical: aspirin<|im_end|>疾病：糖尿病<|im_end|>"


def test_truncation_keeps_prefix(tok):
    full = make_encoder(tok, "taiyi1", 512)(MULTI, "s1")
    enc = make_encoder(tok, "taiyi1", 12)(MULTI, "s1")
    assert enc.truncated and len(enc.input_ids) == 12
    assert enc.input_ids == full.input_ids[:12] and enc.labels == full.labels[:12]


def test_bad_roles_name_the_sample(tok):
    encode = make_encoder(tok, "taiyi1", 64)
    with pytest.raises(
        ConversationError, match=r"sample x7: messages\[1\].role is 'user', expected 'assistant'"
    ):
        encode([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "x7")


def test_template_without_generation_markers_is_masked_by_offsets(tok):
    # The real templates (Qwen2.5, Qwen3, Llama-3.1) have no {% generation %}; tests/train/test_real_kits.py
    # covers them. Here: the tiny template with its markers removed masks exactly as with them.
    tok2 = AutoTokenizer.from_pretrained(tok.name_or_path)
    tok2.chat_template = tok.chat_template.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    with_markers = make_encoder(tok, "chat_template", 512)(MULTI, "s1")
    without = make_encoder(tok2, "chat_template", 512)(MULTI, "s1")
    assert without == with_markers
    assert trained_text(tok2, without) == "chemical: aspirin<|im_end|>疾病：糖尿病<|im_end|>"


def test_turn_not_closed_by_a_special_token_is_an_error(tok):
    tok2 = AutoTokenizer.from_pretrained(tok.name_or_path)
    tok2.chat_template = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}"
    closed = r"sample s9: messages\[1\] \(assistant\) is not closed by a special token"
    with pytest.raises(ConversationError, match=closed):
        make_encoder(tok2, "chat_template", 64)(MULTI, "s9")


def test_assistant_content_the_template_drops_is_an_error(tok):
    tok2 = AutoTokenizer.from_pretrained(tok.name_or_path)
    tok2.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] + '<|im_end|>' }}"
        "{% else %}{{ 'OK<|im_end|>' }}{% endif %}{% endfor %}"
    )
    with pytest.raises(ConversationError, match=r"sample s3: messages\[1\] \(assistant\) not found"):
        make_encoder(tok2, "chat_template", 64)(MULTI, "s3")


def test_system_message_allowed_for_chat_template_only(tok):
    system = [{"role": "system", "content": "You are a careful annotator."}, *MULTI]
    enc = make_encoder(tok, "chat_template", 512)(system, "s1")
    assert trained_text(tok, enc) == "chemical: aspirin<|im_end|>疾病：糖尿病<|im_end|>"
    assert tok.decode(enc.input_ids).startswith("<|im_start|>system\nYou are a careful annotator.<|im_end|>")
    with pytest.raises(ConversationError, match=r"messages\[0\].role is 'system', expected 'user'"):
        make_encoder(tok, "taiyi1", 512)(system, "s1")
