"""``taiyi data``: list the catalog, show one dataset, check the raw files under data/raw/."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from taiyi_core.catalog import Catalog, CatalogError, Dataset, load_catalog
from taiyi_core.catalog.rawcheck import DatasetCheck, check_dataset, download_hint
from taiyi_core.messages import fail

app = typer.Typer(help="The dataset catalog: list, show, and check raw files.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _out() -> Console:
    """A console per command, so the width follows the terminal (or $COLUMNS) at call time."""
    return Console()

RAW_DIR = Path("data/raw")
RAW_DIR_OPT = typer.Option(RAW_DIR, "--raw-dir", help="where raw datasets live (one folder per dataset)")
TASK_OPT = typer.Option(None, "--task", help="only datasets with this task (ner, re, tc, ...)")
LANG_OPT = typer.Option(None, "--lang", help="en | zh | multi")
ROLE_OPT = typer.Option(None, "--role", help="train | eval (both include 'both') | both | none")
JSON_OPT = typer.Option(False, "--json", help="print JSON instead of a table")


def _catalog() -> Catalog:
    try:
        return load_catalog()
    except CatalogError as exc:
        raise fail(f"the catalog is invalid: {exc}") from None


def _select(task: str | None, lang: str | None, role: str | None) -> list[Dataset]:
    try:
        return _catalog().select(task=task, lang=lang, role=role)
    except CatalogError as exc:
        raise fail(str(exc)) from None


def _summary(ds: Dataset) -> dict:
    return {
        "name": ds.name,
        "row": ds.row,
        "title": ds.title,
        "language": ds.language,
        "tasks": ds.tasks,
        "task_codes": ds.task_codes,
        "role": ds.role,
        "reader": ds.reader,
        "access": ds.access,
        "splits": ds.splits,
        "mix_total": ds.mix_total,
        "stages": ds.stages,
        "eval_sets": [es.name for es in ds.eval_sets],
        "url": ds.url,
        "licence": ds.licence,
    }


@app.command("list")
def list_cmd(
    task: str | None = TASK_OPT,
    lang: str | None = LANG_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """List catalog datasets (all 140 table rows plus the extra mix sources)."""
    rows = _select(task, lang, role)
    if as_json:
        typer.echo(json.dumps([_summary(ds) for ds in rows], ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{len(rows)} datasets", show_lines=False)
    console = _out()
    table.add_column("name", style="bold", overflow="fold", min_width=20)
    for col in ("lang", "tasks", "role", "reader", "access"):
        table.add_column(col)
    table.add_column("in mix", justify="right", no_wrap=True)
    table.add_column("eval sets")
    for ds in rows:
        table.add_row(
            ds.name, ds.language, ",".join(ds.tasks), ds.role, ds.reader, ds.access,
            f"{ds.mix_total:,}" if ds.mix else "-", ",".join(es.name for es in ds.eval_sets) or "-",
        )
    console.print(table)
    roles = Counter(ds.role for ds in rows)
    console.print(f"roles: {dict(roles)} · instances in the final mix: {sum(ds.mix_total for ds in rows):,}")


def _verified(ds: Dataset) -> str:
    if ds.verified is True:
        return f"yes, with shared/samples/{ds.verified_with}"
    if ds.verified is False:
        return f"no: {ds.why}"
    return "not yet checked"


@app.command()
def show(
    name: str = typer.Argument(..., help="dataset name (see `list`)"),
    raw_dir: Path = RAW_DIR_OPT,
    as_json: bool = typer.Option(False, "--json", help="print the full entry as JSON"),
) -> None:
    """Everything the catalog knows about one dataset, including where to download it and put the files."""
    cat = _catalog()
    try:
        ds = cat.get(name)
    except CatalogError as exc:
        raise fail(str(exc)) from None
    if as_json:
        data = ds.model_dump(mode="json")
        data.update(splits=ds.splits, stages=ds.stages, mix_total=ds.mix_total,
                    source_file=cat.sources.get(ds.name), raw_folder=str(raw_dir / ds.name))
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    console = _out()
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold cyan")
    info.add_column()
    rows = [
        ("title", ds.title), ("row", ds.row or "not in Taiyi's table (extra mix source)"),
        ("language", ds.language), ("tasks", ", ".join(ds.tasks)),
        ("Taiyi task codes", ", ".join(ds.task_codes)),
        ("splits (as listed)", ds.sizes or "-"), ("source format", ds.format), ("url", ds.url),
        ("licence", ds.licence), ("access", ds.access), ("reader", ds.reader),
        ("reader options", json.dumps(ds.reader_options, ensure_ascii=False) if ds.reader_options else "-"),
        ("role", ds.role), ("stages", ", ".join(map(str, ds.stages)) or "not trained on"),
        ("catalog file", cat.sources.get(ds.name, "?")),
    ]
    if ds.duplicate_of:
        rows.append(("duplicate of", ds.duplicate_of))
    rows.append(("verified on a real release", _verified(ds)))
    for key, value in rows:
        info.add_row(key, value)
    console.print(f"[bold]{ds.name}[/]")
    console.print(info)
    if ds.mix:
        mix = Table(title="in Taiyi's final instruction mix")
        for col in ("task", "category", "count", "cap", "stage", "key", "note"):
            mix.add_column(col)
        for m in ds.mix:
            mix.add_row(m.task, m.category, f"{m.count:,}", f"{m.cap:,}" if m.cap else "-", str(m.stage),
                        m.key or "-", "removed from the public list 2023-12-07" if m.removed_2023_12 else "")
        console.print(mix)
    if ds.eval_sets:
        ev = Table(title="evaluation sets")
        for col in ("name", "task", "split", "suites", "types / labels"):
            ev.add_column(col)
        for es in ds.eval_sets:
            types = es.entity_types or es.relation_types or es.labels
            ev.add_row(es.name, es.task, es.split, ",".join(es.suites), ", ".join(types) or "from the data")
        console.print(ev)
    console.print(f"[bold]download and placement[/] (folder {raw_dir / ds.name}/):")
    for line in download_hint(ds, raw_dir):
        console.print(f"  {line}", highlight=False, markup=False)
    console.print("  ('a or b' = either file name; '*' and '**' are glob wildcards)", style="dim")
    for note in ds.notes:
        console.print(f"note: {note}", highlight=False, markup=False)


@app.command()
def check(
    raw_dir: Path = RAW_DIR_OPT,
    task: str | None = TASK_OPT,
    lang: str | None = LANG_OPT,
    role: str | None = ROLE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Which raw datasets are present, missing or malformed under RAW_DIR/<name>/ (exit 1: some malformed)."""
    rows = _select(task, lang, role)
    results = []
    for ds in rows:
        try:
            results.append((ds, check_dataset(ds, raw_dir)))
        except OSError as exc:  # e.g. an unreadable folder: report it and go on with the others
            results.append((ds, DatasetCheck(ds.name, raw_dir / ds.name, "malformed", [],
                                             [f"cannot scan the folder: {exc.strerror or exc}"])))
    counts = Counter(r.status for _, r in results)
    if as_json:
        out = []
        for ds, r in results:
            item = r.to_json()
            item.update(role=ds.role, access=ds.access, url=ds.url)
            if r.status == "missing":
                item["instructions"] = download_hint(ds, raw_dir)
            out.append(item)
        typer.echo(json.dumps({"raw_dir": str(raw_dir), "counts": dict(counts), "datasets": out},
                              ensure_ascii=False, indent=1))
    else:
        console = _out()
        if not raw_dir.is_dir():
            console.print(f"[yellow]{raw_dir} does not exist yet: every dataset is missing.[/]")
        table = Table(title=f"raw data under {raw_dir}")
        table.add_column("dataset", overflow="fold")
        for col in ("role", "access", "status", "files", "detail"):
            table.add_column(col)
        style = {"present": "green", "missing": "yellow", "malformed": "bold red"}
        for ds, r in results:
            nfiles = sum(len(s.files) for s in r.splits)
            if r.status == "malformed":
                more = len(r.problems) - 3
                detail = "; ".join(r.problems[:3]) + (f" (+{more} more)" if more > 0 else "")
            elif r.status == "missing":
                gaps = [f"{s.split}: {', '.join(s.missing)}" for s in r.splits if s.missing]
                detail = "no folder" if not r.folder.is_dir() else "; ".join(gaps)
            else:
                detail = ", ".join(f"{s.split} {len(s.files)}" for s in r.splits)
            status = f"[{style[r.status]}]{r.status}[/]"
            table.add_row(ds.name, ds.role, ds.access, status, str(nfiles), detail)
        console.print(table)
        console.print(" · ".join(f"{k}: {counts.get(k, 0)}" for k in ("present", "missing", "malformed")))
        missing = [(ds, r) for ds, r in results if r.status == "missing" and ds.role != "none"]
        if missing:
            console.print("\n[bold]how to get the missing datasets used for training or evaluation[/]")
            for ds, _ in missing:
                console.print(f"[bold]{ds.name}[/]")
                for line in download_hint(ds, raw_dir):
                    console.print(f"  {line}", highlight=False, markup=False)
            console.print("(role 'none' = not in the paper's mix; `show NAME` tells how to get those)",
                          style="dim")
    if counts.get("malformed"):
        raise typer.Exit(1)
