"""``taiyi``: one command line for the job suite (submit steps, manage runs, check the set-up)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from taiyi_core.catalog.commands import app as catalog_app
from taiyi_core.config import ConfigError, load_profile
from taiyi_core.data.commands import app as data_app
from taiyi_core.evaluate.commands import app as eval_app
from taiyi_core.hub import silence_kernel_probe
from taiyi_core.messages import fail, print_error
from taiyi_core.rundir import RunDir, list_runs
from taiyi_core.status.cli import status as status_command
from taiyi_core.train import commands as train_commands

app = typer.Typer(
    help="Taiyi job suite: biomedical instruction data, two-stage QLoRA and evaluation on SLURM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
runs_app = typer.Typer(help="List and delete run directories (runs/<run>/).", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(eval_app, name="eval", help="Generate, score and report per evaluation set.")
app.add_typer(train_commands.model_app, name="model", help="Build the tiny offline model (tests, demo).")
app.add_typer(train_commands.train_app, name="train")  # `taiyi train --run RUN --stage 1`: what SLURM runs
app.command("merge")(train_commands.merge)
app.add_typer(catalog_app, name="catalog", help="The 140+ datasets: list, show, check raw files.")
app.add_typer(data_app, name="data", help="Raw files -> unified records -> instructions -> training sets.")
app.command("status")(status_command)  # same as the taiyi-status console script

console = Console()
err = Console(stderr=True)
silence_kernel_probe()  # in-process steps import bitsandbytes too (taiyi_core/hub.py)


RUN = typer.Option("default", "--run", "-r", help="run name: outputs go to runs/<run>/")
PRESET = typer.Option("demo", "--preset", help="preset name in jobs/ or a YAML path")
PROFILE = typer.Option("local", "--profile", help="cluster profile in slurm/profiles/ or a YAML path")
OVERRIDES = typer.Argument(None, help="preset overrides key.path=value, e.g. train.lr=1e-4 eval.limit=20")


@app.command()
def submit(
    group: str = typer.Argument(..., help="data | stage1 | stage2 | eval | all, or one step name"),
    run: str = RUN,
    preset: str = PRESET,
    profile: str = PROFILE,
    no_wait: bool = typer.Option(False, "--no-wait", help="local profile: return without waiting"),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="show what would be queued; queue nothing"),
    overrides: list[str] = OVERRIDES,
) -> None:
    """Submit a step group through the profile's executor (SLURM jobs are chained with afterok).

    Nothing is written (run folder, frozen preset, manifest) unless every step passes the checks
    that ``--dry-run`` shows."""
    from taiyi_core.launch import JobFailed, Launcher, StepNotBuilt, load_pipeline

    try:
        prof = load_profile(profile)
        launcher = Launcher(RunDir.named(run), prof, preset, dry_run=dry_run, overrides=overrides or ())
        pipeline = load_pipeline()
        names = pipeline.group(group)
        console.print(
            f"run [bold]{run}[/] · preset {preset} · profile {prof.name} ({prof.executor}) · "
            f"steps: {' -> '.join(names)}",
            highlight=False,
        )
        if dry_run:
            rows = launcher.plan(group, pipeline)
            _print_plan(rows)
            problems = list(dict.fromkeys(p for row in rows for p in row["problems"]))  # once each
            if problems:
                for problem in problems:
                    print_error(err, problem)
                raise typer.Exit(3 if any(not r["built"] for r in rows) else 2)
            return
        submitted = launcher.submit_group(group, pipeline, wait_locally=not no_wait)
    except StepNotBuilt as exc:
        raise fail(f"{exc}. This version of the suite cannot run it yet.", 3) from None
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from None
    except JobFailed as exc:
        raise fail(str(exc), 1) from None
    table = Table("step", "job ids", "depends on", "log folder")
    for step, subs in submitted.items():
        ids = [s.job_id for s in subs]
        shown = ids[0] if len(ids) == 1 else f"{ids[0]} .. {ids[-1]} ({len(ids)} tasks)"
        table.add_row(step, shown, ",".join(subs[0].record.depends_on) or "-", subs[0].record.folder)
    console.print(table)
    console.print(f"manifest: {launcher.run.manifest}")


def _print_plan(rows: list[dict]) -> None:
    table = Table("step", "fan-out", "after", "asks for", title="dry run: nothing queued")
    for row in rows:
        res, items = row["resources"], row["items"]
        fan = (
            "[yellow]not built yet[/]" if not row["built"] else (f"{len(items)} tasks" if items else "1 job")
        )
        asks = (
            f"{res['nodes']}n x {res['tasks_per_node']}t, {res['gpus_per_node']} GPU/n, "
            f"{res['cpus_per_task']} CPU/t, {res['mem_gb']:g}G, {res['timeout_min']}m"
        )
        table.add_row(row["step"], fan, ",".join(row["after"]) or "-", asks)
    console.print(table)
    for row in rows:
        sbatch = " ".join(f"{k}={v}" for k, v in row.get("sbatch", {}).items() if k not in ("comment",))
        console.print(
            f"[bold]{row['step']}[/]: {row['entry']}" + (f"\n  sbatch: {sbatch}" if sbatch else ""),
            highlight=False,
        )


def _preset_path(preset: str) -> Path:
    from taiyi_core.config import preset_path

    return preset_path(preset)  # a file from the working directory, or a shipped name


@app.command()
def resubmit(
    run: str = RUN,
    failed: bool = typer.Option(False, "--failed", help="resubmit failed or lost tasks (required)"),
    step: list[str] = typer.Option(None, "--step", help="only these steps (repeatable)"),
    profile: str = typer.Option(None, "--profile", help="default: the profile the run was submitted with"),
) -> None:
    """Resubmit only the failed or lost array tasks and steps of a run, with the same calls."""
    from taiyi_core.launch import Launcher, Manifest
    from taiyi_core.launch.resubmit import describe, judge, needs_resubmit, resubmit_failed

    if not failed:
        raise fail("say what to resubmit: --failed")
    target = RunDir.named(run)
    data = Manifest(target.manifest).read()
    if data is None:
        raise fail(f"no manifest at {target.manifest}: nothing was submitted in run {run!r}")
    try:
        launcher = Launcher(target, load_profile(profile or data.profile or "local"), None)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    verdicts = [v for v in judge(launcher) if needs_resubmit(v)]
    if not verdicts:
        console.print("nothing failed or lost: no resubmission")
        return
    table = Table("step", "task", "old job", "state", "new job")
    new = resubmit_failed(launcher, step or None)
    new_ids = {s.record.resubmit_of: s.job_id for s in new}
    for stp, task, jid, state in describe(verdicts):
        table.add_row(stp, task, jid, state, new_ids.get(jid, "-"))
    console.print(table)


@app.command()
def doctor(
    profile: str = PROFILE,
    preset: str = typer.Option(
        None, "--preset", help="also check this preset: its sections, model (cache or folder), raw data, GPUs"
    ),
    sets: list[str] = typer.Option(None, "--set", help="preset override key.path=value (repeatable)"),
    submit_probe: bool = typer.Option(False, "--submit", help="also submit a one-second job and wait"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Check this machine for what the suite needs under a profile; prints the fix for each failure."""
    from taiyi_core import doctor as doc

    try:
        prof = load_profile(profile)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    checks = doc.run_checks(prof, preset, sets or ())  # every check runs; each problem is one row
    if submit_probe:
        checks += doc._guarded("submit probe", lambda: doc.submit_probe(prof))
        if prof.container and prof.executor == "slurm":
            checks += doc._guarded("container %test", lambda: doc.submit_container_test(prof))
    if as_json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        from rich.text import Text

        colour = {"pass": "green", "fail": "red", "warn": "yellow", "skip": "dim"}
        table = Table("check", "result", "detail", "fix", title=f"taiyi doctor · profile {prof.name}")
        for c in checks:  # details quote files, keys and tool output: plain text, never markup
            table.add_row(Text(c.name), Text(c.status, colour[c.status]), Text(c.detail), Text(c.fix))
        console.print(table)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    run: str = typer.Option("demo", "--run", "-r"),
    preset: str = PRESET,
    profile: str = PROFILE,
) -> None:
    """Run every built step of the pipeline on the local profile and say what was done."""
    from taiyi_core.launch import JobFailed, Launcher, StepNotBuilt, load_pipeline

    try:
        prof = load_profile(profile)
        preset_path = _preset_path(preset)
        launcher = Launcher(RunDir.named(run), prof, preset_path)
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from None
    pipeline = load_pipeline()
    _prepare_demo_model(launcher)
    done: list[tuple[str, str]] = []
    for step in pipeline.group("all"):
        console.rule(f"[bold]{step}[/] · {pipeline.steps[step].description}")
        try:
            subs = launcher.submit_steps([step], pipeline)
        except StepNotBuilt as exc:
            done.append((step, f"not built yet in this version ({exc}); later steps skipped"))
            console.print(f"[yellow]{step}: not built yet[/] — {exc}")
            break
        except ConfigError as exc:  # refused before queuing (the model or raw data not there)
            raise fail(str(exc)) from None
        except JobFailed as exc:
            raise fail(str(exc), 1) from None
        results = [s.job.result() for s in subs[step]]
        done.append((step, f"{len(results)} job(s) ok: {', '.join(s.job_id for s in subs[step])}"))
    table = Table("step", "what happened", title=f"demo run: {launcher.run.root}")
    for step, what in done:
        table.add_row(step, what)
    console.print(table)
    _demo_summary(launcher.run)


