"""`taiyi data ...`: prepare (locally, in-process), report, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from taiyi_core.config import ConfigError
from taiyi_core.fetch import commands as fetch_commands
from taiyi_core.messages import print_error
from taiyi_core.rundir import RunDir

app = typer.Typer(
    help="Raw datasets -> unified records -> instructions -> curated training and eval sets.",
    no_args_is_help=True,
)
console = Console(stderr=True)
# getting raw data (login node only: the data step itself never fetches)
app.command("fetch")(fetch_commands.fetch)
app.command("add")(fetch_commands.add)


def _run_dir(run: str) -> RunDir:
    return RunDir.from_arg(run)


@app.command()
def prepare(
    run: Annotated[str, typer.Option(help="run name (under $TAIYI_RUNS) or folder")],
    preset: Annotated[
        str | None, typer.Option(help="preset name or YAML path (default: the run's frozen one, else demo)")
    ] = None,
    datasets: Annotated[
        str | None, typer.Option(help="comma-separated dataset names (default: the preset's)")
    ] = None,
    force: Annotated[bool, typer.Option(help="redo datasets even when their inputs are unchanged")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    overrides: Annotated[
        list[str] | None, typer.Argument(help="preset overrides key.path=value (kept in the frozen preset)")
    ] = None,
) -> None:
    """Prepare every selected dataset, then curate, in this process (no scheduler).

    The run's first step of any kind freezes its preset (runs/<run>/preset.yaml); later steps, in
    process or on the cluster, use that one."""
    from taiyi_core import lifecycle
    from taiyi_core.data import jobs
    from taiyi_core.data.report import render_table

    try:
        rd = _run_dir(run)
        if preset is None and not rd.preset.is_file():
            preset = "demo"
        resolved = lifecycle.resolve(rd, preset, overrides or ())
        p = resolved.preset
        if not Path(p.data.raw_dir).is_dir():
            raise ConfigError(f"{resolved.file}: key 'data.raw_dir': folder {p.data.raw_dir} not found")
        if datasets:  # this invocation's selection, not part of the run's recipe
            p = p.model_copy(update={"data": p.data.model_copy(update={"datasets": datasets.split(",")})})
        items = jobs.datasets_to_prepare(p)
    except (ConfigError, ValueError) as exc:
        print_error(console, str(exc))
        raise typer.Exit(2) from None
    lifecycle.freeze(rd, resolved)
    interactive = sys.stderr.isatty() and not json_out
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not interactive,
    ) as bar:
        task = bar.add_task("datasets", total=len(items))
        for item in items:
            records = bar.add_task(f"  {item}", total=None)

            def advance(n: int, bar_id: TaskID = records) -> None:
                bar.advance(bar_id, n)

            try:
                result = jobs.prepare_dataset(rd, p, item, force=force, progress=advance)
            except (ValueError, OSError) as exc:
                print_error(console, str(exc))
                raise typer.Exit(1) from None
            bar.remove_task(records)
            bar.advance(task)
            if not json_out:
                console.print(f"{item}: {'unchanged (skipped)' if result['skipped'] else 'prepared'}")
        bar.update(task, description="curating")
        try:
            report = jobs.curate(rd, p)
        except jobs.AuditFailed as exc:  # everything is written; show the red rows, then fail
            report = exc.report
    if json_out:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        render_table(report, Console())
    if not report["audit"]["ok"]:
        console.print("[red]error:[/] the fidelity audit has red rows (table above; data/report.json)")
        raise typer.Exit(1)


@app.command()
def report(
    run: Annotated[str, typer.Option(help="run name or folder")],
    json_out: Annotated[bool, typer.Option("--json", help="print data/report.json as is")] = False,
) -> None:
    """Show data/report.json of a run."""
    from taiyi_core.data.report import render_table

    path = _run_dir(run).data / "report.json"
    if not path.is_file():
        print_error(console, f"{path} not found (run `taiyi data prepare --run {run}` first)")
        raise typer.Exit(1)
    data = json.loads(path.read_text(encoding="utf-8"))
    if json_out:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render_table(data, Console())
    if not (data.get("audit") or {"ok": True})["ok"]:
        raise typer.Exit(1)  # a red audit row fails loudly


@app.command()
def export(
    run: Annotated[str, typer.Option(help="run name or folder")],
    stage: Annotated[int, typer.Option(min=1, max=2, help="1 or 2")],
    out: Annotated[Path, typer.Option(help="Firefly/Taiyi JSONL file to write")],
) -> None:
    """Write a stage's training set in the Taiyi/Firefly JSONL shape."""
    from taiyi_core.data.firefly import export_sft

    try:
        n = export_sft(_run_dir(run).sft(stage), out)
    except FileNotFoundError as exc:
        print_error(console, str(exc))
        raise typer.Exit(1) from None
    console.print(f"wrote {n} conversations to {out}")
