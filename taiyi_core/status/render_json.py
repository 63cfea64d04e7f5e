"""The status as one versioned JSON object (documented in SCHEMA.md next to this file)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from taiyi_core.status.evaluation import eval_summary
from taiyi_core.status.model import RunStatus

SCHEMA = "taiyi-status"
VERSION = 1


def _round(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(v, nd)


def totals(status: RunStatus) -> dict[str, Any]:
    """Job counts by state over current (not superseded) submissions, and the run's cost."""
    states: Counter[str] = Counter()
    for step in status.steps:
        states.update(step.counts)
    return {
        "jobs": sum(states.values()),
        "states": dict(sorted(states.items())),
        "gpu_hours": _round(status.gpu_hours),
        "cpu_hours": _round(status.cpu_hours),
    }


def to_dict(status: RunStatus) -> dict[str, Any]:
    steps = []
    for step in status.steps:
        progress = None
        if step.progress is not None:
            progress = dataclasses.asdict(step.progress)
            progress["curve"] = [[s, loss] for s, loss in step.progress.curve]
        steps.append(
            {
                "name": step.name,
                "state": step.state,
                "in_process": step.in_process,
                "counts": dict(sorted(step.counts.items())),
                "gpu_hours": _round(step.gpu_hours),
                "cpu_hours": _round(step.cpu_hours),
                "progress": progress,
                "jobs": [
                    {
                        **{
                            k: v
                            for k, v in dataclasses.asdict(j).items()
                            if k not in ("gpu_hours", "cpu_hours")
                        },
                        "gpu_hours": _round(j.gpu_hours),
                        "cpu_hours": _round(j.cpu_hours),
                    }
                    for j in step.jobs
                ],
            }
        )
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "run": status.run,
        "root": status.root,
        "generated_at": status.generated_at,
        "mode": status.mode,
        "message": status.message,
        "manifest": status.manifest,
        "slurm_calls": status.slurm_calls,
        "totals": totals(status),
        "steps": steps,
        "eval": {
            "source": status.eval_source,
            "summary": eval_summary(status.eval_rows),
            "rows": [dataclasses.asdict(r) for r in status.eval_rows],
            "progress": [dataclasses.asdict(p) for p in status.eval_progress],
        },
        "data": {"totals": status.data_totals} if status.data_totals is not None else None,
        "errors": [dataclasses.asdict(e) for e in status.errors],
    }