def _demo_summary(run: RunDir) -> None:
    """What the demo produced: data report, training summaries, scoreboard, then the run's status."""
    report = run.data / "report.json"
    if report.exists():
        data = json.loads(report.read_text(encoding="utf-8"))
        console.rule("data (full report: taiyi data report --run ...)")
        table = Table("dataset", "read", "written", "quarantined", "reasons", "overlap removed")
        for name, splits in data["datasets"].items():
            reasons: dict[str, int] = {}
            for split in splits.values():
                for why, n in split.get("reasons", {}).items():
                    reasons[why[:40]] = reasons.get(why[:40], 0) + n
            table.add_row(
                name,
                *(str(sum(sp[k] for sp in splits.values())) for k in ("read", "written", "quarantined")),
                "; ".join(f"{n}x {why}" for why, n in reasons.items()) or "-",
                str(sum(sp["overlap_removed"] for sp in splits.values())),
            )
        console.print(table)
        from taiyi_core.data.report import render_audit

        render_audit(data, console)
        totals = data["totals"]
        console.print(
            f"stage 1: {totals['stages']['stage1']['instances']} instances · stage 2: "
            f"{totals['stages']['stage2']['instances']} · eval sets: {len(totals['eval_sets'])} · "
            f"catalog datasets without raw files: {len(data.get('missing', []))} (taiyi catalog check)"
        )
    stages = [(n, run.train(n) / "stage.json") for n in (1, 2)]
    if any(path.exists() for _, path in stages):
        console.rule("training")
        table = Table("stage", "steps", "train loss", "samples", "packing efficiency", "continued from")
        for n, path in stages:
            if path.exists():
                info = json.loads(path.read_text(encoding="utf-8"))
                table.add_row(
                    str(n),
                    str(info.get("global_step")),
                    f"{info.get('train_loss', float('nan')):.3f}",
                    str(info.get("data", {}).get("samples")),
                    f"{info.get('packing_efficiency') or 0:.2f}",
                    str(info.get("init_from_adapter") or "base model"),
                )
        console.print(table)
    if (run.root / "eval" / "scoreboard.json").exists():
        from taiyi_core.evaluate.commands import report_cmd

        console.rule("scoreboard (a tiny random model scores near zero: the shape is what matters)")
        report_cmd(run=str(run.root), compare=None, as_json=False)
    from taiyi_core.status.cli import render, snapshot

    console.rule("taiyi-status")
    console.print(render(snapshot(run, 900.0), 10))


