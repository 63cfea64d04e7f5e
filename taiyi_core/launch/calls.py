"""What a submitted job runs: a picklable call of a pipeline step's entry point.

The call carries only strings (entry ``module:function``, run folder, frozen preset path, item), so
the pickle stays valid across code edits and the job imports the code that is on disk when it
starts. ``Checkpointable`` lets submitit requeue the same call when SLURM sends the time-limit signal;
steps are written to resume from what they left on disk, so a requeue (or an external
``scontrol requeue``, which restarts the job from the top) redoes only unfinished work.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit


class StepNotBuilt(RuntimeError):
    """The step's entry point does not exist yet in this version of the suite."""


def resolve_entry(entry: str) -> Callable[..., Any]:
    module_name, _, func_name = entry.partition(":")
    if not module_name or not func_name:
        raise ValueError(f"entry {entry!r}: expected 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise StepNotBuilt(
                f"{entry}: module {exc.name} is not part of this version of the suite"
            ) from exc
        raise
    try:
        return getattr(module, func_name)
    except AttributeError:
        raise StepNotBuilt(f"{entry}: {module_name} has no function {func_name!r}") from None


def export_distributed_env() -> dict[str, int]:
    """Export MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK for torch.distributed (env:// init)."""
    env = submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return {"rank": env.rank, "world_size": env.world_size, "local_rank": env.local_rank}


@dataclass
class StepCall(submitit.helpers.Checkpointable):
    entry: str
    run_root: str
    preset_path: str | None = None
    item: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    distributed: bool = False
    hub_online: bool = False  # the profile's hub_online: jobs are offline unless it says otherwise

    def __call__(self) -> Any:
        from taiyi_core.config import load_preset
        from taiyi_core.hub import job_environment
        from taiyi_core.rundir import RunDir

        job_environment(self.hub_online)
        if self.distributed:
            export_distributed_env()
        func = resolve_entry(self.entry)
        preset = load_preset(self.preset_path) if self.preset_path else None
        os.environ.setdefault("TAIYI_RUN", self.run_root)
        return func(RunDir(Path(self.run_root)), preset, self.item, **self.kwargs)

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        # State lives on disk (checkpoints, finished outputs); requeue the very same call.
        return submitit.helpers.DelayedSubmission(self)


@dataclass
class FunctionCall(submitit.helpers.Checkpointable):
    """A plain function with arguments (self-tests, ad-hoc jobs); optionally distributed."""

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    distributed: bool = False

    def __call__(self) -> Any:
        if self.distributed:
            export_distributed_env()
        return self.func(*self.args, **self.kwargs)
