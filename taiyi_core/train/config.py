"""The ``train:`` section of a preset, validated (unknown keys are errors that name the key).

Defaults follow the Taiyi-1 recipe (taiyi_recipe.md §6): QLoRA NF4 + double quantisation, LoRA r=64,
alpha=16, dropout=0.05 on all linear layers except the head, paged AdamW 32-bit, lr 2e-4,
constant_with_warmup with warmup_ratio 0.1, batch 12 x grad-acc 2, max length 1024, weight decay 0,
max_grad_norm 0.3, seed 42; stage 1 = 5 epochs on data/sft/stage1, stage 2 = 3 epochs on
data/sft/stage2 continuing the stage-1 adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from taiyi_core.validation import validate

if TYPE_CHECKING:  # Preset holds a TrainSettings: importing it here at runtime would be a cycle
    from taiyi_core.config import Preset

# The attention implementations a preset may ask for; packing keeps samples apart with each
# (packing.PACKING_MODES says how, and a test keeps the two in step).
AttnImplementation = Literal["sdpa", "eager", "flex_attention", "flash_attention_2", "flash_attention_3"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Quantization(_Strict):
    mode: Literal["none", "nf4"] = "nf4"
    double_quant: bool = True
    compute_dtype: Literal["bf16", "fp16", "fp32"] = "fp16"


class LoraSettings(_Strict):
    r: int = Field(64, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    # "all-linear": every nn.Linear / bnb Linear4bit except the output head (peft's own rule).
    target_modules: Literal["all-linear"] | list[str] = "all-linear"


class StageSettings(_Strict):
    epochs: float = Field(1, gt=0)
    data: Literal["sft/stage1", "sft/stage2"] | None = None  # default: sft/stage<N>
    # Stage 2 continues the stage-1 adapter (trainable) unless "none" (a one-stage ablation arm).
    init_from: Literal["stage1", "none"] | None = None
    max_steps: int | None = Field(None, ge=1)  # caps the stage (smoke runs, tests)
    lr: float | None = Field(None, gt=0)  # per-stage override of train.lr


class TrainSettings(_Strict):
    conversation_format: Literal["taiyi1", "chat_template"] = "taiyi1"
    eod_token: str = "<|endoftext|>"  # the taiyi1 separator (Qwen's eod)
    quantization: Quantization = Field(default_factory=Quantization)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    optimizer: Literal["paged_adamw_32bit", "adamw_torch"] = "paged_adamw_32bit"
    lr: float = Field(2e-4, gt=0)
    scheduler: Literal["constant_with_warmup", "cosine", "linear", "constant"] = "constant_with_warmup"
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    per_device_batch: int = Field(12, ge=1)
    grad_accum: int = Field(2, ge=1)
    max_length: int = Field(1024, ge=8)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(0.3, gt=0)
    # "auto": bf16 on a GPU that has it, else fp16 on GPU, fp32 on CPU.
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    packing: bool = True
    attn_implementation: AttnImplementation | None = None  # None: transformers' default (sdpa)
    gradient_checkpointing: bool = True
    save_every_steps: int = Field(500, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    logging_steps: int = Field(10, ge=1)
    seed: int = 42
    dataloader_workers: int = Field(0, ge=0)
    stages: dict[int, StageSettings] = Field(
        default_factory=lambda: {
            1: StageSettings(epochs=5),
            2: StageSettings(epochs=3),
        }
    )

    @field_validator("stages")
    @classmethod
    def _stage_numbers(cls, v: dict[int, StageSettings]) -> dict[int, StageSettings]:
        unknown = sorted(set(v) - {1, 2})
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]} (stages are 1 and 2)")
        return v

    @model_validator(mode="after")
    def _stage_chain(self) -> TrainSettings:
        if 1 in self.stages and self.stages[1].init_from == "stage1":
            raise ValueError("stages.1.init_from: stage 1 starts from the base model; leave it unset")
        return self

    def stage(self, n: int) -> StageSettings:
        if n not in self.stages:
            raise KeyError(f"train.stages has no stage {n} (defined: {sorted(self.stages)})")
        return self.stages[n]

    def data_for(self, n: int) -> str:
        return self.stage(n).data or f"sft/stage{n}"

    def init_for(self, n: int) -> str | None:
        """The stage whose adapter stage ``n`` continues, or None for a fresh LoRA."""
        init = self.stage(n).init_from
        if init is None:
            return "stage1" if n == 2 else None
        return None if init == "none" else init


def train_settings(preset: Preset, preset_file: str | Path | None = None) -> TrainSettings:
    """Validate ``preset.train``; a problem raises ConfigError naming ``<file>:train`` and the key."""
    where = f"{preset_file or preset.name}:train"
    return validate(TrainSettings, preset.train, where)
