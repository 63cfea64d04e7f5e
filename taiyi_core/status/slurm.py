"""SLURM text in, rows out: the exact sacct/squeue formats we request and pure parsers for them.

One ``sacct`` and one ``squeue`` call cover a whole run. sacct is asked with ``-D`` (duplicates) so
that a requeued job shows each of its runs: the older ones count as restarts and as spent cost. It
is asked without ``-X`` because peak memory (MaxRSS) and GPU use (TRESUsageInMax ``gres/gpumem``,
``gres/gpuutil``, where the cluster accounts them) are recorded per job step; step rows are folded
into their job's row (the peak over its steps), never listed as jobs.
Pending array tasks that SLURM has not split yet come back as one row ``123_[4-7,9%2]``; they are
expanded here to one row per task.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from taiyi_core.status.model import SacctRow, SqueueRow

SACCT_FIELDS = (
    "JobID",
    "JobIDRaw",
    "State",
    "ExitCode",
    "ElapsedRaw",
    "TimelimitRaw",
    "NNodes",
    "AllocTRES",
    "Reason",
    "Submit",
    "Start",
    "End",
    "TotalCPU",
    "MaxRSS",
    "TRESUsageInMax",
)
# Resource use lives on job steps (``123.batch``, ``123.0``): they are folded into their job's row.
STEP_RESOURCE_FIELDS = ("MaxRSS", "TRESUsageInMax")
SQUEUE_FIELDS = (
    "JobArrayID",
    "State",
    "Reason",
    "StartTime",
    "RestartCnt",
    "TimeUsed",
    "TimeLimit",
    "NumNodes",
    "tres-alloc",
)


def sacct_argv(job_ids: Iterable[str]) -> list[str]:
    """sacct for the given jobs and their steps, every requeued run (-D), parsable, no header."""
    return ["sacct", "-n", "-P", "-D", "-j", ",".join(job_ids), f"--format={','.join(SACCT_FIELDS)}"]


def squeue_argv(job_ids: Iterable[str]) -> list[str]:
    """squeue for the given jobs, array tasks expanded (-r), '|'-terminated fields without width limit."""
    fmt = ",".join(f"{f}:|" for f in SQUEUE_FIELDS)
    return ["squeue", "-h", "-r", "-j", ",".join(job_ids), "-O", fmt]


def query_ids(job_ids: Iterable[str]) -> list[str]:
    """The ids to ask SLURM about: an array task ``123_4`` is covered by asking for ``123``."""
    seen: dict[str, None] = {}
    for jid in job_ids:
        seen.setdefault(jid.split("_", 1)[0], None)
    return list(seen)


_RANGE = re.compile(r"^(\d+)_\[([0-9,\-%]+)\]$")


def expand_job_id(job_id: str) -> list[str]:
    """``123_[4-6,9%2]`` -> ``123_4 123_5 123_6 123_9``; any other id is returned as is."""
    m = _RANGE.match(job_id)
    if not m:
        return [job_id]
    base, spec = m.group(1), m.group(2).split("%", 1)[0]
    out: list[str] = []
    for part in spec.split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(f"{base}_{i}" for i in range(int(lo), int(hi or lo) + 1))
    return out


def parse_duration(text: str) -> int | None:
    """SLURM duration ``[D-][HH:]MM:SS`` (or ``MM``) in seconds; None for UNLIMITED/Partition_Limit/etc."""
    text = text.strip()
    if not text or not (text[0].isdigit()):
        return None
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
    parts = [int(p) for p in text.split(":")]
    if len(parts) == 1:  # minutes only
        secs = parts[0] * 60
    elif len(parts) == 2:
        secs = parts[0] * 60 + parts[1]
    else:
        secs = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return days * 86400 + secs


def parse_cpu_time(text: str) -> float | None:
    """sacct TotalCPU ``[D-][HH:]MM:SS[.mmm]`` in seconds (None when empty)."""
    text = text.strip()
    if not text or not text[0].isdigit():
        return None
    whole, _, frac = text.partition(".")
    secs = parse_duration(whole)
    if secs is None:
        return None
    return secs + (float(f"0.{frac}") if frac.isdigit() else 0.0)


def parse_limit_minutes(text: str) -> int | None:
    """sacct TimelimitRaw: minutes, or a word (UNLIMITED, Partition_Limit) meaning no number."""
    text = text.strip()
    return int(text) * 60 if text.isdigit() else None


_UNITS = {"K": 1 / 1024**2, "M": 1 / 1024, "G": 1.0, "T": 1024.0}


def parse_tres(text: str) -> dict[str, float]:
    """``billing=1,cpu=8,gres/gpu=2,mem=64G,node=1`` -> {"cpu": 8, "gres/gpu": 2, "mem": 64.0 (GiB), ...}."""
    out: dict[str, float] = {}
    for item in text.strip().split(","):
        key, sep, value = item.partition("=")
        if not sep or not value:
            continue
        unit = value[-1].upper()
        try:
            out[key] = float(value[:-1]) * _UNITS[unit] if unit in _UNITS else float(value)
        except ValueError:
            continue
    return out


def gpus_of(tres: dict[str, float]) -> float:
    """GPUs in a TRES map: ``gres/gpu`` (typed ``gres/gpu:a100`` counted when untyped is absent)."""
    if "gres/gpu" in tres:
        return tres["gres/gpu"]
    return sum(v for k, v in tres.items() if k.startswith("gres/gpu:"))


def _state_word(text: str) -> str:
    # "CANCELLED by 1000" -> "CANCELLED"; squeue never adds words but may be lower-case in tests.
    return text.strip().split(" ", 1)[0].upper() or "UNKNOWN"


def _peak(values: list[float]) -> float | None:
    return max(values) if values else None


def parse_sacct(text: str) -> list[SacctRow]:
    """Rows of ``sacct_argv`` output; array ranges expanded; step rows folded into their job's row
    (peak MaxRSS and GPU TRES over the steps); malformed lines raise naming the line."""
    rows: list[SacctRow] = []
    steps: dict[str, list[tuple[float | None, dict[str, float]]]] = {}
    n = len(SACCT_FIELDS)
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("|")
        if len(cols) != n:
            raise ValueError(
                f"sacct output line {lineno}: expected {n} '|'-separated fields "
                f"({','.join(SACCT_FIELDS)}), got {len(cols)}: {line[:200]!r}"
            )
        jid, raw, state, exit_code, elapsed, limit, nodes, tres, reason, submit, start, end = cols[:12]
        total_cpu, max_rss, usage = cols[12:]
        if "." in jid:  # a job step: 123.batch, 123_4.0, 123.extern
            rss = parse_tres(f"mem={max_rss}").get("mem") if max_rss.strip() else None
            if rss is not None and max_rss.strip()[-1].isdigit():
                rss /= 1024**3  # a bare MaxRSS is bytes
            steps.setdefault(jid.split(".", 1)[0], []).append((rss, parse_tres(usage)))
            continue
        for one in expand_job_id(jid):
            rows.append(
                SacctRow(
                    job_id=one,
                    raw_id=raw,
                    state=_state_word(state),
                    exit_code=exit_code,
                    elapsed_s=int(elapsed) if elapsed.isdigit() else 0,
                    timelimit_s=parse_limit_minutes(limit),
                    nodes=int(nodes) if nodes.isdigit() else 0,
                    tres=parse_tres(tres),
                    reason=reason,
                    submit=submit,
                    start=start,
                    end=end,
                    total_cpu_s=parse_cpu_time(total_cpu),
                )
            )
    return [_with_steps(r, steps.get(r.job_id, [])) for r in rows]


def _with_steps(row: SacctRow, steps: list[tuple[float | None, dict[str, float]]]) -> SacctRow:
    if not steps:
        return row
    rss = _peak([r for r, _ in steps if r is not None])
    gpu_mem = _peak([u["gres/gpumem"] for _, u in steps if "gres/gpumem" in u])
    gpu_util = _peak([u["gres/gpuutil"] for _, u in steps if "gres/gpuutil" in u])
    return dataclasses.replace(row, max_rss_gb=rss, gpu_mem_gb=gpu_mem, gpu_util=gpu_util)


def parse_squeue(text: str) -> list[SqueueRow]:
    """Rows of ``squeue_argv`` output (every field ends with '|')."""
    rows: list[SqueueRow] = []
    n = len(SQUEUE_FIELDS)
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cols = line.rstrip("\n").split("|")
        if cols and cols[-1] == "":
            cols = cols[:-1]
        if len(cols) != n:
            raise ValueError(
                f"squeue output line {lineno}: expected {n} '|'-terminated fields "
                f"({','.join(SQUEUE_FIELDS)}), got {len(cols)}: {line[:200]!r}"
            )
        jid, state, reason, start, restarts, used, limit, nodes, tres = (c.strip() for c in cols)
        for one in expand_job_id(jid):
            rows.append(
                SqueueRow(
                    job_id=one,
                    state=_state_word(state),
                    reason=reason,
                    expected_start=None if start in ("N/A", "", "Unknown") else start,
                    restarts=int(restarts) if restarts.isdigit() else 0,
                    elapsed_s=parse_duration(used) or 0,
                    timelimit_s=parse_duration(limit),
                    nodes=int(nodes) if nodes.isdigit() else 0,
                    tres=parse_tres(tres),
                )
            )
    return rows