def _prepare_demo_model(launcher) -> None:
    """Build the tiny offline model the demo preset points at, when the training package provides it."""
    preset = launcher.preset
    if preset is None:
        return
    target = Path(preset.model.name_or_path).resolve()  # relative: from the working directory
    if target.exists() or not str(preset.model.name_or_path).startswith("runs/.models/"):
        return
    try:
        from taiyi_core.train.tiny import build_tiny_model
    except ModuleNotFoundError:
        console.print("[yellow]tiny model builder not built yet: skipping model preparation[/]")
        return
    build_tiny_model(target)
    console.print(f"built tiny model at {target}")


@runs_app.command("list")
def runs_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Runs under runs/ (or $TAIYI_RUNS), newest first."""
    from taiyi_core.launch import Manifest

    rows: list[dict[str, Any]] = []
    for r in list_runs():
        data = Manifest(r.manifest).read()
        subs = data.submissions if data else []
        rows.append(
            {
                "run": r.name,
                "path": str(r.root),
                "preset": data.preset if data else None,
                "profile": data.profile if data else None,
                "created": data.created if data else None,
                "submissions": len(subs),
                "steps": sorted({s.step for s in subs}),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("run", "created", "preset", "profile", "jobs", "steps")
    for row in rows:
        table.add_row(
            row["run"],
            row["created"] or "-",
            str(row["preset"] or "-"),
            str(row["profile"] or "-"),
            str(row["submissions"]),
            ", ".join(row["steps"]),
        )
    console.print(table)


@runs_app.command("delete")
def runs_delete(run: str = typer.Argument(...), yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """Delete a run directory (cancel its SLURM jobs first with scancel)."""
    target = RunDir.named(run)
    if not target.root.is_dir():
        raise fail(f"no run {run!r} under {target.root.parent}")
    if not yes:
        raise fail(f"this deletes {target.root}; pass --yes to confirm")
    shutil.rmtree(target.root)
    console.print(f"deleted {target.root}")


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # a sub-command's config problem: one line, no traceback
        print_error(err, str(exc))
        sys.exit(2)


if __name__ == "__main__":
    main()
