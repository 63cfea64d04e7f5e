"""The ``eval:`` section of a preset: which sets, how to decode, which backend and adapter.

Validated with ``taiyi_core.config.validate`` so a typo (``max_new_token``) fails at submission time
with the file, the key and the allowed keys named.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from taiyi_core.digest import sha256_tag
from taiyi_core.validation import Strict, validate

if TYPE_CHECKING:  # Preset holds an EvalSettings: importing it here at runtime would be a cycle
    from taiyi_core.config import Preset
from taiyi_core.evaluate.reference import main_rows

# The paper's 13 test sets (taiyi_recipe.md §7.1) plus the BioRED zero-shot NER set (§7.5).
PAPER_DATASETS: tuple[str, ...] = (*(r.dataset for r in main_rows()), "biored_ner")

# Generated-answer budgets per task type. The paper's chat script used 500 for everything
# (taiyi_recipe.md §8); extraction answers on these sets are far shorter, and classification and
# choice answers are a label or a letter.
DEFAULT_MAX_NEW_TOKENS: dict[str, int] = {
    "ner": 256,
    "re": 256,
    "ee": 256,
    "tc": 64,
    "sts": 16,
    "mcqa": 32,
    "yesno": 16,
    "norm": 64,
}


class Decoding(Strict):
    """Greedy by default (reproducible). ``sampling`` defaults to Taiyi-1's chat settings (§8)."""

    mode: Literal["greedy", "sampling"] = "greedy"
    top_p: float = Field(0.9, gt=0, le=1)
    temperature: float = Field(0.3, gt=0)
    repetition_penalty: float = Field(1.0, gt=0)
    # Taiyi's script set no top_k; whether the model's generation_config supplied one is not known.
    top_k: int | None = Field(None, ge=1)  # None = no top-k cut
    seed: int = 1234

    def as_record(self) -> dict[str, Any]:
        """What metrics.json records: only the parameters that affect the output."""
        if self.mode == "greedy":
            return {"mode": "greedy", "repetition_penalty": self.repetition_penalty}
        return self.model_dump()


class EvalSettings(Strict):
    datasets: list[str] = Field(default_factory=lambda: list(PAPER_DATASETS), min_length=1)
    batch_size: int = Field(16, ge=1)
    max_new_tokens: dict[str, int] = Field(default_factory=dict)  # per task; merged over the defaults
    default_max_new_tokens: int = Field(500, ge=1)  # tasks not named above (free-text answers)
    max_prompt_tokens: int = Field(1536, ge=8)  # longer prompts are cut from the left (counted)
    decoding: Decoding = Field(default_factory=Decoding)
    backend: Literal["auto", "hf", "vllm"] = "auto"
    # stage2 | stage1 | none | a path (a PEFT adapter folder, or a merged full model folder)
    adapter: str = "stage2"
    # How a prompt is wrapped: as the model was trained. auto = the preset's train.conversation_format
    # for the run's own adapters, else decided from the model (evaluate/prompting.py): taiyi1 for
    # Qwen-v1/Taiyi (<|endoftext|>prompt<|endoftext|>, Firefly's), the chat template, or raw.
    prompt_format: Literal["auto", "chat_template", "taiyi1", "raw"] = "auto"
    eod_token: str = "<|endoftext|>"  # taiyi1 format's separator
    # Extra stop tokens, beyond the generation config's eos ids and the format's own end token.
    stop_tokens: list[str] = Field(default_factory=list)
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    load_in_4bit: bool = False  # evaluate on the NF4-quantised base (as trained) instead of bf16
    limit: int | None = Field(None, ge=1)  # first N instances per set (demo, smoke runs)
    missing: Literal["error", "skip"] = "error"  # a listed set without data/eval/<name>.jsonl
    _format_source: str = PrivateAttr("set by eval.prompt_format")  # why this prompt_format (recorded)

    @property
    def prompt_format_source(self) -> str:
        return self._format_source

    @field_validator("datasets")
    @classmethod
    def _folder_names(cls, names: list[str]) -> list[str]:
        from taiyi_core.rundir import safe_name

        return [safe_name("eval set", n) for n in names]  # each becomes eval/<name>/ inside the run

    @model_validator(mode="after")
    def _check(self) -> EvalSettings:
        bad = [k for k, v in self.max_new_tokens.items() if v < 1]
        if bad:
            raise ValueError(f"max_new_tokens for {', '.join(bad)} must be >= 1")
        dup = sorted({d for d in self.datasets if self.datasets.count(d) > 1})
        if dup:
            raise ValueError(f"datasets listed twice: {', '.join(dup)}")
        return self

    def new_tokens_for(self, task: str) -> int:
        merged = {**DEFAULT_MAX_NEW_TOKENS, **self.max_new_tokens}
        return merged.get(task, self.default_max_new_tokens)


def eval_settings(
    preset: Preset | None, file: str = "preset", *, follow_training: bool = True, **overrides: Any
) -> EvalSettings:
    """The preset's ``eval:`` section, validated, with command-line overrides applied (None = unset).

    ``prompt_format: auto`` becomes the preset's ``train.conversation_format`` when evaluating what
    the preset trained (``follow_training``); otherwise it stays ``auto`` and is decided from the
    model itself (``prompting.detect_format``).
    """
    data: dict[str, Any] = dict(preset.eval) if preset is not None else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    settings = validate(EvalSettings, data, f"{file}:eval")
    if settings.prompt_format != "auto":
        source = "--prompt-format" if overrides.get("prompt_format") else f"{file}: eval.prompt_format"
        settings._format_source = f"set by {source}"
    elif preset is not None and follow_training:
        from taiyi_core.train.config import train_settings

        train = train_settings(preset, file)
        fmt, eod = train.conversation_format, train.eod_token
        settings = settings.model_copy(update={"prompt_format": fmt, "eod_token": eod})
        settings._format_source = f"{file}: train.conversation_format (as the model was trained)"
    return settings


def fingerprint(parts: dict[str, Any]) -> str:
    """Short stable hash of what determines the predictions (model, adapter, decoding, data)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return sha256_tag(hashlib.sha256(blob))
