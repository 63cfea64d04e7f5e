"""One training stage, top to bottom: tokenizer -> data -> (4-bit) model -> LoRA -> Trainer -> adapter.

Why transformers' ``Trainer`` and not TRL's ``SFTTrainer``: the taiyi1 format (Firefly's
``<eod>u<eod>a<eod>``) is not a chat template, so we tokenise and mask labels ourselves anyway
(chat_format.py, tested by decoding the trained tokens), and we pack ourselves (packing.py) to
report packing efficiency and to keep batch accounting exact for the resume test. What remains of
SFTTrainer would be a thin layer over ``Trainer``; using ``Trainer`` directly keeps every moving
part visible here. Checkpoint/resume (optimizer, scheduler, RNG, data position) is the Trainer's.
Nothing else would use TRL either, so it is not a dependency (pyproject.toml, containers/requirements.in).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer

from taiyi_core.atomic import atomic_path, write_json
from taiyi_core.config import ModelSpec
from taiyi_core.train import checkpoints
from taiyi_core.train.callbacks import (
    BatchLedger,
    LogCallback,
    RichProgressCallback,
    StopAndCheckpointCallback,
    truncate_logs,
)
from taiyi_core.train.config import TrainSettings
from taiyi_core.train.data import load_sft, tokenize_sft
from taiyi_core.train.packing import (
    PackedCollator,
    PackedRows,
    PaddedCollator,
    pack_best_fit,
    packing_supported,
)
from taiyi_core.train.preemption import StopFlag

log = logging.getLogger(__name__)

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass
class Effective:
    """What actually ran (after CPU/GPU adjustments); recorded in stage.json."""

    device: str
    precision: str
    compute_dtype: str
    optimizer: str
    packing: bool
    packing_note: str = ""
    notes: list[str] = field(default_factory=list)


def resolve_effective(settings: TrainSettings) -> Effective:
    cuda = torch.cuda.is_available()
    notes: list[str] = []
    if cuda:
        precision = settings.precision
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        compute = settings.quantization.compute_dtype
        optim = settings.optimizer
    else:
        precision, compute, optim = "fp32", "fp32", settings.optimizer
        if settings.precision not in {"auto", "fp32"}:
            notes.append(f"precision {settings.precision} -> fp32 on CPU")
        if settings.quantization.mode == "nf4" and settings.quantization.compute_dtype != "fp32":
            notes.append(f"nf4 compute dtype {settings.quantization.compute_dtype} -> fp32 on CPU")
    return Effective("cuda" if cuda else "cpu", precision, compute, optim, settings.packing, notes=notes)


def load_tokenizer(spec: ModelSpec) -> Any:
    from transformers import AutoTokenizer

    from taiyi_core.models.remote_code import guard_tokenizer, remote_code_errors

    name = spec.tokenizer or spec.name_or_path
    guard_tokenizer(name, trust_remote_code=spec.trust_remote_code, revision=spec.revision)
    with remote_code_errors(name, trust_remote_code=spec.trust_remote_code):
        tok = AutoTokenizer.from_pretrained(
            name, trust_remote_code=spec.trust_remote_code, revision=spec.revision
        )
    if tok.pad_token_id is None:  # Qwen-7B: eod serves as pad (Taiyi inference did the same)
        tok.pad_token = tok.eos_token or "<|endoftext|>"
    return tok


def load_base_model(spec: ModelSpec, settings: TrainSettings, eff: Effective) -> Any:
    """The frozen base model: 4-bit NF4 (double quant) when configured, else in the compute dtype."""
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from taiyi_core.models.remote_code import guard_model, remote_code_errors

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = f"cuda:{local_rank}" if eff.device == "cuda" else "cpu"
    kwargs: dict[str, Any] = {
        "trust_remote_code": spec.trust_remote_code,
        "revision": spec.revision,
        "dtype": _DTYPES[eff.compute_dtype] if eff.device == "cuda" else torch.float32,
    }
    if settings.attn_implementation is not None:
        kwargs["attn_implementation"] = settings.attn_implementation
    q = settings.quantization
    if q.mode == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=q.double_quant,
            bnb_4bit_compute_dtype=_DTYPES[eff.compute_dtype],
        )
        kwargs["device_map"] = {"": device}
    guard_model(spec.name_or_path, trust_remote_code=spec.trust_remote_code, revision=spec.revision)
    with remote_code_errors(spec.name_or_path, trust_remote_code=spec.trust_remote_code):
        model = AutoModelForCausalLM.from_pretrained(spec.name_or_path, **kwargs)
    if q.mode != "nf4":
        model.to(device)
    # Packed rows rely on position ids without a KV cache (packing.py); a cache is useless in training.
    model.config.use_cache = False
    gc_kwargs = {"use_reentrant": False}
    if q.mode == "nf4":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=settings.gradient_checkpointing,
            gradient_checkpointing_kwargs=gc_kwargs,
        )
    elif settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gc_kwargs)
        model.enable_input_require_grads()
    return model


def attach_lora(model: Any, settings: TrainSettings, init_adapter: Path | None) -> Any:
    """New LoRA (stage 1) or the previous stage's adapter, loaded trainable (stage 2)."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if init_adapter is not None:
        return stable_targets(PeftModel.from_pretrained(model, str(init_adapter), is_trainable=True))
    lora = settings.lora
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,  # "all-linear" excludes the output head
        bias="none",
        task_type="CAUSAL_LM",
    )
    return stable_targets(get_peft_model(model, config))


