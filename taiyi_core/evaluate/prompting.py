"""How a model is prompted and where its answer ends: prompt format and stop token ids, from the model.

Shared by both generation backends (HF and vLLM), so they wrap prompts the same way and stop on the
same ids. Facts come from the model's own files:

- prompt format (``auto``): ``taiyi1`` for Qwen-v1-style checkpoints (``model_type: qwen``, remote
  code) and for ones converted from them (``CONVERTED.json``, written by ``taiyi model convert``),
  the tokenizer's chat template where it has one (instruct/chat models), else ``raw`` (a base model);
- stop ids: the generation config's ``eos_token_id`` (an int or a list: Qwen2.5-Instruct and
  Llama-3.1 have several), then the format's own end token (taiyi1: the eod separator; chat
  template: the token that closes an assistant turn; raw: the tokenizer's eos), then any extra
  ``eval.stop_tokens``.

Special tokens are looked up with ``convert_tokens_to_ids`` and checked against unk: QWenTokenizer
(remote code) leaves them out of ``get_vocab()``, and Qwen2.5's base tokenizer maps unknown tokens
to its unk (``<|endoftext|>``) instead of None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.weights import Weights
from taiyi_core.models.qwen_v1_convert import RECORD as CONVERTED_MARKER  # written by `taiyi model convert`

QWEN_V1_MODEL_TYPE = "qwen"  # Qwen-7B / Qwen-7B-Chat / Taiyi-LLM: remote code, trained in taiyi1 format
_TURN_PROBE = "\u2063TAIYI-ANSWER\u2063"  # content no template alters: marks where an answer ends


@dataclass(frozen=True)
class Prompting:
    """The resolved prompt format and stop ids of one model (recorded in generation/metrics files)."""

    prompt_format: str
    reason: str  # why this format (auto-detected from what, or set by the user/preset)
    stop_ids: tuple[int, ...]
    eos_ids: tuple[int, ...]  # the generation config's eos_token_id, as a list
    eod_token: str
    tokenizer: Any = field(default=None, compare=False, repr=False)

    def record(self) -> dict[str, Any]:
        return {
            "prompt_format": self.prompt_format,
            "prompt_format_reason": self.reason,
            "stop_ids": list(self.stop_ids),
            "generation_eos_ids": list(self.eos_ids),
        }


def token_id(tokenizer: Any, token: str) -> int | None:
    """The id of ``token`` if the tokenizer has it as one token (special ones included), else None."""
    try:
        tid = tokenizer.convert_tokens_to_ids(token)
    except (KeyError, ValueError):
        return None
    if tid is None or isinstance(tid, list):
        return None
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None and tid == unk and token != getattr(tokenizer, "unk_token", None):
        return None
    return int(tid)


def load_tokenizer(weights: Weights) -> Any:
    """The tokenizer both backends use (a Qwen-v1 one only when the preset allows remote code)."""
    from transformers import AutoTokenizer

    from taiyi_core.models.remote_code import guard_tokenizer, remote_code_errors

    trust, revision = weights.trust_remote_code, weights.tokenizer_revision
    guard_tokenizer(weights.tokenizer, trust_remote_code=trust, revision=revision)
    with remote_code_errors(weights.tokenizer, trust_remote_code=trust):
        return AutoTokenizer.from_pretrained(weights.tokenizer, trust_remote_code=trust, revision=revision)


def _as_list(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list | tuple) else [int(value)]


def generation_eos_ids(weights: Weights) -> list[int]:
    """``eos_token_id`` of the model's generation config (else of its config), as a list."""
    from transformers import AutoConfig, GenerationConfig

    kwargs = {"revision": weights.revision, "trust_remote_code": weights.trust_remote_code}
    try:
        gen = GenerationConfig.from_pretrained(weights.base, revision=weights.revision)
        ids = _as_list(gen.eos_token_id)
        if ids:
            return ids
    except OSError:  # no generation_config.json (e.g. a bare base-model folder)
        pass
    config = AutoConfig.from_pretrained(weights.base, **kwargs)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return _as_list(getattr(text, "eos_token_id", None))


def model_json(weights: Weights, name: str) -> dict[str, Any] | None:
    """A JSON file of the model (local folder or HF cache), or None when it has none."""
    from transformers.utils import cached_file

    path = cached_file(
        weights.base,
        name,
        revision=weights.revision,
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
    )
    return json.loads(Path(path).read_text(encoding="utf-8")) if path else None


