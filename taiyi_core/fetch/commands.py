"""`taiyi data fetch` and `taiyi data add` (registered on the `taiyi data` app)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from taiyi_core.catalog import CatalogError, load_catalog
from taiyi_core.fetch import mirrors as mirror_map
from taiyi_core.fetch.engine import Options, Outcome, fetch_many
from taiyi_core.fetch.errors import FetchError
from taiyi_core.fetch.plan import DatasetPlan, plan_dataset, select, summary
from taiyi_core.messages import fail

RAW_DIR = Path("data/raw")
err = Console(stderr=True)


def _mirrors(profile: str | None) -> dict[str, str]:
    try:
        if profile is None:
            return mirror_map.load()
        from taiyi_core.config import ConfigError, load_profile

        try:
            prof = load_profile(profile)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        return mirror_map.load(prof.mirrors, profile_name=prof.name)
    except mirror_map.MirrorError as exc:
        raise fail(str(exc)) from None


NAMES = typer.Argument(help="dataset names (see `taiyi catalog list`)")
ALL_PUBLIC = typer.Option("--all-public", help="every dataset with access 'public'")
EVAL_SETS = typer.Option("--eval-sets", help="every dataset behind an evaluation set")
RAW_DIR_OPT = typer.Option("--raw-dir", help="one folder per dataset")
DRY_RUN = typer.Option("--dry-run", help="say what would be fetched; fetch nothing")
JSON_OPT = typer.Option("--json", help="print one JSON object")
JOBS = typer.Option("--jobs", min=1, max=32, help="datasets fetched at once")
FORCE = typer.Option("--force", help="fetch again even when FETCHED.json is current")
PROFILE = typer.Option("--profile", help="take mirrors from this profile")


def fetch(
    names: Annotated[list[str] | None, NAMES] = None,
    all_public: Annotated[bool, ALL_PUBLIC] = False,
    eval_sets: Annotated[bool, EVAL_SETS] = False,
    raw_dir: Annotated[Path, RAW_DIR_OPT] = RAW_DIR,
    dry_run: Annotated[bool, DRY_RUN] = False,
    as_json: Annotated[bool, JSON_OPT] = False,
    jobs: Annotated[int, JOBS] = 4,
    force: Annotated[bool, FORCE] = False,
    profile: Annotated[str | None, PROFILE] = None,
) -> None:
    """Download, verify, unpack and convert public datasets into RAW_DIR/<name>/ (jobs never fetch)."""
    try:
        cat = load_catalog()
        chosen = select(cat, names or [], all_public, eval_sets)
    except CatalogError as exc:
        raise fail(str(exc)) from None
    if not chosen:
        raise fail("name datasets, or use --all-public / --eval-sets")
    mirrors = _mirrors(profile)
    plans = [plan_dataset(ds, raw_dir, mirrors) for ds in chosen]
    if dry_run:
        _print_plans(plans, raw_dir, mirrors, as_json)
        return
    fetchable = [ds for ds, p in zip(chosen, plans, strict=True) if p.fetchable]
    by_hand = [Outcome(p.name, "by hand", p.source.removeprefix("by hand: "))
               for p in plans if not p.fetchable]
    outcomes = _run(fetchable, Options(raw_dir=raw_dir, mirrors=mirrors, force=force), jobs, as_json)
    outcomes += by_hand
    _print_outcomes(outcomes, as_json)
    if any(o.status in ("failed", "incomplete") for o in outcomes):
        raise typer.Exit(1)


def _run(datasets, opts: Options, jobs: int, quiet: bool) -> list[Outcome]:
    interactive = sys.stderr.isatty() and not quiet
    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                        TransferSpeedColumn(), TimeRemainingColumn(), console=err, disable=not interactive,
                        transient=True)
    overall = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                       disable=not interactive)
    bars: dict[tuple[str, str], TaskID] = {}
    lock = threading.Lock()

    def on_bytes(name: str, label: str, done: int, total: int | None) -> None:
        with lock:
            key = (name, label)
            if key not in bars:
                bars[key] = progress.add_task(f"{name}: {label}", total=total)
            progress.update(bars[key], completed=done, total=total)

    opts.progress = on_bytes
    with progress, overall:
        task = overall.add_task("datasets", total=len(datasets))

        def done(outcome: Outcome) -> None:
            overall.advance(task)
            if not quiet:
                err.print(f"{outcome.name}: {outcome.status}", highlight=False)

        return fetch_many(datasets, opts, jobs=jobs, done=done)


def _print_plans(plans: list[DatasetPlan], raw_dir: Path, mirrors: dict[str, str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"raw_dir": str(raw_dir), "mirrors": mirrors, "summary": summary(plans),
                               "datasets": [p.to_json() for p in plans]}, ensure_ascii=False, indent=1))
        return
    out = Console()
    table = Table(title=f"taiyi data fetch --dry-run: {len(plans)} dataset(s) into {raw_dir}",
                  show_lines=True)
    for col in ("dataset", "access / licence", "source", "size", "checksum", "writes"):
        table.add_column(col, overflow="fold")
    for p in plans:
        size = f"{p.size:,} B" if p.size else ("-" if not p.fetchable else "unknown")
        checks = "; ".join(sorted({f.checksum for f in p.files}))
        checks = checks or ("by huggingface_hub" if p.hub else "-")
        writes = "\n".join([f.writes for f in p.files] + ([f"hub files into {p.name}/{p.hub['to']}"]
                                                           if p.hub else []))
        if p.convert:
            writes += ("\n" if writes else "") + "then convert: " + ", ".join(p.convert)
        table.add_row(p.name, f"{p.access}\n{p.licence}", p.source, size, checks, writes or p.folder)
    out.print(table)
    s = summary(plans)
    out.print(f"{s['fetchable']} fetchable, {s['by_hand']} by hand; {s['files']} file(s): "
              f"{s['files_with_catalog_checksum']} with a checksum in the catalog, "
              f"{s['files_with_recorded_checksum']} recorded in FETCHED.json, "
              f"{s['files_checksum_to_record']} to be recorded on first download; "
              f"{s['hub_repos']} Hub repo(s)")


def _print_outcomes(outcomes: list[Outcome], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"datasets": [o.to_json() for o in outcomes]}, ensure_ascii=False, indent=1))
        return
    out = Console()
    table = Table(title="fetch summary")
    for col in ("dataset", "status", "detail"):
        table.add_column(col, overflow="fold")
    style = {"fetched": "green", "up to date": "green", "incomplete": "yellow", "failed": "bold red",
             "by hand": "dim"}
    for o in outcomes:
        table.add_row(o.name, f"[{style[o.status]}]{o.status}[/]", o.detail)
    out.print(table)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    out.print(" · ".join(f"{k}: {v}" for k, v in counts.items()))


def add(
    name: Annotated[str, typer.Argument(help="dataset name")],
    path: Annotated[Path, typer.Argument(help="the archive or folder you downloaded")],
    raw_dir: Annotated[Path, RAW_DIR_OPT] = RAW_DIR,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """Check, unpack and convert a dataset you downloaded yourself (registration, DUA) into RAW_DIR/NAME/."""
    from taiyi_core.fetch.add import add_dataset

    try:
        ds = load_catalog().get(name)
        outcome = add_dataset(ds, path, raw_dir)
    except (CatalogError, FetchError) as exc:
        raise fail(str(exc), 1) from None
    if as_json:
        typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False, indent=1))
    else:
        Console().print(f"{outcome.name}: {outcome.status}: {outcome.detail}", highlight=False)
        for gap in outcome.missing:
            Console().print(f"  still missing: {gap}", highlight=False)
    if outcome.status != "fetched":
        raise typer.Exit(1)
