"""The scoreboard: our per-set scores beside Taiyi-1, ChatGPT-3.5 and the task SOTA.

Reads ``eval/<dataset>/metrics.json`` of a run (fractions) and reports on the paper's 0-100 scale.
Average rule: a set without a valid metrics.json is left out of OUR average (never counted as 0);
the reference averages are given both over the same sets (like for like, with the delta) and over
all 13 (the paper's own figures). Sets scored on a ``limit`` subset are marked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from taiyi_core.atomic import write_json, write_text
from taiyi_core.evaluate.reference import RefRow, ablation_rows, biored_rows, main_rows, set_name
from taiyi_core.evaluate.score import definition_score, primary_metric
from taiyi_core.rundir import RunDir

AVERAGE_RULE = (
    "our average is over the sets with a valid metrics.json (missing sets are excluded, not counted "
    "as 0); reference averages are shown over the same sets and over all 13"
)


def load_metrics(run: RunDir) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """metrics.json of every dataset under eval/, and the ones that could not be read (with why).

    A paper set is keyed by our reference name whatever name the run used (the catalog's
    ``pubmed_qa`` is ``pubmedqa`` here); a folder named exactly so wins over an alias.
    """
    found: dict[str, dict[str, Any]] = {}
    broken: dict[str, str] = {}
    root = run.root / "eval"
    if not root.is_dir():
        return found, broken
    for f in sorted(root.glob("*/metrics.json")):
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            primary_metric(data)
        except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as exc:
            broken[f.parent.name] = f"{f}: {exc}"
            continue
        name = set_name(f.parent.name)
        if name not in found or f.parent.name == name:
            found[name] = data
    return found, broken


def _pct(x: Any) -> float | None:
    return round(float(x) * 100, 1) if isinstance(x, int | float) else None


def _fraction(metrics: dict[str, Any] | None, ref: RefRow) -> float | None:
    """Our score under the definition of Taiyi's number (string-set / accuracy)."""
    return definition_score(metrics, ref.definition)[0]