def stable_targets(model: Any) -> Any:
    """peft resolves ``all-linear`` to a set of module names and writes it to adapter_config.json in
    set order, which differs between processes (string hashing): identical trainings then write
    different configs and the evaluation fingerprint changes. Sorted, the file is the same."""
    for config in model.peft_config.values():
        targets = config.target_modules
        if isinstance(targets, set | list | tuple):
            config.target_modules = sorted(targets)
    return model


def warmup_steps_for(ratio: float, total_steps: int) -> int:
    """Warmup as a whole number of optimizer steps: ``ceil(ratio * total)`` (the Taiyi recipe's 10%)."""
    return math.ceil(ratio * total_steps)


class StageTrainer(Trainer):
    """``Trainer`` whose warmup is ``warmup_ratio`` of the stage's real total steps, given as an int.

    transformers 4.x takes a float ``warmup_steps`` as a step count (and has ``warmup_ratio``), 5.x
    takes one below 1 as a ratio (and has no ``warmup_ratio``); an int step count means the same in
    both. The total is only known inside ``train()`` (epochs x batches / accumulation / world size),
    which is where ``create_scheduler`` is called with it.
    """

    warmup_ratio: float = 0.0

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        self.args.warmup_steps = warmup_steps_for(self.warmup_ratio, num_training_steps)
        return super().create_scheduler(num_training_steps, optimizer)


def _training_args(settings: TrainSettings, stage: int, staging: Path, eff: Effective) -> Any:
    from transformers import TrainingArguments

    st = settings.stage(stage)
    return TrainingArguments(
        output_dir=str(staging),
        per_device_train_batch_size=settings.per_device_batch,
        gradient_accumulation_steps=settings.grad_accum,
        learning_rate=st.lr or settings.lr,
        lr_scheduler_type=settings.scheduler,
        warmup_steps=0,  # set from train.warmup_ratio once the total is known (StageTrainer)
        num_train_epochs=st.epochs,
        max_steps=st.max_steps or -1,
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm,
        optim=eff.optimizer,
        bf16=eff.precision == "bf16",
        fp16=eff.precision == "fp16",
        use_cpu=eff.device == "cpu",  # also makes DDP on CPU use gloo and actually sync
        logging_steps=settings.logging_steps,
        save_strategy="no",  # StopAndCheckpointCallback decides when; it promotes atomically
        report_to="none",  # LogCallback writes log.jsonl and TensorBoard itself
        disable_tqdm=True,
        seed=settings.seed,
        data_seed=settings.seed,
        remove_unused_columns=False,
        dataloader_num_workers=0,  # the batch ledger lives in this process
        ddp_find_unused_parameters=False,
        gradient_checkpointing=False,  # already set up on the base model
    )


