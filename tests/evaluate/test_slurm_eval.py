"""The eval step on the real dev cluster: one SLURM array over several eval sets, tasks in parallel,
one task killed mid-generation, and ``resubmit_failed`` redoing only that set from its partial
predictions while the finished sets' files stay untouched.

Four sets, one array task each: three small NER sets (4 answer tokens, done in a few seconds) and one
text-classification set with long answers (48 tokens, 2 rows per batch, 240 rows), which is killed
with ``scancel --signal=KILL --full <array>_<i>`` once it has written its first batch. The pipeline's
``eval`` group also queues the ``report`` step behind the array; it stays pending behind the
cancelled task until the resubmission repoints it, then writes the scoreboard over all four sets.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from evalhelpers import ner_rows, write_eval_set

from taiyi_core.config import load_profile
from taiyi_core.launch import Launcher, load_pipeline, wait
from taiyi_core.launch.resubmit import resubmit_failed
from taiyi_core.launch.slurm_state import job_states
from taiyi_core.rundir import RunDir
from tests.conftest import slurm_available

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(
        not slurm_available(),
        reason="sbatch/squeue not found: start the dev cluster (make devcluster-up) to run SLURM tests",
    ),
]

FAST = ("bc5cdr_chem", "ncbi_disease", "chemdner")  # NER, 4 answer tokens
SLOW = "bc7_litcovid"  # TC, 48 answer tokens: the one that gets killed
LIMIT = 240  # the slow file has 300 rows; only the first 240 are evaluated (enough to outlast the kill)
LABELS = ("Treatment", "Mechanism", "Prevention", "Diagnosis", "Case Report", "Transmission")


def tc_rows(dataset: str, n: int) -> list[dict]:
    """LitCovid-style topic classification rows in the data/eval contract format."""
    rows = []
    for i in range(n):
        text = f"Case {i}: SARS-CoV-2 patients treated with drug {i} " + "and followed up " * (i % 5)
        gold = "; ".join(LABELS[j % len(LABELS)] for j in range(i % 3 + 1))
        rows.append(
            {
                "id": f"{dataset}-{i}",
                "dataset": dataset,
                "task": "tc",
                "lang": "en",
                "prompt": f"Document triage: which topics? Labels: {', '.join(LABELS)}.\nText: {text}",
                "target": f"Result: {gold}",
                "input_text": text,
            }
        )
    return rows


def write_preset(path: Path, model: Path) -> Path:
    preset = {
        "name": "slurm-eval-test",
        "model": {"name_or_path": str(model)},
        "eval": {
            "datasets": [*FAST, SLOW],
            "adapter": "none",
            "backend": "hf",
            "batch_size": 2,
            "limit": LIMIT,
            "max_new_tokens": {"ner": 4, "tc": 48},
        },
        "resources": {"eval": {"cpus_per_task": 1, "mem_gb": 1, "timeout_min": 10}},
    }
    path.write_text(yaml.safe_dump(preset), encoding="utf-8")
    return path


def complete_lines(path: Path) -> list[dict]:
    """Rows of a predictions file that a killed writer finished (a cut-off last line is ignored)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def fingerprint_files(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        f.name: (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
        for f in sorted(folder.iterdir())
    }


def peak_concurrency(intervals: list[tuple[str, str]]) -> int:
    """Most intervals running at one moment (ISO times compare as strings; end is exclusive)."""
    return max(sum(start <= t < end for start, end in intervals) for t, _ in intervals)


def squeue_state(job_id: str) -> str:
    """The controller's own state word (accounting says CANCELLED before the processes are gone)."""
    out = subprocess.run(
        ["squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%T"], capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else ""


def diagnose(run: RunDir, sub, n: int) -> str:
    """What a failed assertion about the killed task shows: its files, state and log tail."""
    files = sorted(str(p.relative_to(run.root)) for p in run.eval(SLOW).iterdir())
    err = Path(sub.job.paths.stderr)
    tail = err.read_text(errors="replace")[-2000:] if err.exists() else "(no log)"
    return f"{n} complete rows; files {files}; state {job_states([sub.job_id])}; log tail:\n{tail}"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def sacct_intervals(array_id: str) -> dict[str, tuple[str, str]]:
    """JobID -> (Start, End) of each array task, from accounting (ISO times, 1 s resolution)."""
    out = subprocess.run(
        ["sacct", "-n", "-P", "-X", "-j", array_id, "--format=JobID,Start,End"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    return {jid: (start, end) for jid, start, end in rows}


def ended_intervals(array_id: str, n: int) -> dict[str, tuple[str, str]] | None:
    """The tasks' intervals once accounting has all ``n`` of them with an end time (it lags)."""
    intervals = sacct_intervals(array_id)
    done = len(intervals) == n and all(end not in ("Unknown", "None", "") for _, end in intervals.values())
    return intervals if done else None


def test_eval_array_runs_in_parallel_and_a_killed_set_resumes_alone(runs_root, tmp_path, tiny_model):
    run = RunDir.named("slurm-eval")
    for name in FAST:
        write_eval_set(run, ner_rows(name, n=4), name)
    write_eval_set(run, tc_rows(SLOW, 300), SLOW)
    launcher = Launcher(run, load_profile("devcluster"), write_preset(tmp_path / "preset.yaml", tiny_model))
    t0 = time.monotonic()
    try:
        submitted = launcher.submit_group("eval", load_pipeline())  # the real jobs/pipeline.yaml
        evals = submitted["eval"]
        by_task = {s.record.task: s for s in evals}

        # one SLURM array, one task per eval set, in the preset's order
        assert [s.record.task for s in evals] == [*FAST, SLOW]
        array_ids = {s.record.array_job_id for s in evals}
        assert len(array_ids) == 1 and None not in array_ids, array_ids
        array_id = array_ids.pop()
        assert [s.record.array_index for s in evals] == [0, 1, 2, 3]
        assert [s.job_id for s in evals] == [f"{array_id}_{i}" for i in range(4)]
        [report] = submitted["report"]
        assert report.record.depends_on == [s.job_id for s in evals]

        # kill the slow set once its first batch is on disk
        slow_preds = run.eval(SLOW) / "predictions.jsonl"
        wait_for(lambda: len(complete_lines(slow_preds)) >= 2, 90, f"the first batch of {SLOW}")
        slow_id = by_task[SLOW].job_id
        # SIGKILL to every process of the task at once, like a node loss or the OOM killer: a plain
        # scancel sends SIGTERM, which submitit ignores, and on a quiet machine the task can then
        # finish its set during KillWait.
        subprocess.run(["scancel", "--signal=KILL", "--full", slow_id], check=True)
        # CANCELLED shows once the job's processes are gone
        wait_for(lambda: squeue_state(slow_id) == "CANCELLED", 30, f"{slow_id} to end")
        t_killed = time.monotonic() - t0

        fast_results = wait([by_task[name] for name in FAST])
        assert [r["status"] for r in fast_results] == ["done"] * 3
        assert all(r["skipped"] is False for r in fast_results)

        # the killed set stopped part-way: some predictions, no metrics
        partial = complete_lines(slow_preds)
        assert 2 <= len(partial) < LIMIT, diagnose(run, by_task[SLOW], len(partial))
        assert not (run.eval(SLOW) / "metrics.json").exists()
        partial_ids = [r["id"] for r in partial]
        assert len(set(partial_ids)) == len(partial_ids)

        # each finished set wrote predictions and metrics in the contract shape
        before = {}
        for name in FAST:
            out = run.eval(name)
            preds = complete_lines(out / "predictions.jsonl")
            assert [p["id"] for p in preds] == [f"{name}-{i}" for i in range(4)]
            assert all({"id", "prompt", "prediction", "target"} <= set(p) for p in preds)
            metrics = json.loads((out / "metrics.json").read_text())
            assert metrics["dataset"] == name and metrics["task"] == "ner" and metrics["n"] == 4
            assert metrics["missing"] == 0 and "f1" in metrics and metrics["model"]["name_or_path"]
            before[name] = fingerprint_files(out)

        # the tasks ran at the same time (scheduler's record). On an idle cluster all four overlap;
        # three is demanded so that another user's jobs holding one slot do not fail the test.
        intervals = wait_for(lambda: ended_intervals(array_id, 4), 30, "accounting of the array tasks")
        assert peak_concurrency(list(intervals.values())) >= 3, intervals

        # the report waits behind the cancelled task (afterok can no longer be met)
        assert job_states([report.job_id])[report.job_id] == "PENDING"

        # Mark the rows written before the kill: regenerating an id would drop the marker.
        raw = slow_preds.read_bytes()
        cut = raw.rfind(b"\n") + 1
        marked = "".join(json.dumps({**r, "before_kill": True}) + "\n" for r in partial)
        slow_preds.write_bytes(marked.encode() + raw[cut:])

        new = resubmit_failed(launcher)
        assert [(s.step, s.record.task) for s in new] == [("eval", SLOW)]
        assert new[0].record.resubmit_of == slow_id
        [result] = wait(new)
        assert result["status"] == "done" and result["skipped"] is False
        t_resumed = time.monotonic() - t0

        # the killed set finished from where it stopped
        final = complete_lines(slow_preds)
        assert [r["id"] for r in final] == [f"{SLOW}-{i}" for i in range(LIMIT)]
        kept = {r["id"] for r in final if r.get("before_kill")}
        assert kept == set(partial_ids), "ids generated before the kill were generated again"
        generation = json.loads((run.eval(SLOW) / "generation.json").read_text())
        assert generation["resumed_with"] == len(partial)
        new_rows = [r for r in final if not r.get("before_kill")]
        assert len(new_rows) == LIMIT - len(partial)
        assert generation["generated_tokens"] == sum(r["new_tokens"] for r in final)  # every attempt's
        metrics = json.loads((run.eval(SLOW) / "metrics.json").read_text())
        assert metrics["task"] == "tc" and metrics["n"] == LIMIT and metrics["missing"] == 0

        # the other sets were not touched (not regenerated, not rescored)
        for name in FAST:
            assert fingerprint_files(run.eval(name)) == before[name], name

        # the manifest: the array, the report, then the one resubmitted task
        entries = json.loads(run.manifest.read_text())["submissions"]
        assert [(e["step"], e["task"]) for e in entries] == [
            *[("eval", name) for name in (*FAST, SLOW)],
            ("report", None),
            ("eval", SLOW),
        ]

        # the report was repointed at the new job and ran over all four sets
        [board_result] = wait([report])
        board = json.loads((run.root / "eval" / "scoreboard.json").read_text())
        scored = {r["dataset"] for r in board["rows"] if r["ours"] is not None}
        assert scored == {*FAST, SLOW}, board_result
        print(
            f"\nkilled after {t_killed:.1f} s, resumed set done after {t_resumed:.1f} s, "
            f"{len(partial)}/{LIMIT} rows kept; total {time.monotonic() - t0:.1f} s; sacct {intervals}"
        )
    finally:
        data = launcher.manifest.read()
        ids = [s.job_id for s in data.submissions] if data else []
        live = [jid for jid, state in job_states(ids).items() if state in ("PENDING", "RUNNING")]
        if live:
            subprocess.run(["scancel", *live], check=False)
