"""Collect the raw facts of a run: manifest, one sacct + one squeue answer, and files on disk.

Nothing here interprets states; ``join.build_status`` does that from what this module gathers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from taiyi_core.launch.job_files import job_files, read_result_pickle
from taiyi_core.launch.manifest import ManifestData, Submission
from taiyi_core.rundir import RunDir
from taiyi_core.status import slurm
from taiyi_core.status.classify import TAIL_LINES
from taiyi_core.status.model import CommandResult, EvalProgress, FileError, RundirEvidence

TAIL_BYTES = 64 * 1024
HEAD_BYTES = 8 * 1024
# submitit's log format: "submitit INFO (2026-11-24 21:24:07,758) - Starting with JobEnvironment(...)";
# asctime is the local time of the host that ran the job.
_SUBMITIT_LINE = re.compile(
    r"^submitit (?:INFO|ERROR|WARNING) \((\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\) - (.*)$", re.M
)
_END_MESSAGES = ("Job completed successfully", "Exiting after", "Submitted job triggered an exception")


def run_command(argv: list[str], timeout: float = 30.0) -> CommandResult:
    """Run one SLURM client command; never raises, the result says what went wrong."""
    t0 = time.perf_counter()
    if shutil.which(argv[0]) is None:
        return CommandResult(tuple(argv), ok=False, error=f"{argv[0]}: command not found")
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return CommandResult(
            tuple(argv),
            ok=False,
            error=f"{argv[0]}: no answer within {timeout:.0f} s",
            seconds=time.perf_counter() - t0,
        )
    except OSError as exc:
        return CommandResult(
            tuple(argv), ok=False, error=f"{argv[0]}: {exc}", seconds=time.perf_counter() - t0
        )
    secs = time.perf_counter() - t0
    if out.returncode != 0:
        # squeue -j with only ids that have left the controller answers rc=1 "Invalid job id specified":
        # that is an empty queue for us, not an outage.
        if argv[0] == "squeue" and "Invalid job id specified" in out.stderr:
            return CommandResult(tuple(argv), ok=True, stdout="", seconds=secs)
        err = (out.stderr.strip() or f"exit status {out.returncode}").splitlines()[0]
        return CommandResult(tuple(argv), ok=False, stdout=out.stdout, error=err, seconds=secs)
    return CommandResult(tuple(argv), ok=True, stdout=out.stdout, seconds=secs)


def read_manifest(run: RunDir) -> ManifestData:
    if not run.manifest.exists():
        raise FileNotFoundError(
            f"{run.manifest}: no run manifest (has anything been submitted for this run?)"
        )
    try:
        return ManifestData.model_validate_json(run.manifest.read_bytes())
    except ValueError as exc:
        first = str(exc).splitlines()[1:2] or [str(exc)]
        raise ValueError(f"not a valid run manifest (version 1 expected): {first[0].strip()}") from exc


def empty_manifest(run: RunDir) -> ManifestData:
    """The manifest of a run that has none (only in-process steps ran) or whose manifest is unreadable."""
    return ManifestData(run=run.name, created="")


def read_tail(path: Path, max_bytes: int = TAIL_BYTES) -> str:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - max_bytes))
        data = fh.read()
    return data.decode("utf-8", errors="replace")


def read_head(path: Path, max_bytes: int = HEAD_BYTES) -> str:
    with path.open("rb") as fh:
        return fh.read(max_bytes).decode("utf-8", errors="replace")


def _log_time(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # naive: this host's zone


def submitit_log_times(head: str, tails: list[str]) -> tuple[float | None, float | None]:
    """(start, end) unix times from submitit's own log lines: its "Starting with" line and its last
    completion/exception/exit line. Either is None when the line is not there (yet)."""
    start = next(
        (_log_time(m.group(1)) for m in _SUBMITIT_LINE.finditer(head) if m.group(2).startswith("Starting")),
        None,
    )
    ends = [
        _log_time(m.group(1))
        for text in tails
        for m in _SUBMITIT_LINE.finditer(text)
        if m.group(2).startswith(_END_MESSAGES)
    ]
    return start, (max(ends) if ends else None)


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _pid_alive(job_id: str) -> bool | None:
    if not job_id.isdigit():
        return None
    try:
        os.kill(int(job_id), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return None
    return True


def rundir_evidence(sub: Submission) -> RundirEvidence:
    """What a job left in its folder: result pickle verdict, log paths and the last lines of its logs."""
    logs, results = job_files(Path(sub.folder), sub.job_id)
    verdict: str | None = None
    trace: str | None = None
    for res in results:
        v, t = read_result_pickle(res)
        if v == "error" or verdict is None:
            verdict, trace = v, t
    tails = [read_tail(p) for p in reversed(logs)]  # stdout first, stderr last
    tail = "\n".join("\n".join(tails).splitlines()[-TAIL_LINES:])
    alive = _pid_alive(sub.job_id) if sub.executor == "local" and verdict is None else None
    rank0_out = Path(sub.folder) / f"{sub.job_id}_0_log.out"
    head = read_head(rank0_out) if rank0_out.exists() else ""
    start, end = submitit_log_times(head, tails)
    log_times = [m for p in logs if (m := _mtime(p)) is not None]
    result_times = [m for p in results if (m := _mtime(p)) is not None]
    return RundirEvidence(
        result=verdict,
        traceback=trace,
        log_paths=tuple(str(p) for p in logs),
        log_tail=tail,
        process_alive=alive,
        log_start=start,
        log_end=end,
        result_mtime=max(result_times) if result_times else None,
        submitted_mtime=_mtime(Path(sub.folder) / f"{sub.job_id}_submitted.pkl"),
        logs_mtime=max(log_times) if log_times else None,
    )


@dataclass
class TrainFacts:
    stage: int
    rows: list[dict[str, Any]]
    bad_lines: int
    log_mtime: float | None
    checkpoints: list[tuple[str, float]]  # (path, mtime), oldest first
    summary: dict[str, Any] | None = None  # train/stage{N}/stage.json, written when the stage ends
    summary_path: str | None = None


def read_train(run: RunDir, stage: int, errors: list[FileError]) -> TrainFacts | None:
    """The stage's trainer log and stage.json; damage to either is recorded in ``errors``."""
    folder = run.train(stage)
    log = folder / "log.jsonl"
    stage_json = folder / "stage.json"
    summary = _guard(errors, stage_json, lambda: _read_json(stage_json)) if stage_json.exists() else None
    if summary is not None and not isinstance(summary, dict):
        errors.append(FileError(str(stage_json), "expected a JSON object (global_step, max_steps, ...)"))
        summary = None
    if not log.exists() and summary is None:
        return None
    rows: list[dict[str, Any]] = []
    bad = 0
    text = ""
    if log.exists():  # an invalid byte spoils one line, not the log
        text = _guard(errors, log, lambda: log.read_bytes().decode("utf-8", errors="replace")) or ""
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad += 1  # a line being appended right now, or damage: counted, not fatal for a status view
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        else:
            bad += 1
    if bad:
        errors.append(FileError(str(log), f"{bad} line(s) are not JSON objects (truncated or damaged)"))
    ckpts: list[tuple[str, float]] = []
    cdir = folder / "checkpoints"
    try:
        for entry in os.scandir(cdir) if cdir.is_dir() else ():
            if entry.is_dir() and entry.name.startswith("step-"):
                ckpts.append((entry.path, entry.stat().st_mtime))
    except OSError as exc:
        errors.append(FileError(str(cdir), f"cannot be listed: {exc.strerror or exc}"))
    ckpts.sort(key=lambda c: (Path(c[0]).name, c[1]))
    return TrainFacts(
        stage,
        rows,
        bad,
        _mtime(log),
        ckpts,
        summary,
        str(stage_json) if summary is not None else None,
    )


