"""Small jobs the launcher tests submit (arrays, afterok, DDP, failures, pipeline-shaped entries).

``hello`` is the package's own (``taiyi doctor --submit`` sends it): ``taiyi_core/launch/selftest.py``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def square(x: int) -> int:
    return x * x


def all_reduce_sum(value: float) -> dict[str, Any]:
    """Each task contributes ``value * (rank + 1)``; every rank must see the same total."""
    import torch
    import torch.distributed as dist

    dist.init_process_group(backend="gloo", init_method="env://")
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        tensor = torch.tensor([value * (rank + 1)], dtype=torch.float64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return {"rank": rank, "world_size": world, "total": float(tensor.item())}
    finally:
        dist.destroy_process_group()


def write_stamp(path: str, delay_s: float = 0.0) -> float:
    """Sleep, then write the current time to ``path``; returns that time."""
    time.sleep(delay_s)
    now = time.time()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(f"{now:.6f}\n")
    return now


def read_stamp(path: str) -> dict[str, float]:
    """Runs after ``write_stamp`` (afterok): the stamp must already exist."""
    stamp = Path(path)
    if not stamp.exists():
        raise FileNotFoundError(f"{stamp}: the job I depend on has not written its stamp")
    return {"stamp": float(stamp.read_text()), "now": time.time()}


def fail(message: str = "deliberate failure") -> None:
    raise RuntimeError(message)


# Pipeline-shaped entries (entry(run, preset, item, **kwargs)) for exercising submit_group.


def items_abc(preset: Any) -> list[str]:
    return ["a", "b", "c"]


def touch_item(run: Any, preset: Any, item: str | None = None, **kwargs: Any) -> str:
    out = Path(run.root) / "selftest" / f"{item or 'single'}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"item": item, "kwargs": kwargs, "job": os.environ.get("SLURM_JOB_ID")}))
    return str(out)


def gather(run: Any, preset: Any, item: str | None = None, **kwargs: Any) -> list[str]:
    """Runs after ``touch_item``'s array: every item's file must be there."""
    done = sorted(p.stem for p in (Path(run.root) / "selftest").glob("*.txt") if p.stem != "single")
    if done != ["a", "b", "c"]:
        raise RuntimeError(f"gather ran before the array finished: found {done}")
    return done


def flaky_item(run: Any, preset: Any, item: str | None = None, **kwargs: Any) -> str:
    """Fails for item 'b' until the file ``selftest/allow-b`` exists (a fixed input, say)."""
    if item == "b" and not (Path(run.root) / "selftest" / "allow-b").exists():
        raise RuntimeError("item b: input not ready")
    return touch_item(run, preset, item, **kwargs)