def detect_format(weights: Weights, tokenizer: Any) -> tuple[str, str]:
    """(prompt format, why) decided from the model itself.

    Qwen-v1 checkpoints say how they were tuned in ``generation_config.chat_format``: ``raw`` for
    Qwen-7B and the models tuned on it in Firefly's format (Taiyi-LLM), ``chatml`` for Qwen-7B-Chat.
    """
    config, converted = model_json(weights, "config.json") or {}, model_json(weights, CONVERTED_MARKER)
    if converted is not None or config.get("model_type") == QWEN_V1_MODEL_TYPE:
        where = f"{CONVERTED_MARKER} (converted from Qwen-v1)" if converted else "model_type 'qwen' (Qwen-v1)"
        source_gen = (converted or {}).get("generation_config", {}).get("source")
        source_gen = source_gen or model_json(weights, "generation_config.json") or {}
        if source_gen.get("chat_format") == "chatml" and getattr(tokenizer, "chat_template", None):
            return "chat_template", f"{where}, a chat model (chat_format chatml)"
        return "taiyi1", f"{where}: Taiyi's format"
    if getattr(tokenizer, "chat_template", None):
        return "chat_template", "the tokenizer has a chat template"
    return "raw", "no chat template (a base model)"


def _with_probe(tokenizer: Any, prompt: str) -> str:
    """The conversation (prompt, probe answer) as the template renders it; '' if the template refuses."""
    from jinja2 import TemplateError

    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": _TURN_PROBE}]
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False)
    except (TemplateError, ValueError):  # e.g. a template that only renders up to a generation prompt
        return ""


def chat_prompt(tokenizer: Any, prompt: str) -> str:
    """The text before the answer to ``prompt``, exactly as the template renders an answered turn.

    That is what training sees before each answer (train/chat_format renders whole conversations).
    For most templates it equals the generation prompt; Qwen3's puts an empty think block before a
    final answer (its non-thinking mode), which the generation prompt alone would leave out.
    """
    text = _with_probe(tokenizer, prompt)
    if _TURN_PROBE in text:
        return text.split(_TURN_PROBE, 1)[0]
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )


def end_of_turn_token(tokenizer: Any) -> str | None:
    """The special token the chat template puts right after an assistant's content."""
    text = _with_probe(tokenizer, "q")
    tail = text.rsplit(_TURN_PROBE, 1)[-1] if _TURN_PROBE in text else ""
    specials = sorted(set(getattr(tokenizer, "all_special_tokens", [])) | _added_special(tokenizer), key=len)
    hits = [(tail.find(s), -len(s), s) for s in specials if s and s in tail]
    return min(hits)[2] if hits else None


def _added_special(tokenizer: Any) -> set[str]:
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    return {t.content for t in decoder.values() if getattr(t, "special", False)}


def format_end_token(tokenizer: Any, prompt_format: str, eod_token: str) -> str | None:
    """The format's own end token: eod for taiyi1, the template's end of turn, else the eos."""
    if prompt_format == "taiyi1":
        return eod_token
    if prompt_format == "chat_template":
        return end_of_turn_token(tokenizer) or tokenizer.eos_token
    return tokenizer.eos_token


def resolve_prompting(weights: Weights, settings: EvalSettings, tokenizer: Any | None = None) -> Prompting:
    """The prompt format (``auto`` decided from the model) and the stop ids for these weights."""
    tokenizer = tokenizer if tokenizer is not None else load_tokenizer(weights)
    if settings.prompt_format == "auto":
        fmt, reason = detect_format(weights, tokenizer)
    else:
        fmt, reason = settings.prompt_format, settings.prompt_format_source
    eos = generation_eos_ids(weights)
    ids = list(eos)
    for token in (format_end_token(tokenizer, fmt, settings.eod_token), *settings.stop_tokens):
        tid = token_id(tokenizer, token) if token else None
        if tid is not None and tid not in ids:
            ids.append(tid)
    if not ids and tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    if not ids:
        raise ValueError(
            f"model {weights.base}: no stop token (no eos_token_id in its generation config or config, "
            "and none in the tokenizer); set eval.stop_tokens"
        )
    return Prompting(fmt, reason, tuple(ids), tuple(eos), settings.eod_token, tokenizer)
