"""The status for a terminal: rich tables grouped by step, colour for state."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from taiyi_core.evaluate.board_view import scoreboard_table
from taiyi_core.status import fmt
from taiyi_core.status.evaluation import board_rows, eval_summary
from taiyi_core.status.model import FAILED_STATES, WAITING_STATES, JobStatus, RunStatus, StepStatus
from taiyi_core.status.render_json import totals

DEFAULT_MAX_JOBS = 12


def _state(state: str) -> Text:
    return Text(state, style=f"bold {fmt.state_colour(state)}")


def _detail(j: JobStatus) -> Text:
    if j.failure is not None:
        t = Text(f"[{j.failure.kind}] {j.failure.summary}", style="red")
        if j.failure.last_frame:
            t.append(f"\n  at {j.failure.last_frame}", style="dim")
        t.append(f"\n  log: {j.log or 'no log file found in the job folder'}", style="dim")
        return t
    parts = []
    if j.reason:
        parts.append(j.reason)
    if j.expected_start:
        parts.append(f"expected start {j.expected_start}")
    if j.superseded:
        parts.append("superseded by a resubmission")
    return Text("; ".join(parts), style="dim" if j.superseded else "")


def _job_order(j: JobStatus) -> tuple[int, int]:
    rank = 0 if j.state in FAILED_STATES else 2 if j.state == "COMPLETED" else 1
    return (int(j.superseded), rank)


def _progress_line(step: StepStatus) -> Text | None:
    p = step.progress
    if p is None:
        return None
    total = f"/{p.total_steps}" if p.total_steps else ""
    t = Text(f"step {p.step if p.step is not None else '-'}{total}")
    if p.epoch is not None:
        t.append(f"  epoch {p.epoch:.2f}")
    if p.loss is not None:
        t.append(f"  loss {p.loss:.4f}")
    if p.tokens_per_s is not None:
        t.append(f"  {p.tokens_per_s:,.0f} tok/s")
    if p.train_loss is not None:
        t.append(f"  stage loss {p.train_loss:.4f}")
    if p.stage_status == "stopped":
        t.append(f"  stopped ({p.stop_reason or 'no reason recorded'})", style="yellow")
    if p.done:
        t.append("  done", style="green")
    elif p.eta_s is not None:
        t.append(f"  ETA {fmt.duration(p.eta_s)}")
    if p.last_checkpoint:
        t.append(f"  ckpt {p.last_checkpoint} ({fmt.duration(p.last_checkpoint_age_s)} ago)")
    if p.last_log_age_s is not None:
        t.append(f"  last log {fmt.duration(p.last_log_age_s)} ago")
    if p.peak_gpu_mem_gb is not None:
        t.append(f"  peak GPU mem {p.peak_gpu_mem_gb:.1f} GiB (trainer)")
    if p.bad_log_lines:
        t.append(f"  {p.bad_log_lines} unreadable log line(s)", style="yellow")
    if p.stalled:
        t.append("  STALLED", style="bold red")
    return t


# (header, column options); the columns a narrow terminal (< NARROW_BELOW columns) leaves out
JOB_COLUMNS: tuple[tuple[str, dict], ...] = (
    ("Step / job (task)", {"overflow": "fold", "max_width": 30}),
    ("State", {"no_wrap": True}),
    ("Elapsed", {"justify": "right", "no_wrap": True}),
    ("Rst", {"justify": "right", "no_wrap": True}),
    ("GPU h", {"justify": "right", "no_wrap": True}),
    ("CPU h", {"justify": "right", "no_wrap": True}),
    ("CPU% RSS GPU", {"justify": "right", "no_wrap": True}),
    ("Counts / reason / failure", {"ratio": 1}),
)
NARROW_DROPS = frozenset({"Rst", "CPU h", "CPU% RSS GPU"})
NARROW_BELOW = 110


def jobs_table(
    status: RunStatus, max_jobs: int | None = DEFAULT_MAX_JOBS, progress: bool = True, narrow: bool = False
) -> Table:
    """Step summary rows (state, counts, cost, training progress), each followed by its jobs."""
    table = Table(title=f"run {status.run} — jobs by step", expand=False)
    keep = [i for i, (name, _) in enumerate(JOB_COLUMNS) if not (narrow and name in NARROW_DROPS)]
    for i in keep:
        table.add_column(JOB_COLUMNS[i][0], **JOB_COLUMNS[i][1])

    def add(*cells: RenderableType | str) -> None:
        table.add_row(*(cells[i] for i in keep))

    for step in status.steps:
        add(
            Text(step.name, style="bold"),
            _state(step.state),
            "",
            str(sum(j.restarts for j in step.jobs)),
            fmt.hours(step.gpu_hours),
            fmt.hours(step.cpu_hours),
            "",
            Text(fmt.counts_text(step.counts) if step.jobs else "in-process (state from outputs)", "bold"),
        )
        line = _progress_line(step) if progress else None
        if line is not None:
            add("", "", "", "", "", "", "", line)
        jobs = sorted(step.jobs, key=_job_order)
        shown = jobs if max_jobs is None else jobs[:max_jobs]
        for j in shown:
            label = Text(f"  {j.job_id}", style="dim" if j.superseded else "")
            if j.task:
                label.append(f" ({j.task})", style="dim")
            add(
                label,
                _state(j.state),
                fmt.elapsed(j.elapsed_s if j.state not in WAITING_STATES else None, j.elapsed_approximate),
                str(j.restarts),
                fmt.hours(j.gpu_hours),
                fmt.hours(j.cpu_hours),
                fmt.resources(j.cpu_efficiency, j.max_rss_gb, j.gpu_mem_gb, j.gpu_util),
                _detail(j),
            )
        if len(jobs) > len(shown) and shown:  # with no jobs listed the counts say it all
            add("", "", "", "", "", "", "", Text(f"… {len(jobs) - len(shown)} more (--all)", style="dim"))
        if max_jobs != 0:
            table.add_section()
    tot = totals(status)
    add(
        Text("total", style="bold"),
        "",
        "",
        "",
        fmt.hours(tot["gpu_hours"]),
        fmt.hours(tot["cpu_hours"]),
        "",
        Text(f"{tot['jobs']} jobs: {fmt.counts_text(tot['states'])}", style="bold"),
    )
    return table


def eval_table(status: RunStatus) -> Table | None:
    """The scoreboard, rendered as ``taiyi eval report`` renders it (evaluate.board_view)."""
    if not status.eval_rows:
        return None
    s = eval_summary(status.eval_rows)
    averages = []
    if s["matched_to_paper"]:
        averages.append(
            {
                "label": f"mean of {s['matched_to_paper']} matched",
                "ours": s["mean_score"],
                "taiyi": s["mean_taiyi"],
                "delta_taiyi": (
                    round(s["mean_score"] - s["mean_taiyi"], 1)
                    if s["mean_score"] is not None and s["mean_taiyi"] is not None
                    else None
                ),
                "chatgpt_gpt35": s["mean_chatgpt"],
                "sota": s["mean_sota"],
            }
        )
    return scoreboard_table(
        f"Scoreboard · run {status.run} ({status.eval_source})", board_rows(status.eval_rows), averages
    )


def eval_progress_line(status: RunStatus) -> Text | None:
    """Predictions written of each set's total; a scored set is marked done."""
    if not status.eval_progress:
        return None
    t = Text("eval progress: ", style="bold")
    for i, p in enumerate(status.eval_progress):
        if i:
            t.append("  ")
        total = "?" if p.total is None else str(p.total)
        t.append(f"{p.dataset} {p.written}/{total}", style="green" if p.scored else "")
        if p.scored:
            t.append(" ✓", style="green")
    return t


