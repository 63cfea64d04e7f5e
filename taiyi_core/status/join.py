"""Join the manifest with SLURM's answers and the run directory into one RunStatus (pure)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from typing import TypeVar

from taiyi_core.launch.manifest import Submission
from taiyi_core.status import slurm
from taiyi_core.status.classify import classify
from taiyi_core.status.collect import Facts
from taiyi_core.status.evaluation import data_totals, eval_rows
from taiyi_core.status.model import (
    ACTIVE_STATES,
    DONE_STATES,
    FAILED_STATES,
    STEP_ORDER,
    WAITING_STATES,
    EvalRow,
    FileError,
    JobStatus,
    RundirEvidence,
    RunStatus,
    SacctRow,
    SqueueRow,
    StepStatus,
    TrainProgress,
)
from taiyi_core.status.progress import train_progress

DEFAULT_STALL_AFTER_S = 900.0
TRAIN_STEPS = {"stage1": 1, "stage2": 2}
_NO_TIME = ("", "Unknown", "None", "N/A")  # sacct's words for a start/end that has not happened


def _mode(facts: Facts) -> tuple[str, str | None]:
    if not facts.manifest.submissions and not facts.run.manifest.exists():
        return "in_process", "no manifest: only in-process steps ran; their states come from their outputs"
    if facts.sacct is None:  # no SLURM submissions at all
        return "local", None
    if facts.sacct.ok:
        return "slurm", None
    if facts.squeue is not None and facts.squeue.ok:
        return "degraded", (
            f"DEGRADED: accounting unavailable (sacct: {facts.sacct.error}); states come from squeue for "
            "queued/running jobs and from the run directory (submitit result files, logs) for the rest; "
            "exit codes, restarts of finished jobs and costs are unknown"
        )
    sq = facts.squeue.error if facts.squeue is not None else "not run"
    return "no_slurm", (
        f"SLURM does not answer (sacct: {facts.sacct.error}; squeue: {sq}); states come from the run "
        "directory alone"
    )


def _superseded(subs: list[Submission]) -> set[int]:
    """Submissions replaced by a later one for the same step and task (a resubmission or a re-run)."""
    newest: dict[tuple[str, str | None, int | None], int] = {}
    for s in subs:
        newest[(s.step, s.task, s.array_index if s.task is None else None)] = s.id
    resubmitted = {s.resubmit_of for s in subs if s.resubmit_of}
    return {
        s.id
        for s in subs
        if newest[(s.step, s.task, s.array_index if s.task is None else None)] != s.id
        or s.job_id in resubmitted
    }


def _index(rows: Iterable[SacctRow]) -> dict[str, list[SacctRow]]:
    by_id: dict[str, list[SacctRow]] = defaultdict(list)
    for r in rows:
        by_id[r.job_id].append(r)
    for recs in by_id.values():  # -D lists a requeued job's runs; the newest submit time is current
        recs.sort(key=lambda r: r.submit)
    return by_id


def _hours(recs: list[SacctRow]) -> tuple[float, float]:
    gpu = sum(slurm.gpus_of(r.tres) * r.elapsed_s for r in recs) / 3600
    cpu = sum(r.tres.get("cpu", 0.0) * r.elapsed_s for r in recs) / 3600
    return gpu, cpu


def _job(
    sub: Submission,
    facts: Facts,
    mode: str,
    sacct: dict[str, list[SacctRow]],
    squeue: dict[str, SqueueRow],
    superseded: bool,
) -> JobStatus:
    js = JobStatus(
        submission_id=sub.id,
        step=sub.step,
        job_id=sub.job_id,
        task=sub.task,
        executor=sub.executor,
        state="UNKNOWN",
        source="none",
        superseded=superseded,
        log=f"{sub.folder}/{sub.job_id}_0_log.err",
    )
    recs = sacct.get(sub.job_id, []) if sub.executor == "slurm" else []
    q = squeue.get(sub.job_id) if sub.executor == "slurm" else None
    if recs:
        cur = recs[-1]
        js.state, js.source = cur.state, "sacct"
        js.exit_code, js.elapsed_s, js.timelimit_s, js.nodes = (
            cur.exit_code,
            cur.elapsed_s,
            cur.timelimit_s,
            cur.nodes,
        )
        js.restarts = len(recs) - 1
        # sacct keeps the last pending reason after a job has started: only a waiting job has one
        js.reason = cur.reason if cur.reason not in ("None", "") and cur.state in WAITING_STATES else None
        js.gpu_hours, js.cpu_hours = _hours(recs)
        _resources(js, recs)
        js.elapsed_source = "sacct"
        js.started_at = cur.start if cur.start not in _NO_TIME else None
        js.ended_at = cur.end if cur.end not in _NO_TIME else None
    if q is not None:  # the controller is fresher than accounting for live jobs
        js.state, js.source = q.state, ("sacct+squeue" if recs else "squeue")
        js.reason = q.reason if q.reason not in ("None", "") and q.state in WAITING_STATES else None
        js.expected_start = q.expected_start if q.state in WAITING_STATES else None
        js.restarts = max(js.restarts, q.restarts)
        js.elapsed_s = max(js.elapsed_s or 0, q.elapsed_s)
        js.timelimit_s = q.timelimit_s if q.timelimit_s is not None else js.timelimit_s
        js.nodes = q.nodes or js.nodes
        js.elapsed_source = "sacct+squeue" if recs else "squeue"
    if not recs and q is None:
        ev = facts.evidence(sub)
        if ev.result == "success":
            js.state, js.source = "COMPLETED", "rundir"
        elif ev.result == "error":
            js.state, js.source = "FAILED", "rundir"
        elif sub.executor == "local" and ev.process_alive:
            js.state, js.source = "RUNNING", "rundir"
        elif sub.executor == "local" and ev.process_alive is False:
            js.state, js.source = "FAILED", "rundir"
            js.reason = "no result file and the process is gone (killed?)"
        elif mode == "slurm":
            js.reason = "unknown to sacct and squeue (purged? another cluster?)"
        else:
            js.reason = "no result file yet; not in the queue"
        if sub.executor == "local" or js.state != "UNKNOWN":
            _rundir_times(js, ev, sub, facts.now)
    if js.state in FAILED_STATES:
        ev = facts.evidence(sub)
        text = "\n".join(t for t in (ev.traceback, ev.log_tail) if t)
        js.log = ev.log_paths[0] if ev.log_paths else None
        js.failure = classify(js.state, text, log=js.log)
    return js


def _resources(js: JobStatus, recs: list[SacctRow]) -> None:
    """CPU efficiency (CPU time used / cores allocated x elapsed, as seff computes it) over all runs of
    the job, and the peaks of memory and GPU use that accounting recorded for its steps."""
    used = [r for r in recs if r.total_cpu_s is not None and r.elapsed_s > 0 and r.tres.get("cpu")]
    if used:
        alloc = sum(r.tres["cpu"] * r.elapsed_s for r in used)
        js.cpu_efficiency = round(sum(r.total_cpu_s or 0.0 for r in used) / alloc, 4)
    peak = lambda xs: max(xs) if xs else None  # noqa: E731
    js.max_rss_gb = peak([r.max_rss_gb for r in recs if r.max_rss_gb is not None])
    js.gpu_mem_gb = peak([r.gpu_mem_gb for r in recs if r.gpu_mem_gb is not None])
    js.gpu_util = peak([r.gpu_util for r in recs if r.gpu_util is not None])


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


def _rundir_times(js: JobStatus, ev: RundirEvidence, sub: Submission, now: float) -> None:
    """Start/end/elapsed of a job that only its submitit folder knows about (local executor, or a
    SLURM job that accounting no longer answers for).

    Start: submitit's "Starting with JobEnvironment" log line; else (approximate) the
    ``_submitted.pkl`` mtime or the manifest's ``submitted_at``, which precede the start.
    End: submitit's last completion/exception line; else (approximate) the result pickle's mtime,
    which submitit writes as the job ends; for a job whose process died, the last write to its logs.
    A running job's elapsed time runs to ``now``.
    """
    sources: list[str] = []
    approx = False
    start = ev.log_start
    if start is not None:
        sources.append("submitit_log")
    else:
        submitted = _parse_iso(sub.submitted_at)
        start = ev.submitted_mtime if ev.submitted_mtime is not None else submitted
        if start is not None:
            sources.append("submitted_pkl" if ev.submitted_mtime is not None else "manifest")
            approx = True
    end: float | None = None
    if js.state in ACTIVE_STATES:
        end = None
    elif ev.log_end is not None and ev.result is not None:
        end = ev.log_end
        sources.append("submitit_log")
    elif ev.result_mtime is not None:
        end, approx = ev.result_mtime, True
        sources.append("result_pickle")
    elif js.state in FAILED_STATES and ev.logs_mtime is not None:
        end, approx = ev.logs_mtime, True
        sources.append("file_mtime")
    if start is None:
        return
    js.started_at = _iso(start)
    js.ended_at = _iso(end) if end is not None else None
    if end is None and js.state not in ACTIVE_STATES:
        js.elapsed_source = "+".join(dict.fromkeys(sources))
        js.elapsed_approximate = approx
        return  # finished (or unknown) with no trace of when it ended: no elapsed time
    js.elapsed_s = max(0, int((end if end is not None else now) - start))
    js.elapsed_source = "+".join(dict.fromkeys(sources))
    js.elapsed_approximate = approx


def _parse_iso(text: str | None) -> float | None:
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp()


def step_state(jobs: list[JobStatus]) -> str:
    live = [j for j in jobs if not j.superseded] or jobs
    states = {j.state for j in live}
    if states & (FAILED_STATES - {"CANCELLED"}):
        return "FAILED"
    if states & ACTIVE_STATES:
        return "RUNNING"
    if states & WAITING_STATES:
        return "PENDING"
    if "CANCELLED" in states:
        return "CANCELLED"
    if states and states <= DONE_STATES:
        return "COMPLETED"
    return "UNKNOWN"


def _sum(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals), 4) if vals else None


T = TypeVar("T")


def _shielded(errors: list[FileError], source: str, build: Callable[[], T], default: T) -> T:
    """``build()``; content of an unexpected shape (a number where an object belongs, ...) becomes
    an error naming ``source`` instead of ending the status view."""
    try:
        return build()
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        errors.append(FileError(source, f"unexpected content: {exc}"))
        return default


def build_status(facts: Facts, stall_after_s: float = DEFAULT_STALL_AFTER_S) -> RunStatus:
    errors = facts.errors
    mode, message = _mode(facts)
    sacct: dict[str, list[SacctRow]] = {}
    sacct_text = facts.sacct.stdout if facts.sacct and facts.sacct.ok else None
    if sacct_text is not None:
        sacct = _shielded(errors, "sacct output", lambda: _index(slurm.parse_sacct(sacct_text)), {})
    squeue: dict[str, SqueueRow] = {}
    squeue_text = facts.squeue.stdout if facts.squeue and facts.squeue.ok else None
    if squeue_text is not None:
        squeue = _shielded(
            errors,
            "squeue output",
            lambda: {r.job_id: r for r in slurm.parse_squeue(squeue_text)},
            {},
        )
    subs = facts.manifest.submissions
    old = _superseded(subs)
    by_step: dict[str, list[JobStatus]] = defaultdict(list)
    for sub in subs:
        by_step[sub.step].append(_job(sub, facts, mode, sacct, squeue, sub.id in old))
    # steps run in-process (taiyi data prepare / train / eval ...) have outputs but no manifest entry
    on_disk = {name for name in STEP_ORDER if name not in by_step and _has_outputs(name, facts)}
    order = [s for s in STEP_ORDER if s in by_step or s in on_disk] + [
        s for s in by_step if s not in STEP_ORDER
    ]
    steps: list[StepStatus] = []
    for name in order:
        jobs = by_step.get(name, [])
        counts: dict[str, int] = defaultdict(int)
        for j in jobs:
            if not j.superseded:
                counts[j.state] += 1
        progress = None
        stage = TRAIN_STEPS.get(name)
        if stage is not None and stage in facts.train:
            t = facts.train[stage]
            running = any(j.state in ACTIVE_STATES for j in jobs if not j.superseded)
            progress = _shielded(
                errors,
                str(facts.run.train(stage) / "log.jsonl"),
                partial(
                    train_progress,
                    t.stage,
                    t.rows,
                    t.log_mtime,
                    t.checkpoints,
                    facts.now,
                    stall_after_s,
                    running,
                    summary=t.summary,
                    summary_path=t.summary_path,
                ),
                None,
            )
            if progress is not None:
                progress.bad_log_lines = t.bad_lines
        steps.append(
            StepStatus(
                name=name,
                state=step_state(jobs) if jobs else _file_state(name, facts, progress, stall_after_s),
                counts=dict(counts),
                jobs=jobs,
                gpu_hours=_sum(j.gpu_hours for j in jobs),
                cpu_hours=_sum(j.cpu_hours for j in jobs),
                progress=progress,
                in_process=not jobs,
            )
        )
    rows, eval_source = _eval(facts, errors)
    calls = [
        {"argv": list(c.argv), "ok": c.ok, "error": c.error or None, "seconds": round(c.seconds, 4)}
        for c in (facts.sacct, facts.squeue)
        if c is not None
    ]
    return RunStatus(
        run=facts.manifest.run or facts.run.name,
        root=str(facts.run.root),
        generated_at=dt.datetime.fromtimestamp(facts.now, dt.UTC).isoformat(timespec="seconds"),
        mode=mode,
        message=message,
        steps=steps,
        gpu_hours=_sum(s.gpu_hours for s in steps),
        cpu_hours=_sum(s.cpu_hours for s in steps),
        eval_rows=rows,
        eval_source=eval_source,
        data_totals=_shielded(
            errors, str(facts.run.data / "report.json"), lambda: data_totals(facts.data_report), None
        ),
        manifest={
            "path": str(facts.run.manifest),
            "version": facts.manifest.version,
            "preset": facts.manifest.preset,
            "profile": facts.manifest.profile,
            "created": facts.manifest.created,
            "submissions": len(subs),
        },
        slurm_calls=calls,
        eval_progress=facts.eval.progress,
        errors=errors,
    )


def _has_outputs(name: str, facts: Facts) -> bool:
    run = facts.run
    if name == "data":
        return run.unified.is_dir() and any(run.unified.iterdir())
    if name == "curate":
        return run.sft(1).exists() or run.sft(2).exists()
    if name in TRAIN_STEPS:
        return TRAIN_STEPS[name] in facts.train
    if name == "eval":
        return bool(facts.eval.progress) and any(p.written for p in facts.eval.progress)
    if name == "report":
        return (run.root / "eval" / "scoreboard.json").exists()
    return False


def _file_state(name: str, facts: Facts, progress: TrainProgress | None, stall_after_s: float) -> str:
    """The state of a step that ran in-process, from its outputs: COMPLETED when they are whole,
    RUNNING while its log is fresh, else INCOMPLETE (stopped, killed, or still to be resumed)."""
    if name in TRAIN_STEPS:
        if progress is None:
            return "UNKNOWN"
        if progress.done:
            return "COMPLETED"
        fresh = progress.last_log_age_s is not None and progress.last_log_age_s < stall_after_s
        return "RUNNING" if fresh else "INCOMPLETE"
    if name == "eval":
        started = [p for p in facts.eval.progress if p.written]
        return "COMPLETED" if started and all(p.scored for p in started) else "INCOMPLETE"
    return "COMPLETED" if _has_outputs(name, facts) else "UNKNOWN"


def _eval(facts: Facts, errors: list[FileError]) -> tuple[list[EvalRow], str | None]:
    """Rows of the scoreboard; of the metrics files when the scoreboard has an unexpected shape."""
    ev = facts.eval
    if ev.scoreboard is not None:
        board_rows = _shielded(
            errors, ev.source or "scoreboard", lambda: eval_rows(None, ev.scoreboard, ""), None
        )
        if board_rows is not None:
            return board_rows, ev.source
    good: list[EvalRow] = []
    for m in ev.metrics:
        row: list[EvalRow] = _shielded(
            errors,
            str(facts.run.eval(str(m.get("dataset"))) / "metrics.json"),
            partial(eval_rows, [m]),
            [],
        )
        good.extend(row)
    return good, (str(facts.run.root / "eval") if good else None)
