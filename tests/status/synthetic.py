"""A synthetic run of N submissions with matching sacct/squeue text, for the latency benchmark and tests.

The text follows ``slurm.sacct_argv``/``slurm.squeue_argv`` formats exactly, so the parse-and-join
path is the real one; only the SLURM answers are canned.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from taiyi_core.rundir import RunDir

_TRACE = """Traceback (most recent call last):
  File "/opt/venv/lib/python3.11/site-packages/taiyi_core/data/jobs.py", line 61, in prepare_dataset
    for rec in reader.read(paths, options, dataset=name, split=split, lang=lang):
KeyError: 'text'
"""


def make_run(root: Path, n: int, seed: int = 0, first_job: int = 70000) -> tuple[RunDir, str, str]:
    """Write runs/<synthetic-n>/manifest.json (+ logs of failed jobs); return (run, sacct text, squeue text).

    Layout: one data array (most jobs), curate, stage1, stage2, and an eval array with the rest.
    """
    rng = random.Random(seed)
    run = RunDir(root / f"synthetic-{n}").ensure()
    n_eval = max(1, n // 10)
    n_data = max(1, n - n_eval - 3)
    plan: list[tuple[str, int | None]] = [("data", i) for i in range(n_data)]
    plan += [("curate", None), ("stage1", None), ("stage2", None)]
    plan += [("eval", i) for i in range(n - len(plan))]
    subs, sacct, squeue = [], [], []
    job = first_job
    arrays: dict[str, int] = {}
    for k, (step, idx) in enumerate(plan, 1):
        if idx is None:
            job += 1
            jid, array_id = str(job), None
        else:
            if step not in arrays:
                job += 1
                arrays[step] = job
            array_id = str(arrays[step])
            jid = f"{array_id}_{idx}"
        folder = run.logs(step)
        folder.mkdir(parents=True, exist_ok=True)
        subs.append(
            {
                "id": k,
                "step": step,
                "job_id": jid,
                "array_job_id": array_id,
                "array_index": idx,
                "task": f"{step}-set-{idx}" if idx is not None else None,
                "executor": "slurm",
                "profile": "synthetic",
                "config_hash": "0" * 12,
                "git_commit": None,
                "submitted_at": "2026-11-20T00:00:00+00:00",
                "folder": str(folder),
                "depends_on": [],
                "resubmit_of": None,
                "nodes": 1,
                "gpus": 8 if step.startswith("stage") else 0,
                "cpus": 8,
            }
        )
        roll = rng.random()
        state = (
            "COMPLETED"
            if roll < 0.8
            else "FAILED"
            if roll < 0.87
            else "RUNNING"
            if roll < 0.94
            else "PENDING"
        )
        tres = (
            "billing=8,cpu=8,gres/gpu=8,mem=256G,node=1"
            if step.startswith("stage")
            else "billing=8,cpu=8,node=1"
        )
        elapsed = 0 if state == "PENDING" else rng.randint(30, 4000)
        sacct.append(
            f"{jid}|{job}|{state}|{'1:0' if state == 'FAILED' else '0:0'}|{elapsed}|240|1|"
            f"{tres if state != 'PENDING' else ''}|{'Resources' if state == 'PENDING' else 'None'}|"
            "2026-11-20T00:00:00|2026-11-20T00:01:00|2026-11-20T01:00:00|"
            f"{'' if state == 'PENDING' else f'{elapsed * 6 // 60:02d}:{elapsed * 6 % 60:02d}.120'}||"
        )
        if state not in ("PENDING",):  # the batch step carries the peak memory
            gpu = ",gres/gpumem=60G,gres/gpuutil=91" if step.startswith("stage") else ""
            sacct.append(
                f"{jid}.batch|{job}.batch|{state}|0:0|{elapsed}||1|cpu=8,mem=0,node=1||||||"
                f"{rng.randint(1, 60)}G|cpu=00:01:00,mem={rng.randint(1, 60)}G{gpu}"
            )
        if state in ("RUNNING", "PENDING"):
            reason = "None" if state == "RUNNING" else "Resources"
            squeue.append(
                f"{jid}|{state}|{reason}|N/A|0|{elapsed // 60}:{elapsed % 60:02d}|4:00:00|1|"
                f"{tres if state == 'RUNNING' else ''}|"
            )
        if state == "FAILED":
            (folder / f"{jid}_0_log.err").write_text(_TRACE, encoding="utf-8")
            (folder / f"{jid}_0_log.out").write_text("starting\n", encoding="utf-8")
    manifest = {
        "version": 1,
        "run": run.name,
        "created": "2026-11-20T00:00:00+00:00",
        "preset": "synthetic",
        "profile": "synthetic",
        "submissions": subs,
    }
    run.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    return run, "\n".join(sacct) + "\n", "\n".join(squeue) + ("\n" if squeue else "")
