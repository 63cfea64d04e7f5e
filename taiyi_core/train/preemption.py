"""Time-limit and preemption signals -> a flag; the trainer stops at the next step boundary.

SLURM sends SIGUSR2 ahead of the time limit (``--signal=USR2@N``, set from the profile's
``signal_delay_s``) and SIGTERM on preemption. A handler only sets a flag (nothing unsafe in signal
context); ``StopAndCheckpointCallback`` (callbacks.py) checks it after every optimizer step, saves
a checkpoint at that boundary and stops training; the stage job (``train/jobs.py``) then requeues
with ``requeue_self`` (USR2, rank 0, only under SLURM) and exits. The requeued job runs the same
call from the top and resumes from the checkpoint on disk.

These handlers replace submitit's own USR2/SIGTERM handlers for the duration of training (submitit
would requeue at once, without a checkpoint at a step boundary) and are restored afterwards.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)

REASONS = {signal.SIGUSR2: "time_limit", signal.SIGTERM: "preempted"}


class StopFlag:
    """Set by a signal handler (or a test/callback); read at step boundaries."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> None:
        self.reason = None
        self._event.clear()


FLAG = StopFlag()


def _handler(signum: int, frame: FrameType | None) -> None:
    FLAG.set(REASONS.get(signal.Signals(signum), signal.Signals(signum).name))


@contextmanager
def stop_on_signals(flag: StopFlag = FLAG) -> Iterator[StopFlag]:
    """Install the flag-setting handlers (main thread only), restore the previous ones on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {sig: signal.getsignal(sig) for sig in REASONS}
    for sig in REASONS:
        signal.signal(sig, _handler)
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def slurm_job_id() -> str | None:
    array_job, array_task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and array_task:
        return f"{array_job}_{array_task}"
    return os.environ.get("SLURM_JOB_ID")


def requeue_self(rank: int) -> bool:
    """``scontrol requeue`` this job (rank 0 under SLURM only); True when a requeue was asked for."""
    job = slurm_job_id()
    if rank != 0 or not job:
        return False
    subprocess.run(["scontrol", "requeue", job], check=True, timeout=60)
    log.warning("requeued SLURM job %s after checkpointing", job)
    return True
