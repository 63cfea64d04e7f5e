"""Eval sets built from real files through the real path (reader -> catalog eval set -> render_eval ->
curate's eval row), and planted prediction sets to score them with every definition.

Planted sets (each a {id: prediction text} map):
- ``gold``: the targets themselves.
- ``first-occurrence``: the same strings (a string list cannot say which occurrence it means), so it
  equals ``gold`` under every string-based definition; only the offset-level column tells them apart.
- ``synonyms``: every mention / argument replaced by another gold mention string of the same concept
  id in the same document, where one exists (else kept).
- ``shifted``: every mention / argument with its last character dropped (a boundary off by one).
- ``alt-boundaries`` (sets with BC2GM-style alternatives only): every mention that has alternative
  boundaries replaced by the text of its first alternative.

``offsets`` scores (document, start, end, type) directly as the NER kits do, for the sets that have
offsets (gold, first-occurrence, shifted), to show what a span-predicting system would get.
Print the side-by-side table: ``.venv/bin/python tests/evaluate/planted.py [--all]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples"
FIXTURES = REPO / "tests" / "fixtures"
sys.path.insert(0, str(REPO))

from taiyi_core.data.catalog_view import EvalSet, load_views  # noqa: E402
from taiyi_core.data.curate import _eval_row  # noqa: E402
from taiyi_core.data.render import render_eval  # noqa: E402
from taiyi_core.formats import Quarantined, get_reader  # noqa: E402
from taiyi_core.tasks import RenderError, get_task  # noqa: E402
from taiyi_core.tasks.metrics import normalize_ws, prf  # noqa: E402

PLANTS = ("gold", "first-occurrence", "synonyms", "shifted")


def read_records(view_name: str, paths: list[Path], split: str = "test") -> list[Any]:
    view = load_views()[view_name]
    out = get_reader(view.reader).read(paths, view.reader_options, dataset=view_name, split=split, lang="en")
    return [r for r in out if not isinstance(r, Quarantined)]


def eval_rows(view_name: str, set_name: str, records: list[Any], es: EvalSet | None = None) -> list[dict]:
    """Eval rows of ``set_name`` (a catalog eval set of ``view_name``, or ``es``) as curate writes them."""
    view = load_views()[view_name]
    es = es or next(e for e in view.eval_sets if e.name == set_name)
    rows = []
    for rec in records:
        try:
            rows += [_eval_row(r) for r in render_eval(rec, view, es, seed=0)]
        except RenderError:
            continue
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def pred_rows(preds: dict[str, str]) -> list[dict]:
    return [{"id": k, "text": v} for k, v in preds.items()]


def _synonym_of(ref: dict) -> dict[str, str]:
    """mention text -> another mention text of the document sharing a concept id (first such)."""
    out: dict[str, str] = {}
    for m in ref["mentions"]:
        for other in ref["mentions"]:
            if other["text"] != m["text"] and set(other["ids"]) & set(m["ids"]):
                out.setdefault(m["text"], other["text"])
    return out


def _alternative_of(row: dict) -> dict[str, str]:
    """mention text -> the text of its first alternative boundary (BC2GM ALTGENE)."""
    out: dict[str, str] = {}
    for m in row["reference"]["mentions"]:
        if m.get("alternatives"):
            s, e = m["alternatives"][0]
            out.setdefault(m["text"], normalize_ws(row["input_text"][s:e]))
    return out


def has_alternatives(rows: list[dict]) -> bool:
    return any(m.get("alternatives") for r in rows for m in (r.get("reference") or {}).get("mentions", []))


def _shift(s: str) -> str:
    return s[:-1] if len(s) > 1 else s


def planted(rows: list[dict], plant: str) -> dict[str, str]:
    """Prediction texts of one planted set for eval rows of a ner or re set."""
    out = {}
    for row in rows:
        task = get_task(row["task"])
        value = task.parse(row["target"], row["lang"]).value
        if plant in ("gold", "first-occurrence"):
            out[row["id"]] = row["target"]
            continue
        table = _synonym_of(row["reference"]) if plant == "synonyms" else _alternative_of(row)
        change = (lambda s, t=table: t.get(s, s)) if plant in ("synonyms", "alt-boundaries") else _shift
        if row["task"] == "ner":
            new = {t: list(dict.fromkeys(change(m) for m in ms)) for t, ms in value.items()}
        else:
            new = {r: list(dict.fromkeys((change(h), change(t)) for h, t in ps)) for r, ps in value.items()}
        out[row["id"]] = task.format_value(new, row["lang"])
    return out


def offset_score(rows: list[dict], plant: str) -> float | None:
    """F1 over (doc, start, end, type) of span predictions: what the NER kits compute."""
    if rows[0]["task"] != "ner" or plant in ("synonyms", "alt-boundaries"):
        return None
    tp = fp = fn = 0
    for row in rows:
        gold = {(m["start"], m["end"], m["type"]) for m in row["reference"]["mentions"]}
        if plant == "gold":
            pred = set(gold)
        elif plant == "first-occurrence":
            first: dict[tuple[str, str], tuple] = {}
            for m in sorted(row["reference"]["mentions"], key=lambda m: m["start"]):
                first.setdefault((m["type"], normalize_ws(m["text"])), (m["start"], m["end"], m["type"]))
            pred = set(first.values())
        else:
            pred = {(s, e - 1 if e - s > 1 else e, t) for s, e, t in gold}
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    return prf(tp, fp, fn)["f1"]


def score_all_plants(rows: list[dict]) -> dict[str, dict[str, float | None]]:
    """{plant: {definition: F1 (or accuracy)}} with the offset-level column."""
    from taiyi_core.evaluate.score import score_texts

    gold = {r["id"]: (r["lang"], r["target"]) for r in rows}
    inputs = {r["id"]: r["input_text"] for r in rows}
    refs = {r["id"]: r.get("reference") for r in rows}
    table: dict[str, dict[str, float | None]] = {}
    for plant in (*PLANTS, "alt-boundaries") if has_alternatives(rows) else PLANTS:
        res = score_texts(rows[0]["task"], gold, planted(rows, plant), inputs, refs)
        row = {name: d[d["main"]] for name, d in res["definitions"].items()}
        row["offsets (kit on spans)"] = offset_score(rows, plant)
        table[plant] = row
    return table


def bc2gm_set() -> dict[str, list[dict]]:
    """BC2GM's test sample as an ner eval set (the catalog lists BC2GM without eval sets)."""
    folder = SAMPLES / "bc2gm" / "test"
    files = [
        folder / "test.first100.in",
        folder / "GENE.first100sent.eval",
        folder / "ALTGENE.first100sent.eval",
    ]
    es = EvalSet(
        name="bc2gm", dataset="bc2gm", task="ner", split="test", suites=("main",), render={"types": ["GENE"]}
    )
    return {
        "bc2gm (test sample, 100 sentences)": eval_rows("bc2gm", "bc2gm", read_records("bc2gm", files), es)
    }