def _read_json(path: Path) -> Any:
    """JSON of ``path``; errors say what is wrong (the caller names the file)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc


T = TypeVar("T")


def _guard(errors: list[FileError], path: Path | str, read: Callable[[], T]) -> T | None:
    """``read()``, or None with the problem recorded against ``path`` (status views never die on a file)."""
    try:
        return read()
    except (OSError, ValueError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        errors.append(FileError(str(path), problem))
        return None


@dataclass
class EvalFacts:
    source: str | None  # path of the scoreboard or of the eval folder
    scoreboard: Any = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    progress: list[EvalProgress] = field(default_factory=list)


def _count_lines(path: Path) -> int:
    """Non-empty lines: a predictions or eval-set file holds one record a line."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _eval_plan(run: RunDir) -> tuple[list[str] | None, int | None]:
    """``eval.datasets`` and ``eval.limit`` of the run's frozen preset (None, None without one)."""
    try:
        import yaml

        preset = yaml.safe_load(run.preset.read_text(encoding="utf-8")) if run.preset.exists() else None
    except (OSError, ValueError, yaml.YAMLError):
        return None, None  # the preset is not the status tool's to judge; the commands validate it
    section = preset.get("eval") if isinstance(preset, dict) else None
    section = section if isinstance(section, dict) else {}
    names, limit = section.get("datasets"), section.get("limit")
    names = [str(n) for n in names] if isinstance(names, list) else None
    return names, (limit if isinstance(limit, int) and limit > 0 else None)


