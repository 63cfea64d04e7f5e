"""A resumed stage leaves no stale TensorBoard tail: the killed attempt's events after the checkpoint
the stage resumed from are purged (SummaryWriter purge_step), so the curve is one line."""

from __future__ import annotations

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter
from transformers import TrainerControl, TrainerState

from taiyi_core.train.callbacks import LogCallback


def _steps(folder) -> list[int]:
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return [e.step for e in acc.Scalars("train/loss")]


def test_resume_purges_the_killed_attempts_tail(tmp_path):
    tb = tmp_path / "tensorboard"
    killed = SummaryWriter(log_dir=str(tb))  # the first attempt logged steps 1..10, then was killed
    for step in range(1, 11):
        killed.add_scalar("train/loss", 10.0 - step, step)
    killed.flush()
    killed.close()
    # the stage resumes from the checkpoint at step 5 (TrainerState is loaded before on_train_begin)
    callback = LogCallback(tmp_path, ledger=None)
    callback.on_train_begin(None, TrainerState(global_step=5), TrainerControl())
    for step in range(6, 9):
        callback._writer.add_scalar("train/loss", 1.0, step)
    callback._writer.close()
    assert _steps(tb) == [1, 2, 3, 4, 5, 6, 7, 8]  # no step twice, nothing from the stale tail


def test_a_fresh_stage_purges_nothing(tmp_path):
    callback = LogCallback(tmp_path, ledger=None)
    callback.on_train_begin(None, TrainerState(global_step=0), TrainerControl())
    for step in (1, 2):
        callback._writer.add_scalar("train/loss", 1.0, step)
    callback._writer.close()
    assert _steps(tmp_path / "tensorboard") == [1, 2]