def real_sets() -> dict[str, list[dict]]:
    """The BC5CDR sample's three eval views, NCBI-disease on the NCBI-format fixture (no sample of it
    in ../shared), and CMeEE-V2's dev sample."""
    bc5 = read_records("bc5cdr", [SAMPLES / "bc5cdr" / "CDR_sample.PubTator.txt"])
    ncbi = read_records("ncbi_disease", [FIXTURES / "raw" / "pubtator" / "ncbi_disease_format.PubTator.txt"])
    cmeee = read_records("cmeee_v2", [SAMPLES / "cmeee_v2" / "CMeEE-V2_dev.first200.json"], split="dev")
    return {
        **bc2gm_set(),
        "bc5cdr_chem (sample, 50 docs)": eval_rows("bc5cdr", "bc5cdr_chem", bc5),
        "bc5cdr_dise (sample, 50 docs)": eval_rows("bc5cdr", "bc5cdr_dise", bc5),
        "bc5cdr_re CID (sample, 50 docs)": eval_rows("bc5cdr", "bc5cdr_re", bc5),
        "ncbi_disease (fixture, 2 docs)": eval_rows("ncbi_disease", "ncbi_disease", ncbi),
        "cmeee_v2 (dev sample, 200 records; nested entities)": eval_rows("cmeee_v2", "cmeee_v2", cmeee),
    }


def markdown(tables: dict[str, dict[str, dict[str, float | None]]]) -> str:
    out = []
    for name, table in tables.items():
        cols = list(next(iter(table.values())))
        out += [f"**{name}** (F1, 0-100)", "", "| planted | " + " | ".join(cols) + " |",
                "|---" * (len(cols) + 1) + "|"]  # fmt: skip
        for plant, row in table.items():
            cells = ["–" if row[c] is None else f"{100 * row[c]:.1f}" for c in cols]
            out.append(f"| {plant} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def extra_sets() -> dict[str, list[dict]]:
    """BioRED (NER and relations), DDI (mention-level relations) and CHEMDNER's brat copy."""
    from taiyi_core.formats import Quarantined, get_reader

    biored = read_records("biored", [SAMPLES / "biored" / "Test.first25.PubTator"])
    rel_types = sorted({r.type for rec in biored for r in rec.relations})
    ddi = read_records("ddi_corpus", sorted((SAMPLES / "ddi").glob("*/*.xml")))
    ddi_types = ["mechanism", "effect", "advise", "int"]
    folder = SAMPLES / "chemdner" / "brat_from_hiroto0227"
    brat = get_reader("brat").read(sorted(folder.glob("*.txt")), {"suffixes": [".ann"]}, dataset="chemdner",
                                   split="test", lang="en")  # fmt: skip

    def re_set(name: str, dataset: str, types: list[str]) -> EvalSet:
        render = {"relation_types": types, "undirected_relations": types}
        return EvalSet(name=name, dataset=dataset, task="re", split="test", suites=("main",), render=render)

    return {
        "biored_ner (sample, 25 docs)": eval_rows("biored", "biored_ner", biored),
        "biored relations (sample, 25 docs, undirected)": eval_rows(
            "biored", "biored_re", biored, re_set("biored_re", "biored", rel_types)
        ),
        "ddi (sample, 22 docs, sentences)": eval_rows(
            "ddi_corpus", "ddi", ddi, re_set("ddi", "ddi_corpus", ddi_types)
        ),
        "chemdner (brat copy, 9 docs)": eval_rows(
            "chemdner", "chemdner", [r for r in brat if not isinstance(r, Quarantined)]
        ),
    }


if __name__ == "__main__":
    sets = {**real_sets(), **(extra_sets() if "--all" in sys.argv else {})}
    print(markdown({name: score_all_plants(rows) for name, rows in sets.items()}))
