"""Trainer callbacks: step-boundary stop + checkpoint promotion, JSONL/TensorBoard logs, progress.

Batch accounting: the collator records (hash, real tokens, processed tokens, samples) of each
batch it builds; a forward pre-hook on the model consumes the record of the batch actually being
run (matched by hash, since the dataloader may prefetch ahead). So per-step token counts and the
batch hashes in steps.jsonl are exact, which is what the resume test compares.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from taiyi_core.train import checkpoints
from taiyi_core.train.preemption import StopFlag


def batch_hash(input_ids: torch.Tensor) -> str:
    return hashlib.sha1(input_ids.detach().cpu().numpy().tobytes()).hexdigest()[:16]


@dataclass
class BatchLedger:
    """Collator -> forward hook -> step-end accounting (single process; one per rank)."""

    pending: deque[tuple[str, int, int, int]] = field(default_factory=deque)
    step_hashes: list[str] = field(default_factory=list)
    real: int = 0
    processed: int = 0
    samples: int = 0

    def record(self, batch: dict[str, torch.Tensor], real: int, processed: int, samples: int) -> None:
        self.pending.append((batch_hash(batch["input_ids"]), real, processed, samples))

    def forward_hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None or not module.training:
            return
        h = batch_hash(ids)
        while self.pending:
            ph, real, processed, samples = self.pending.popleft()
            if ph == h:
                self.step_hashes.append(h)
                self.real += real
                self.processed += processed
                self.samples += samples
                return

    def take_step(self) -> list[str]:
        out, self.step_hashes = self.step_hashes, []
        return out

    def take_counts(self) -> tuple[int, int, int]:
        out = (self.real, self.processed, self.samples)
        self.real = self.processed = self.samples = 0
        return out


def _dist() -> Any:
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def all_reduce(values: list[float], op: str = "sum") -> list[float]:
    """Sum (or max) across ranks; identity when not distributed."""
    dist = _dist()
    if dist is None:
        return values
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
    return t.cpu().tolist()


class StopAndCheckpointCallback(TrainerCallback):
    """Periodic checkpoints, a checkpoint + stop when the flag is set, atomic promotion, pruning."""

    def __init__(self, stage_dir: Path, staging: Path, flag: StopFlag, save_every: int, keep: int):
        self.stage_dir, self.staging, self.flag = stage_dir, staging, flag
        self.save_every, self.keep = save_every, keep
        self.stopped_at: int | None = None
        self.saved: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.global_step % self.save_every == 0:
            control.should_save = True
        # Every rank must stop at the same step: agree on the flag (max over ranks).
        if all_reduce([1.0 if self.flag.is_set() else 0.0], op="max")[0] > 0:
            control.should_save = True
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control

    def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
        dist = _dist()
        # Every rank writes its own rng_state_<rank>.pth into the staged folder: wait for all of them
        # before rank 0 renames it, or a late rank writes into a re-created staging folder instead.
        if dist is not None:
            dist.barrier()
        if state.is_world_process_zero:
            staged = self.staging / f"checkpoint-{state.global_step}"
            checkpoints.promote(staged, self.stage_dir / "checkpoints", state.global_step)
            checkpoints.prune(self.stage_dir / "checkpoints", self.keep)
        self.saved.append(state.global_step)
        if dist is not None:
            dist.barrier()
        return control


class LogCallback(TrainerCallback):
    """train/stageN/log.jsonl (contract keys), steps.jsonl (step + batch hashes), TensorBoard."""

    def __init__(self, stage_dir: Path, ledger: BatchLedger, tensorboard: bool = True):
        self.stage_dir, self.ledger = stage_dir, ledger
        self.tensorboard = tensorboard
        self._writer: Any = None
        self._t_last = time.time()
        self._totals = [0.0, 0.0, 0.0]  # real, processed, samples since the last log line

    def _append(self, name: str, row: dict[str, Any]) -> None:
        with (self.stage_dir / name).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self._t_last = time.time()
        if state.is_world_process_zero and self.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # A resumed attempt continues after the checkpoint's step; the killed attempt's event file
            # still holds the steps it logged after that checkpoint. purge_step makes TensorBoard drop
            # them (steps up to the checkpoint stay, so the curve is one line without a stale tail).
            purge = state.global_step + 1 if state.global_step > 0 else None
            self._writer = SummaryWriter(log_dir=str(self.stage_dir / "tensorboard"), purge_step=purge)
        return control

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        real, processed, samples = self.ledger.take_counts()
        self._totals = [a + b for a, b in zip(self._totals, (real, processed, samples), strict=True)]
        hashes = self.ledger.take_step()
        if state.is_world_process_zero:
            self._append("steps.jsonl", {"step": state.global_step, "time": time.time(), "batches": hashes})
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        logs = logs or {}
        if "loss" not in logs:
            return control
        real, processed, samples = all_reduce(self._totals)
        self._totals = [0.0, 0.0, 0.0]
        now = time.time()
        elapsed = max(now - self._t_last, 1e-9)
        self._t_last = now
        gpu_mem = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
        row = {
            "time": now,
            "step": state.global_step,
            "total_steps": state.max_steps,
            "epoch": state.epoch,
            "loss": logs.get("loss"),
            "lr": logs.get("learning_rate"),
            "grad_norm": logs.get("grad_norm"),
            "tokens_per_s": real / elapsed,
            "samples_per_s": samples / elapsed,
            "gpu_mem_gb": gpu_mem,
            "packing_efficiency": real / processed if processed else None,
        }
        if state.is_world_process_zero:
            self._append("log.jsonl", row)
            if self._writer is not None:
                for key, value in row.items():
                    if key not in {"time", "step", "total_steps"} and isinstance(value, int | float):
                        self._writer.add_scalar(f"train/{key}", value, state.global_step)
                self._writer.flush()
        return control

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return control


class RichProgressCallback(TrainerCallback):
    """A rich progress bar (rank 0, interactive terminals only)."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    @staticmethod
    def wanted() -> bool:
        return sys.stderr.isatty()

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        if state.is_world_process_zero:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} steps"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=state.max_steps, completed=state.global_step, info=""
            )
        return control

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if self._progress is not None and logs and "loss" in logs:
            self._progress.update(self._task, info=f"loss {logs['loss']:.4f}")
        return control

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        return control


def truncate_logs(stage_dir: Path, step: int) -> None:
    """On resume from ``step``: drop log lines of steps after it (they will be redone)."""
    from taiyi_core.atomic import write_text

    for name in ("log.jsonl", "steps.jsonl"):
        path = stage_dir / name
        if not path.exists():
            continue
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if row.get("step", 0) <= step and "event" not in row:
                kept.append(line)
        write_text(path, "".join(k + "\n" for k in kept))
