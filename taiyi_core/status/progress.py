"""Training progress from train/stage{N}/log.jsonl rows (pure: the caller supplies rows and clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taiyi_core.status.model import TrainProgress

RATE_WINDOW = 20  # logging rows used for the step rate behind the ETA


def _num(row: dict[str, Any], key: str) -> float | None:
    v = row.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def train_progress(
    stage: int,
    rows: list[dict[str, Any]],
    log_mtime: float | None,
    checkpoints: list[tuple[str, float]],
    now: float,
    stall_after_s: float,
    running: bool,
    summary: dict[str, Any] | None = None,
    summary_path: str | None = None,
) -> TrainProgress:
    """Step/total, epoch, loss, throughput, ETA, last checkpoint, and whether a running job stalled.

    A stall is a running job whose log has not been written for ``stall_after_s``: the job is alive
    in SLURM's eyes but is making no progress (hung collective, dead dataloader, full disk...).

    Periodic rows are written every ``logging_steps``, so the last one is usually short of the end;
    a finished stage is described by its final ``{"event": "done", "step": N}`` row and by
    ``summary`` (stage.json: global_step, max_steps, train_loss, status), which win when present.
    """
    steps = [r for r in rows if _num(r, "step") is not None and r.get("event") is None]
    done_rows = [r for r in rows if r.get("event") == "done"]
    done = bool(done_rows)
    p = TrainProgress(stage=stage, done=done)
    p.curve = [(int(r["step"]), float(r["loss"])) for r in steps if _num(r, "loss") is not None]
    gpu_mem = [v for r in steps if (v := _num(r, "gpu_mem_gb")) is not None]
    p.peak_gpu_mem_gb = max(gpu_mem) if gpu_mem else None
    if steps:
        last = steps[-1]
        p.step = int(last["step"])
        total = _num(last, "total_steps")
        p.total_steps = int(total) if total is not None else None
        p.epoch = _num(last, "epoch")
        p.loss = p.curve[-1][1] if p.curve else None
        p.tokens_per_s = _num(last, "tokens_per_s")
        window = [r for r in steps[-RATE_WINDOW:] if _num(r, "time") is not None]
        if len(window) >= 2 and p.total_steps is not None and not done:
            dt = float(window[-1]["time"]) - float(window[0]["time"])
            ds = float(window[-1]["step"]) - float(window[0]["step"])
            if dt > 0 and ds > 0:
                p.eta_s = max(0.0, (p.total_steps - p.step) * dt / ds)
    last_periodic = (p.step, p.epoch)
    if done_rows:
        _finish(p, done_rows[-1])
    if summary is not None:
        _apply_summary(p, summary, summary_path)
    if p.done:
        p.eta_s = 0.0
        if p.step is not None:
            p.total_steps = p.step if p.total_steps is None else max(p.total_steps, p.step)
        # epoch grows linearly with the step: scale the last periodic row's epoch up to the final step
        lstep, lepoch = last_periodic
        if lstep and lepoch is not None and p.step is not None:
            p.epoch = lepoch * p.step / lstep
    if log_mtime is not None:
        p.last_log_age_s = max(0.0, now - log_mtime)
    if checkpoints:
        path, mtime = checkpoints[-1]
        p.last_checkpoint = Path(path).name
        p.last_checkpoint_age_s = max(0.0, now - mtime)
    p.stalled = bool(
        running and not done and p.last_log_age_s is not None and p.last_log_age_s > stall_after_s
    )
    return p


def _finish(p: TrainProgress, row: dict[str, Any]) -> None:
    """The trainer's final log row: {"event": "done", "time", "step": global_step, "train_loss"}."""
    step = _num(row, "step")
    if step is not None:
        p.step = int(step)
        p.total_steps = int(step)
    p.train_loss = _num(row, "train_loss")


def _apply_summary(p: TrainProgress, summary: dict[str, Any], path: str | None) -> None:
    """stage.json is written when run_stage returns; it is stale when the log has moved past it
    (a stopped stage that was resumed), and then ignored."""
    gstep, mstep = _num(summary, "global_step"), _num(summary, "max_steps")
    if gstep is None or (p.step is not None and gstep < p.step):
        return
    p.summary = path
    p.step = int(gstep)
    if mstep is not None and mstep > 0:
        p.total_steps = int(mstep)
    loss = _num(summary, "train_loss")
    p.train_loss = loss if loss is not None else p.train_loss
    status = summary.get("status")
    p.stage_status = status if isinstance(status, str) else None
    reason = summary.get("stop_reason")
    p.stop_reason = reason if isinstance(reason, str) else None
    if p.stage_status == "done":
        p.done = True
