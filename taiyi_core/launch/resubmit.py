"""Resubmit the failed or lost tasks of a run with exactly the calls they were first given.

submitit keeps each job's pickled call (``<job>_submitted.pkl``) in its folder; resubmitting that
pickle guarantees the same step, item and frozen preset. Jobs that were queued behind a failed one
(``DependencyNeverSatisfied``) are pointed at the new job ids instead of being left stuck.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from submitit.core.utils import DelayedSubmission, JobPaths

from taiyi_core.launch import slurm_state
from taiyi_core.launch.job_files import read_result_pickle
from taiyi_core.launch.manifest import Submission
from taiyi_core.launch.pipeline import Launcher, Submitted


@dataclass
class Verdict:
    submission: Submission
    state: str  # the SLURM state, or LOST / LOCAL_FAILED / LOCAL_OK / LOCAL_UNKNOWN


def _local_state(sub: Submission) -> str:
    """A local job's outcome from its result pickle (read as taiyi-status reads it, never unpickled)."""
    outcome, _ = read_result_pickle(JobPaths(sub.folder, job_id=sub.job_id, task_id=0).result_pickle)
    if outcome is None:
        return "LOST"
    return "LOCAL_OK" if outcome == "success" else "LOCAL_FAILED"


def judge(launcher: Launcher) -> list[Verdict]:
    """The newest submission of every (step, task), with its state."""
    data = launcher.manifest.read()
    if data is None:
        return []
    newest: dict[tuple[str, str | None], Submission] = {}
    for sub in data.submissions:
        newest[(sub.step, sub.task)] = sub
    slurm_ids = [s.job_id for s in newest.values() if s.executor == "slurm"]
    states = slurm_state.job_states(slurm_ids)
    verdicts = []
    for sub in newest.values():
        if sub.executor == "slurm":
            verdicts.append(Verdict(sub, states.get(sub.job_id, "LOST")))
        else:
            verdicts.append(Verdict(sub, _local_state(sub)))
    return verdicts


def needs_resubmit(v: Verdict) -> bool:
    return v.state in slurm_state.FAILED or v.state in {"LOST", "LOCAL_FAILED"}


def resubmit_failed(launcher: Launcher, steps: list[str] | None = None) -> list[Submitted]:
    """Resubmit what failed or was lost; returns the new submissions (manifest: ``resubmit_of``)."""
    todo = [v for v in judge(launcher) if needs_resubmit(v) and (steps is None or v.submission.step in steps)]
    new: list[Submitted] = []
    replaced: dict[str, str] = {}
    by_step: dict[str, list[Verdict]] = {}
    for v in todo:
        by_step.setdefault(v.submission.step, []).append(v)
    for step, verdicts in by_step.items():
        calls, tasks, old_ids = [], [], []
        for v in verdicts:
            pkl = JobPaths(v.submission.folder, job_id=v.submission.job_id).submitted_pickle
            if not pkl.exists():
                raise FileNotFoundError(
                    f"{pkl}: the pickled call of job {v.submission.job_id} is gone; "
                    f"submit step {step!r} again instead"
                )
            delayed = DelayedSubmission.load(pkl)
            calls.append(delayed.function)
            tasks.append(v.submission.task)
            old_ids.append(v.submission.job_id)
        subs = launcher.submit_calls(step, calls, tasks=tasks, resubmit_of=old_ids)
        new += subs
        replaced.update({old: s.job_id for old, s in zip(old_ids, subs, strict=True)})
    if replaced:
        repoint_dependents(replaced)
    return new


def repoint_dependents(replaced: dict[str, str]) -> list[str]:
    """Point pending jobs whose afterok named a replaced job at its replacement."""
    out = subprocess.run(["squeue", "-h", "-t", "PD", "-o", "%i|%E"], capture_output=True, text=True)
    if out.returncode != 0:
        return []
    changed = []
    for line in out.stdout.splitlines():
        jid, _, dep = line.partition("|")
        if not dep.startswith("afterok:"):
            continue
        targets = [t.split("(")[0] for t in dep.removeprefix("afterok:").split(":")]
        if not any(t in replaced for t in targets):
            continue
        new_dep = "afterok:" + ":".join(replaced.get(t, t) for t in targets)
        if (
            subprocess.run(
                ["scontrol", "update", f"JobId={jid}", f"Dependency={new_dep}"], capture_output=True
            ).returncode
            == 0
        ):
            changed.append(jid)
    return changed


def describe(verdicts: list[Verdict]) -> list[tuple[str, str, str, str]]:
    return [(v.submission.step, v.submission.task or "-", v.submission.job_id, v.state) for v in verdicts]
