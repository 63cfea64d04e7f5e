"""What every generation backend is: ``Generator`` (prompt token ids -> ``GenOut``), and the one
``PromptFormatter`` both backends tokenise prompts with (so they see the same ids; the stop ids and
the tokenizer come from ``prompting.resolve_prompting``, also shared)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from taiyi_core.evaluate.prompting import chat_prompt, token_id


@dataclass
class GenOut:
    text: str
    new_tokens: int


class Generator(Protocol):
    backend: str
    chunk_size: int  # prompts handed over per call (and appended to predictions.jsonl per call)
    format: PromptFormatter  # prompt -> token ids (counts truncated prompts)

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int, seed: int) -> list[GenOut]: ...


class PromptFormatter:
    """Instance prompt -> token ids, through the tokenizer's chat template (or as raw text)."""

    def __init__(
        self, tokenizer: Any, prompt_format: str, max_prompt_tokens: int, eod_token: str = "<|endoftext|>"
    ):
        if prompt_format == "chat_template" and not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "eval.prompt_format is chat_template but the tokenizer has no chat template; "
                "save the training tokenizer with the adapter, or set eval.prompt_format: raw"
            )
        if prompt_format not in ("chat_template", "taiyi1", "raw"):
            raise ValueError(f"prompt format {prompt_format!r}: resolve 'auto' first (resolve_prompting)")
        # convert_tokens_to_ids, not get_vocab(): QWenTokenizer keeps its special tokens out of the vocab
        self.eod_id = token_id(tokenizer, eod_token)
        if prompt_format == "taiyi1" and self.eod_id is None:
            raise ValueError(f"eval.prompt_format is taiyi1 but the tokenizer has no {eod_token!r} token")
        self.tokenizer = tokenizer
        self.prompt_format = prompt_format
        self.eod_token = eod_token
        self.max_prompt_tokens = max_prompt_tokens
        self.truncated = 0

    def __call__(self, prompt: str) -> list[int]:
        text = chat_prompt(self.tokenizer, prompt) if self.prompt_format == "chat_template" else prompt
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if (
            self.prompt_format == "taiyi1"
        ):  # as train/chat_format.encode_taiyi1: <eod> user <eod>, then the answer
            ids = [self.eod_id, *ids, self.eod_id]
        if len(ids) > self.max_prompt_tokens:
            # Keep the end: the generation prompt and the instruction's tail; counted in metrics.
            self.truncated += 1
            ids = ids[-self.max_prompt_tokens :]
        return ids
