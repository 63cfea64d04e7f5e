"""``taiyi-status [RUN]``: the state of a run as a table, JSON (``--json``) or an HTML report (``--html``)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from taiyi_core.atomic import write_text
from taiyi_core.rundir import RunDir, list_runs, runs_root
from taiyi_core.status.collect import collect
from taiyi_core.status.join import DEFAULT_STALL_AFTER_S, build_status
from taiyi_core.status.model import RunStatus
from taiyi_core.status.render_html import render_html
from taiyi_core.status.render_json import to_dict
from taiyi_core.status.render_table import DEFAULT_MAX_JOBS, render, render_to_fit

MIN_INTERVAL_S = 1.0
PIPED_WIDTH = 200

app = typer.Typer(add_completion=False, help=__doc__)


def _piped_width() -> int | None:
    """Rich assumes 80 columns when stdout is not a terminal; tables then fold every cell. A pipe or
    a file gets ``$COLUMNS`` or a width that fits the whole table instead."""
    if sys.stdout.isatty():
        return None
    cols = os.environ.get("COLUMNS", "")
    return int(cols) if cols.isdigit() and int(cols) > 0 else PIPED_WIDTH


def resolve_run(run: str | None, base: Path | None = None) -> RunDir:
    """A run by name under the runs root, by path, or (None) the newest run."""
    base = base or runs_root()
    if run is None:
        runs = list_runs(base)
        if not runs:
            raise FileNotFoundError(f"no runs under {base} (set TAIYI_RUNS or pass --runs-root / a run path)")
        return runs[0]
    path = Path(run)
    if path.is_dir() and (path / "manifest.json").exists():  # a run folder here, named without a '/'
        return RunDir(path.resolve())
    return RunDir.from_arg(run, base)


def snapshot(rd: RunDir, stall_after_s: float) -> RunStatus:
    return build_status(collect(rd), stall_after_s=stall_after_s)


@app.command()
def status(
    run: str | None = typer.Argument(
        None, help="run name under the runs root, or a run folder; default newest"
    ),
    runs_root_opt: Path | None = typer.Option(
        None, "--runs-root", help="runs folder (default $TAIYI_RUNS or runs/)"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="print one JSON object (schema: taiyi_core/status/SCHEMA.md)"
    ),
    html: Path | None = typer.Option(
        None, "--html", help="also write a self-contained HTML report to this file"
    ),
    watch: bool = typer.Option(False, "--watch", help="refresh the table in place until Ctrl-C"),
    interval: float = typer.Option(
        10.0, "--interval", help=f"seconds between refreshes (>= {MIN_INTERVAL_S})"
    ),
    stall_after: float = typer.Option(
        DEFAULT_STALL_AFTER_S, "--stall-after", help="seconds without a training-log write before STALLED"
    ),
    all_jobs: bool = typer.Option(False, "--all", help="list every job (default: up to --max-jobs per step)"),
    max_jobs: int = typer.Option(DEFAULT_MAX_JOBS, "--max-jobs", help="jobs listed per step"),
    width: int | None = typer.Option(
        None, "--width", min=40, help=f"columns (default: the terminal's; {PIPED_WIDTH} when piped)"
    ),
) -> None:
    """Show where a run stands: jobs per step, failures and their causes, training progress, cost, scores."""
    console = Console(width=width or _piped_width())
    err = Console(stderr=True, highlight=False)
    if watch and as_json:
        err.print(Text("--watch and --json do not go together (use --json in a loop for machines)", "red"))
        raise typer.Exit(2)
    try:
        rd = resolve_run(run, runs_root_opt)
        if not rd.root.is_dir():
            raise FileNotFoundError(f"{rd.root}: no such run")
        st = snapshot(rd, stall_after)
    except (FileNotFoundError, ValueError) as exc:
        err.print(Text(f"taiyi-status: {exc}", "red"))
        raise typer.Exit(1) from exc
    limit = None if all_jobs else max_jobs
    if html is not None:
        write_text(html, render_html(st))
    if as_json:
        print(json.dumps(to_dict(st), indent=2, ensure_ascii=False))
        return
    if not watch:
        console.print(render(st, limit, width=console.width))
        if html is not None:
            console.print(f"HTML report: {html}")
        return
    pause = max(MIN_INTERVAL_S, interval)
    try:
        view = render_to_fit(st, console, limit)
        with Live(view, console=console, refresh_per_second=4, transient=False) as live:
            while True:
                time.sleep(pause)
                st = snapshot(rd, stall_after)
                live.update(render_to_fit(st, console, limit))
                if html is not None:
                    write_text(html, render_html(st))
    except KeyboardInterrupt:
        console.print("[dim]stopped watching[/dim]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