def eval_progress(run: RunDir, errors: list[FileError]) -> list[EvalProgress]:
    """Per eval set the run evaluates (its preset's eval.datasets that curate wrote, and any set with
    predictions): predictions written of the set's instances, capped at the preset's eval.limit."""
    sets = {p.stem for p in run.eval_data.glob("*.jsonl")} if run.eval_data.is_dir() else set()
    out_root = run.root / "eval"
    started = {p.parent.name for p in out_root.glob("*/predictions.jsonl")} if out_root.is_dir() else set()
    wanted, limit = _eval_plan(run)
    if wanted is not None:
        sets &= set(wanted)
    rows = []
    for name in sorted(sets | started):
        preds = out_root / name / "predictions.jsonl"
        written = _guard(errors, preds, partial(_count_lines, preds)) if preds.exists() else 0
        src = run.eval_data / f"{name}.jsonl"
        total = _guard(errors, src, partial(_count_lines, src)) if src.exists() else None
        if total is not None and limit is not None:
            total = min(total, limit)
        rows.append(EvalProgress(name, written or 0, total, (out_root / name / "metrics.json").exists()))
    return rows


def read_eval(run: RunDir, errors: list[FileError]) -> EvalFacts:
    """Every readable metrics.json, the scoreboard when there is a readable one, and progress."""
    board = run.root / "eval" / "scoreboard.json"
    progress = eval_progress(run, errors)
    for p in progress:
        if not p.scored and p.total is not None and p.written >= p.total > 0:
            missing = run.eval(p.dataset) / "metrics.json"
            errors.append(FileError(str(missing), "missing although every prediction is written"))
    metrics = []
    for path in sorted((run.root / "eval").glob("*/metrics.json")):
        obj = _guard(errors, path, partial(_read_json, path))
        if isinstance(obj, dict):
            obj.setdefault("dataset", path.parent.name)
            metrics.append(obj)
        elif obj is not None:
            errors.append(FileError(str(path), f"expected a JSON object, got {type(obj).__name__}"))
    sb = _guard(errors, board, lambda: _read_json(board)) if board.exists() else None
    if sb is not None:  # the metrics stay at hand for a scoreboard of an unexpected shape
        return EvalFacts(str(board), scoreboard=sb, metrics=metrics, progress=progress)
    return EvalFacts(str(run.root / "eval") if metrics else None, metrics=metrics, progress=progress)


@dataclass
class Facts:
    """Everything the status view is built from; ``now`` is fixed so that ages are consistent."""

    run: RunDir
    manifest: ManifestData
    sacct: CommandResult | None
    squeue: CommandResult | None
    train: dict[int, TrainFacts]
    eval: EvalFacts
    data_report: dict[str, Any] | None
    now: float
    errors: list[FileError] = field(default_factory=list)
    _evidence: dict[int, RundirEvidence] = field(default_factory=dict)

    def evidence(self, sub: Submission) -> RundirEvidence:
        if sub.id not in self._evidence:
            ev = _guard(self.errors, sub.folder, lambda: rundir_evidence(sub))
            self._evidence[sub.id] = ev if ev is not None else RundirEvidence()
        return self._evidence[sub.id]


def query_slurm(job_ids: list[str]) -> tuple[CommandResult | None, CommandResult | None]:
    """One sacct and one squeue call for all ``job_ids`` (None, None when there are none)."""
    if not job_ids:
        return None, None
    ids = slurm.query_ids(job_ids)
    return run_command(slurm.sacct_argv(ids)), run_command(slurm.squeue_argv(ids))


SlurmQuery = Callable[[list[str]], tuple[CommandResult | None, CommandResult | None]]


def collect(run: RunDir, now: float | None = None, query: SlurmQuery = query_slurm) -> Facts:
    """All facts of ``run``; ``query`` answers (sacct, squeue) for the run's SLURM job ids.

    A missing manifest is a run of in-process steps only; any file that cannot be read is an entry
    of ``Facts.errors`` naming it, and what could be read is still collected.
    """
    errors: list[FileError] = []
    manifest = empty_manifest(run)
    if run.manifest.exists():
        manifest = _guard(errors, run.manifest, lambda: read_manifest(run)) or manifest
    slurm_ids = [s.job_id for s in manifest.submissions if s.executor == "slurm"]
    sacct, squeue = query(slurm_ids) if slurm_ids else (None, None)
    for res in (sacct, squeue):
        if res is not None and not res.ok:
            errors.append(FileError(f"{res.argv[0]} (SLURM command)", res.error))
    train = {st: t for st in (1, 2) if (t := read_train(run, st, errors)) is not None}
    report = run.data / "report.json"
    data_report = _guard(errors, report, lambda: _read_json(report)) if report.exists() else None
    eval_facts = read_eval(run, errors)
    return Facts(
        run,
        manifest,
        sacct,
        squeue,
        train,
        eval_facts,
        data_report,
        time.time() if now is None else now,
        errors,
    )