def _mean(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(sum(vals) / len(vals), 1) if vals else None


def _sub(a: float | None, b: float | None) -> float | None:
    return round(a - b, 1) if a is not None and b is not None else None


def main_table(metrics: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for ref in main_rows():
        m = metrics.get(ref.dataset)
        frac = _fraction(m, ref)
        ours = _pct(frac)
        sota_frac, sota_note = definition_score(m, ref.sota_definition) if m else (None, "")
        rows.append(
            {
                "dataset": ref.dataset,
                "paper_name": ref.paper_name,
                "lang": ref.lang,
                "task": ref.task,
                "metric": ref.metric,
                "ours": ours,
                # the raw fraction under its metric key, as in metrics.json (read by taiyi-status)
                ref.metric_key: frac,
                "n": m.get("n") if m else None,
                "parse_failures": m.get("parse_failures") if m else None,
                "subset": bool(m and m.get("limit")),
                "definition": ref.definition,
                "taiyi": ref.taiyi,
                "delta_taiyi": _sub(ours, ref.taiyi),
                "chatgpt_gpt35": ref.chatgpt,
                "sota": ref.sota,
                "sota_model": ref.sota_model,
                "sota_definition": ref.sota_definition,
                "ours_sota_definition": _pct(sota_frac),
                "delta_sota": _sub(_pct(sota_frac), ref.sota),
                "sota_note": sota_note,
                "status": "missing" if m is None else ("subset" if m.get("limit") else "ok"),
            }
        )
    have = [r for r in rows if r["ours"] is not None]
    avg: dict[str, Any] = {
        "rule": AVERAGE_RULE,
        "sets_scored": len(have),
        "sets_total": len(rows),
        "missing": [r["dataset"] for r in rows if r["ours"] is None],
        "ours": _mean([r["ours"] for r in have]),
        "taiyi_same_sets": _mean([r["taiyi"] for r in have]),
        "chatgpt_same_sets": _mean([r["chatgpt_gpt35"] for r in have]),
        "sota_same_sets": _mean([r["sota"] for r in have]),
        "taiyi_all": _mean([r["taiyi"] for r in rows]),
        "chatgpt_all": _mean([r["chatgpt_gpt35"] for r in rows]),
        "sota_all": _mean([r["sota"] for r in rows]),
    }
    avg["delta_taiyi_same_sets"] = _sub(avg["ours"], avg["taiyi_same_sets"])
    return rows, avg


def _type_scores(per_type: dict[str, Any], ref: RefRow) -> dict[str, Any] | None:
    names = {ref.entity_type.casefold(), *(a.casefold() for a in ref.aliases)}
    for key, val in per_type.items():
        if key.casefold() in names and isinstance(val, dict):
            return val
    return None


def biored_table(metrics: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for ref in biored_rows():
        got: dict[str, Any] | None = None
        if metrics is not None:
            got = metrics if ref.entity_type == "All" else _type_scores(metrics.get("per_type") or {}, ref)
        rows.append(
            {
                "entity_type": ref.entity_type,
                "precision": _pct(got.get("precision")) if got else None,
                "recall": _pct(got.get("recall")) if got else None,
                "f1": _pct(got.get("f1")) if got else None,
                "taiyi_precision": ref.precision,
                "taiyi_recall": ref.recall,
                "taiyi_f1": ref.taiyi,
                "delta_f1": _sub(_pct(got.get("f1")) if got else None, ref.taiyi),
                "chatgpt_f1": ref.chatgpt,
                "definition": ref.definition,  # of the paper's numbers and of ours (per-type string-set)
            }
        )
    return rows


def comparison_table(
    run: RunDir, metrics: dict[str, dict[str, Any]], other: RunDir, other_metrics: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """This run beside a second one (e.g. the one-stage ablation), with the paper's ablation bars."""
    abl = ablation_rows()
    names = [r.dataset for r in main_rows()] + sorted(
        (set(metrics) | set(other_metrics)) - {r.dataset for r in main_rows()}
    )
    rows: list[dict[str, Any]] = []
    for name in names:
        a, b = metrics.get(name), other_metrics.get(name)
        if a is None and b is None:
            continue
        sa = _pct(a[primary_metric(a)]) if a else None
        sb = _pct(b[primary_metric(b)]) if b else None
        ref = abl.get(name)
        rows.append(
            {
                "dataset": name,
                "this_run": sa,
                "compare_run": sb,
                "delta": _sub(sa, sb),
                "paper_one_stage": ref.one_stage if ref else None,
                "paper_two_stage": ref.two_stage if ref else None,
            }
        )
    both = [r for r in rows if r["this_run"] is not None and r["compare_run"] is not None]
    return {
        "this_run": run.name,
        "compare_run": other.name,
        "rows": rows,
        "mean_this_run": _mean([r["this_run"] for r in both]),
        "mean_compare_run": _mean([r["compare_run"] for r in both]),
        "sets_in_both": len(both),
        "paper_mean_one_stage": _mean([r.one_stage for r in abl.values()]),
        "paper_mean_two_stage": _mean([r.two_stage for r in abl.values()]),
        "note": "means over sets scored in both runs, each under its headline definition (string-set or "
        "accuracy, as the paper's bars); paper bars are 200-sample subsets (0.512 -> 0.629)",
    }


def build_scoreboard(run: RunDir, compare: RunDir | None = None) -> dict[str, Any]:
    metrics, broken = load_metrics(run)
    sets, average = main_table(metrics)
    known = {r.dataset for r in main_rows()} | {"biored_ner"}
    other = {
        name: {
            "task": m.get("task"),
            "metric": primary_metric(m),
            "score": _pct(m[primary_metric(m)]),
            "n": m.get("n"),
        }
        for name, m in metrics.items()
        if name not in known
    }
    board: dict[str, Any] = {
        "run": run.name,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": "0-100 (metrics.json holds fractions)",
        "rows": sets,
        "average": average,
        "biored": biored_table(metrics.get("biored_ner")),
        "biored_scored": "biored_ner" in metrics,
        "other_sets": other,
        "unreadable": broken,
        "comparison": None,
    }
    if compare is not None:
        board["comparison"] = comparison_table(run, metrics, compare, load_metrics(compare)[0])
    return board


def _f(x: Any) -> str:
    return "–" if x is None else str(x)


def _d(x: float | None) -> str:
    return "–" if x is None else f"{x:+.1f}"


def _md_row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def to_markdown(board: dict[str, Any]) -> str:
    out = [
        f"# Scoreboard — run `{board['run']}`",
        "",
        f"Generated {board['generated']}; scores on a "
        "0-100 scale. Reference numbers: Taiyi-1 paper/README (arXiv 2311.11608).",
        "",
    ]
    out += [
        "Every reference number is shown with its scoring definition (`[string-set]`, `[mention]`, ...; "
        "taiyi_core/tasks/README.md) and our score under the SAME definition beside it; where none of "
        "ours matches, the row says so and prints no difference.",
        "",
        "| set | lang | task | metric | n | ours [def] | Taiyi-1 [def] | Δ Taiyi | ChatGPT-3.5 [def] "
        "| ours [SOTA def] | SOTA [def] | Δ SOTA | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in board["rows"]:
        d, sd = f" [{r['definition']}]", f" [{r['sota_definition']}]"
        sota = "–" if r["sota"] is None else f"{r['sota']} ({r['sota_model']}){sd}"
        ours_sota = _f(r["ours_sota_definition"]) + (sd if r["ours_sota_definition"] is not None else "")
        if r["ours_sota_definition"] is None and r["sota_note"] and r["status"] != "missing":
            ours_sota = r["sota_note"]
        out.append(
            _md_row(
                f"{r['paper_name']} (`{r['dataset']}`)",
                r["lang"],
                r["task"],
                r["metric"],
                _f(r["n"]),
                _f(r["ours"]) + (d if r["ours"] is not None else ""),
                _f(r["taiyi"]) + d,
                _d(r["delta_taiyi"]),
                _f(r["chatgpt_gpt35"]) + d,
                ours_sota,
                sota,
                _d(r["delta_sota"]),
                r["status"],
            )
        )
    a = board["average"]
    out.append(
        f"| **average ({a['sets_scored']}/{a['sets_total']} sets)** | | | | | {_f(a['ours'])} "
        f"| {_f(a['taiyi_same_sets'])} | {_d(a['delta_taiyi_same_sets'])} | {_f(a['chatgpt_same_sets'])} "
        f"| | {_f(a['sota_same_sets'])} | | |"
    )
    out.append(
        f"| paper average (all 13) | | | | | | {_f(a['taiyi_all'])} | | {_f(a['chatgpt_all'])} "
        f"| | {_f(a['sota_all'])} | | |"
    )
    out += [
        "",
        f"Average rule: {a['rule']}. The SOTA averages mix definitions (mention, concept, accuracy, ...).",
    ]
    if a["missing"]:
        out.append(f"Missing sets: {', '.join(a['missing'])}.")
    bio_defs = sorted({r["definition"] for r in board["biored"] if r.get("definition")})
    out += ["", "## BioRED zero-shot NER, by entity type", ""]
    out += [f"Every number here (Taiyi-1's, ChatGPT's, ours) is [{', '.join(bio_defs)}].", ""]
    if not board["biored_scored"]:
        out.append("(`biored_ner` not scored in this run; paper numbers only)")
        out.append("")
    out += [
        "| type | P | R | F1 | Taiyi-1 P | Taiyi-1 R | Taiyi-1 F1 | Δ F1 | ChatGPT F1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in board["biored"]:
        out.append(
            _md_row(
                r["entity_type"],
                _f(r["precision"]),
                _f(r["recall"]),
                _f(r["f1"]),
                _f(r["taiyi_precision"]),
                _f(r["taiyi_recall"]),
                _f(r["taiyi_f1"]),
                _d(r["delta_f1"]),
                _f(r["chatgpt_f1"]),
            )
        )
    if board["other_sets"]:
        out += [
            "",
            "## Other evaluated sets",
            "",
            "| set | task | metric | n | score |",
            "|---|---|---|---|---|",
        ]
        for name, o in sorted(board["other_sets"].items()):
            out.append(f"| {name} | {o['task']} | {o['metric']} | {_f(o['n'])} | {_f(o['score'])} |")
    if board["unreadable"]:
        out += ["", "Unreadable metrics files: " + "; ".join(board["unreadable"].values())]
    c = board["comparison"]
    if c:
        out += [
            "",
            f"## `{c['this_run']}` vs `{c['compare_run']}` (e.g. two-stage vs one-stage)",
            "",
            f"| set | {c['this_run']} | {c['compare_run']} | Δ | paper one-stage | paper two-stage |",
            "|---|---|---|---|---|---|",
        ]
        for r in c["rows"]:
            out.append(
                f"| {r['dataset']} | {_f(r['this_run'])} | {_f(r['compare_run'])} | {_d(r['delta'])} "
                f"| {_f(r['paper_one_stage'])} | {_f(r['paper_two_stage'])} |"
            )
        out.append(
            f"| **mean ({c['sets_in_both']} sets in both)** | {_f(c['mean_this_run'])} | "
            f"{_f(c['mean_compare_run'])} | {_d(_sub(c['mean_this_run'], c['mean_compare_run']))} "
            f"| {_f(c['paper_mean_one_stage'])} | {_f(c['paper_mean_two_stage'])} |"
        )
        out += ["", c["note"] + "."]
    return "\n".join(out) + "\n"


def write_scoreboard(run: RunDir, compare: RunDir | None = None) -> tuple[dict[str, Any], Path]:
    board = build_scoreboard(run, compare)
    folder = run.root / "eval"
    write_json(folder / "scoreboard.json", board)
    write_text(folder / "scoreboard.md", to_markdown(board))
    return board, folder
