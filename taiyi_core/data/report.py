"""data/report.json: what happened to every dataset and split, and the totals per stage.

Per dataset and split: read, written, quarantined (+ reasons), render_quarantined, instances,
capped, dedup (exact + near), overlap_removed, final (rows in the stage-2 mix), stage1, tokens and
length percentiles of the final rows (tokens with the preset's tokenizer, else characters, and
``tokens`` says "n/a (tokenizer not available)"); ``audit``: the fidelity audit per dataset and view
(data/audit.py), printed as a table whose red rows name the rule broken.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from taiyi_core.data.tokens import NOT_AVAILABLE

COUNTERS = (
    "read",
    "written",
    "quarantined",
    "render_quarantined",
    "instances",
    "dedup",
    "overlap_removed",
    "capped",
    "final",
    "stage1",
)


def percentile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _blank() -> dict[str, Any]:
    return {k: 0 for k in COUNTERS} | {"reasons": Counter(), "_lengths": [], "_tokens": 0}


def build_report(
    *,
    audit: dict[str, Any] | None = None,
    summaries: list[dict[str, Any]],
    kept: list[dict[str, Any]],
    stages: dict[int, list[dict[str, Any]]],
    eval_rows: dict[str, list[dict[str, Any]]],
    removed: dict[str, list[dict[str, Any]]],
    pairs: dict[tuple[str, str], Counter[str]],
    missing: list[dict[str, str]],
    tokenizer_label: str | None,
) -> dict[str, Any]:
    have_tokens = tokenizer_label is not None
    table: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(_blank))
    for s in summaries:
        for split, c in s["splits"].items():
            e = table[s["dataset"]][split]
            for k in ("read", "written", "quarantined", "render_quarantined"):
                e[k] += c[k]
            e["instances"] += c["instances"]["train"] + c["instances"]["eval"]
            e["reasons"].update(c["reasons"])

    def unit(r: dict[str, Any]) -> int:
        return r["tokens"] if have_tokens and r.get("tokens") is not None else r["chars"]

    for why, rows in removed.items():
        key = "dedup" if why.startswith("dedup") else "overlap_removed" if why == "overlap" else "capped"
        for r in rows:
            table[r["dataset"]][r["split"]][key] += 1
    stage1_ids = {(r["dataset"], r["id"]) for r in stages.get(1, [])}
    for r in stages.get(2, []):
        e = table[r["dataset"]][r["split"]]
        e["final"] += 1
        e["stage1"] += (r["dataset"], r["id"]) in stage1_ids
        e["_lengths"].append(unit(r))
        e["_tokens"] += r.get("tokens") or 0
    for rows in eval_rows.values():
        for r in rows:
            e = table[r["dataset"]][r["split"]]
            e["_lengths"].append(unit(r))
            e["_tokens"] += r.get("tokens") or 0

    datasets: dict[str, Any] = {}
    totals = {k: 0 for k in COUNTERS}
    for name in sorted(table):
        datasets[name] = {}
        for split in sorted(table[name]):
            e = table[name][split]
            for k in COUNTERS:
                totals[k] += e[k]
            lengths = e.pop("_lengths")
            ntok = e.pop("_tokens")
            e["reasons"] = dict(e["reasons"])
            e["tokens"] = ntok if have_tokens else NOT_AVAILABLE
            e["length_unit"] = "tokens" if have_tokens else "chars"
            e["length_p50"] = percentile(lengths, 0.5)
            e["length_p95"] = percentile(lengths, 0.95)
            if e["read"] != e["written"] + e["quarantined"]:
                raise ValueError(f"data report: dataset {name}, split {split}: read {e['read']} != written "
                                 f"{e['written']} + quarantined {e['quarantined']}")  # fmt: skip
            datasets[name][split] = dict(e)

    def stage_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "instances": len(rows),
            "tokens": sum(r.get("tokens") or 0 for r in rows) if have_tokens else NOT_AVAILABLE,
            "by_task": dict(sorted(Counter(r["task"] for r in rows).items())),
            "by_lang": dict(sorted(Counter(r["lang"] for r in rows).items())),
        }

    return {
        "datasets": datasets,
        "totals": {
            **totals,
            "stages": {f"stage{n}": stage_summary(rows) for n, rows in sorted(stages.items())},
            "eval_sets": {name: len(rows) for name, rows in sorted(eval_rows.items())},
        },
        "overlap": [
            {"train_dataset": t, "eval_set": e, "removed": sum(c.values()), "by_kind": dict(c)}
            for (t, e), c in sorted(pairs.items())
        ],
        "missing": missing,
        "tokenizer": tokenizer_label or NOT_AVAILABLE,
        "audit": audit or {"ok": True, "rows": []},
    }


COUNT_COLUMNS = (
    "read", "written", "quarantined", "render_quarantined", "instances", "dedup", "overlap_removed", "capped",
    "final", "stage1",
)  # fmt: skip


def render_table(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    t = Table(title="Data report", show_lines=False)
    for col in (
        "dataset",
        "split",
        "read",
        "written",
        "quar.",
        "render q.",
        "inst.",
        "dedup",
        "overlap",
        "capped",
        "final",
        "stage1",
        "p50",
        "p95",
    ):
        t.add_column(col, justify="left" if col in ("dataset", "split") else "right")
    for name, splits in report["datasets"].items():
        for split, e in splits.items():
            t.add_row(
                name,
                split,
                *(str(e[k]) for k in COUNT_COLUMNS),
                str(e["length_p50"] or "-"),
                str(e["length_p95"] or "-"),
            )
    tot = report["totals"]
    t.add_row(
        "TOTAL",
        "",
        *(str(tot[k]) for k in COUNT_COLUMNS),
        "",
        "",
        style="bold",
    )
    console.print(t)
    unit = next((e["length_unit"] for s in report["datasets"].values() for e in s.values()), "chars")
    console.print(f"lengths in {unit}; tokenizer: {report['tokenizer']}")
    for name, st in tot["stages"].items():
        console.print(
            f"[bold]{name}[/]: {st['instances']} instances, tokens {st['tokens']}, tasks {st['by_task']}"
        )
    if tot["eval_sets"]:
        console.print("eval sets: " + ", ".join(f"{k} ({v})" for k, v in tot["eval_sets"].items()))
    for p in report["overlap"]:
        console.print(
            f"[yellow]leak[/]: {p['train_dataset']} -> {p['eval_set']}: {p['removed']} removed {p['by_kind']}"
        )
    for m in report["missing"]:
        console.print(f"[red]missing[/] {m['dataset']}: {m['how']}")
    render_audit(report, console)


AUDIT_STYLE = {"green": "green", "red": "bold red", "skipped": "dim"}


def render_audit(report: dict[str, Any], console: Console) -> None:
    """The fidelity audit: one row per dataset and view (options: how many the prompt lists); red rows
    name the rule they break. Skipped size checks are summed up in one line below the table."""
    audit = report.get("audit") or {"ok": True, "rows": []}
    t = Table(title="Fidelity audit", show_lines=False)
    numbers = ("inst", "empty", "opts")  # instances, empty golds, options listed (quarantines: table above)
    t.add_column("dataset", no_wrap=True, overflow="ellipsis", max_width=14)
    t.add_column("view", no_wrap=True, overflow="ellipsis", max_width=20)
    t.add_column("status", no_wrap=True, min_width=6)
    for col in numbers:
        t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    t.add_column("problems", overflow="fold")
    skipped = []
    for r in audit["rows"]:
        if r["status"] == "skipped":
            skipped.append(r["dataset"])
            continue
        opts = r.get("options") or []
        t.add_row(
            r["dataset"], r["view"], r["status"],
            *(str(r.get(k, "")) for k in ("instances", "gold_empty")),
            str(len(opts)) if opts else "-", "; ".join(r["problems"]), style=AUDIT_STYLE.get(r["status"], ""),
        )  # fmt: skip
    console.print(t)
    if skipped:
        console.print(f"[dim]sizes not checked for {', '.join(skipped)} (data.options.audit.sizes is off)[/]")
    red = [r for r in audit["rows"] if r["status"] == "red"]
    if red:
        console.print(f"[bold red]fidelity audit: {len(red)} red row(s)[/]")
    else:
        console.print("[green]fidelity audit: all rows green[/]")