def errors_block(status: RunStatus) -> Text | None:
    """Files of the run that could not be read: named, with the problem; the rest is still shown."""
    if not status.errors:
        return None
    t = Text(f"{len(status.errors)} unreadable file(s) — shown without them:", style="bold red")
    for e in status.errors:
        t.append(f"\n  ! {e.file}: {e.problem}", style="red")
    return t


def data_line(status: RunStatus) -> Text | None:
    if not status.data_totals:
        return None
    parts = [
        f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}"
        for k, v in status.data_totals.items()
        if not isinstance(v, dict | list)
    ]
    return Text("data report totals: " + "  ".join(parts))


def header(status: RunStatus) -> Text:
    t = Text(f"run {status.run}  ({status.root})  at {status.generated_at}  mode: ", style="bold")
    t.append(status.mode, style="green" if status.mode in ("slurm", "local") else "bold yellow")
    if status.message:
        t.append(f"\n{status.message}", style="bold yellow")
    return t


def render(
    status: RunStatus,
    max_jobs: int | None = DEFAULT_MAX_JOBS,
    scores: bool = True,
    progress: bool = True,
    width: int | None = None,
) -> RenderableType:
    """Header, errors, jobs by step (with training progress lines), evaluation progress, the
    scoreboard (unless ``scores`` is off), data totals. Below NARROW_BELOW columns (``width``) the
    jobs table leaves out restarts, CPU hours and resource use (all still in --json)."""
    narrow = width is not None and width < NARROW_BELOW
    parts: list[RenderableType | None] = [
        header(status),
        errors_block(status),
        jobs_table(status, max_jobs, progress, narrow),
        eval_progress_line(status),
        eval_table(status) if scores else None,
        data_line(status),
    ]
    return Group(*(p for p in parts if p is not None))


def _height(console: Console, renderable: RenderableType) -> int:
    return len(console.render_lines(renderable, console.options, pad=False))


def render_to_fit(
    status: RunStatus, console: Console, max_jobs: int | None = DEFAULT_MAX_JOBS
) -> RenderableType:
    """The fullest view that fits the console's height (for ``--watch``): first fewer jobs per step,
    then no scoreboard, then no training progress lines; every step row and the header always stay."""
    limits = (
        [max_jobs] if max_jobs is not None and max_jobs <= 0 else [max_jobs, *range(max_jobs or 12, -1, -1)]
    )
    for scores in (True, False):
        for limit in dict.fromkeys(limits):
            view = render(status, limit, scores=scores, width=console.width)
            if _height(console, view) <= console.height:
                return view
    return render(status, 0, scores=False, progress=False, width=console.width)