def run_stage(
    spec: ModelSpec,
    settings: TrainSettings,
    *,
    stage: int,
    data_dir: Path,
    stage_dir: Path,
    init_adapter: Path | None = None,
    flag: StopFlag | None = None,
    extra_callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Train one stage into ``stage_dir``, resuming from its latest checkpoint if there is one.

    Returns a summary with ``status`` "done" (adapter written) or "stopped" (checkpoint written at
    a step boundary after ``flag`` was set).
    """
    from transformers import set_seed

    flag = flag or StopFlag()
    stage_dir.mkdir(parents=True, exist_ok=True)
    staging = stage_dir / ".staging"
    checkpoints.clean_debris(stage_dir, staging)
    resume = checkpoints.latest_checkpoint(stage_dir / "checkpoints")
    eff = resolve_effective(settings)

    tokenizer = load_tokenizer(spec)
    args = _training_args(settings, stage, staging, eff)
    with args.main_process_first(desc="tokenise"):
        samples, data_stats = tokenize_sft(
            load_sft(data_dir),
            tokenizer,
            settings.conversation_format,
            settings.max_length,
            settings.eod_token,
            cache_dir=stage_dir / "cache",
        )
    set_seed(settings.seed)  # LoRA init draws from the global RNG: same seed, same adapter at step 0
    model = attach_lora(load_base_model(spec, settings, eff), settings, init_adapter)
    mode = None
    if settings.packing:
        mode, eff.packing_note = packing_supported(model)
        eff.packing = mode is not None
        if mode is None:
            log.warning("packing off: %s", eff.packing_note)
    ledger = BatchLedger()
    if eff.packing:
        bins = pack_best_fit(samples["length"], settings.max_length)
        train_ds: Any = PackedRows(samples, bins)
        collator: Any = PackedCollator(pad_id=tokenizer.pad_token_id, ledger=ledger, varlen=mode == "varlen")
    else:
        train_ds = samples
        collator = PaddedCollator(pad_id=tokenizer.pad_token_id, ledger=ledger)
    model.register_forward_pre_hook(ledger.forward_hook, with_kwargs=True)

    stopper = StopAndCheckpointCallback(
        stage_dir, staging, flag, settings.save_every_steps, settings.keep_checkpoints
    )
    # Extra callbacks (tests, the launcher) run first so a flag they set is seen at the same step.
    callbacks: list[Any] = [*(extra_callbacks or []), stopper, LogCallback(stage_dir, ledger)]
    if RichProgressCallback.wanted():
        callbacks.append(RichProgressCallback())
    trainer = StageTrainer(
        model=model, args=args, train_dataset=train_ds, data_collator=collator, callbacks=callbacks
    )
    trainer.warmup_ratio = settings.warmup_ratio

    rank0 = trainer.is_world_process_zero()
    if resume is not None:
        resumed_step = int(resume.name.split("-")[1])
        if rank0:
            truncate_logs(stage_dir, resumed_step)
    elif rank0:
        truncate_logs(stage_dir, 0)
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    state = trainer.state
    # HF's training_loss averages only the steps since this (re)start; after a resume the stage's
    # loss is the mean of the logged interval losses, which the checkpoint's log history carries over.
    logged = [h["loss"] for h in state.log_history if "loss" in h]
    stage_loss = sum(logged) / len(logged) if resume is not None and logged else result.training_loss
    summary: dict[str, Any] = {
        "stage": stage,
        "status": "stopped" if stopper.stopped_at is not None else "done",
        "stop_reason": flag.reason if stopper.stopped_at is not None else None,
        "global_step": state.global_step,
        "max_steps": state.max_steps,
        "warmup_steps": warmup_steps_for(settings.warmup_ratio, state.max_steps),
        "resumed_from": str(resume) if resume else None,
        "train_loss": stage_loss,
        "train_loss_since_start": result.training_loss,
        "seconds": time.time() - t0,
        "init_from_adapter": str(init_adapter) if init_adapter else None,
        "data": {"path": str(data_dir), **data_stats},
        "rows": len(train_ds),
        "packing_efficiency": collator.efficiency,
        "world_size": args.world_size,
        "effective": eff.__dict__,
        "host": platform.node(),
    }
    if summary["status"] == "done" and rank0:
        with atomic_path(stage_dir / "adapter") as tmp:
            trainer.model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
        summary["adapter"] = str(stage_dir / "adapter")
        with (stage_dir / "log.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {
                        "event": "done",
                        "time": time.time(),
                        "step": state.global_step,
                        "train_loss": stage_loss,
                    }
                )
                + "\n"
            )
    if rank0:
        write_json(stage_dir / "stage.json", summary)
        shutil.rmtree(staging, ignore_errors=True)
    _barrier()
    return summary


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
