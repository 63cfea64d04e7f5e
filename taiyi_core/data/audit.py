"""The fidelity audit: does the instruction data say what the dataset says? One row per dataset and view.

Counts that reconcile are not enough: a prompt can list the gold as its options, a type map can drop
three of four source types, a relation can name an id no mention carries, and every count still adds
up. The data task gathers evidence per view while rendering (``new_view_stats`` / ``observe_*``, in
``_item*.json``); curate sums it over splits and shards and applies these rules (each names what it saw):

- ``empty_gold``: an eval view's gold is empty more often than the source records are, by more than
  ``EMPTY_GOLD_MARGIN`` (NCBI-disease mapped to one of its four classes: most documents look empty);
- ``options_from_record``: a view's option list differs between its instances (options must be the
  dataset's, so one list per view), or for TC/STS the options equal the gold in more than
  ``OPTIONS_EQUAL_GOLD_MAX`` of the instances (the answer given away);
- ``unmapped``: a raw label/type of the dataset that the view cannot show (its records quarantine or
  its mentions vanish);
- ``unresolved``: more than ``UNRESOLVED_MAX`` of a view's relations name an argument no entity carries
  (a few occur in real releases: BC5CDR CID pairs whose chemical is never mentioned);
- ``quarantined``: a view quarantines more than ``QUARANTINE_MAX`` of the records offered to it (CHIP-STS
  rendering nothing for "no label set" left the stage-1 TP-ss mix empty while every count reconciled);
- ``sizes``: records read per split differ from the catalog's published sizes by more than
  ``data.options.audit.size_tolerance`` (only where the catalog lists sizes and ``audit.sizes`` is on;
  the demo and the shared samples are cuts, so their presets turn it off and the row says so).

A red row makes ``taiyi data report`` / ``taiyi data prepare`` exit non-zero; ``audit.fail`` also makes
the curate step raise after writing everything (so a pipeline stops before training on it).
"""

from __future__ import annotations

from typing import Any

from taiyi_core.tasks import get_task

EMPTY_GOLD_MARGIN = 0.25
OPTIONS_EQUAL_GOLD_MAX = 0.5
UNRESOLVED_MAX = 0.02
QUARANTINE_MAX = 0.10
OPTION_KEYS = {
    "tc": "label_set",
    "sts": "label_set",
    "ner": "types",
    "re": "relation_types",
    "ee": "event_types",
}
SUMMED = ("records", "rendered", "quarantined", "instances", "gold_empty", "source_empty",
          "options_equal_gold", "relations", "unresolved")  # fmt: skip
MAX_VARIANTS = 3  # option lists kept per view as evidence


def new_view_stats(rv: Any) -> dict[str, Any]:
    return {
        "task": rv.task, "use": rv.use, **dict.fromkeys(SUMMED, 0), "reasons": {},
        "unmapped": list(rv.unmapped), "option_variants": [],
    }  # fmt: skip


def _source_empty(task: str, record: Any) -> bool:
    field = {"ner": "entities", "re": "relations", "ee": "events", "tc": "labels"}.get(task)
    return field is not None and not getattr(record, field, None)


def observe_record(st: dict[str, Any], rv: Any, record: Any) -> None:
    """Evidence from the source record (before rendering): empty?, relations and unresolved arguments."""
    st["source_empty"] += _source_empty(rv.task, record)
    if rv.task == "re":
        from taiyi_core.tasks.re_ import unresolved

        wanted = rv.options.get("relation_types")
        rels = [r for r in record.relations if wanted is None or r.type in wanted]
        st["relations"] += len(rels)
        st["unresolved"] += len(unresolved(record, rels))


def _empty_targets() -> frozenset[str]:
    """The whole targets that mean "nothing to find" (the task modules' own NONE answers)."""
    from taiyi_core.tasks import re_, shapes, tc

    nones = set(shapes.NONE.values()) | set(re_.NO_RELATION.values())
    return frozenset(nones | {tc.PREFIX[lang] + shapes.NONE[lang] for lang in shapes.NONE})


def observe_row(st: dict[str, Any], rv: Any, row: dict[str, Any]) -> None:
    """Evidence from one rendered instance: empty gold, its option list, options equal to the gold
    (only TC/STS targets are parsed for that; emptiness is read off the target, which is cheaper)."""
    st["instances"] += 1
    target = row["target"].strip()
    st["gold_empty"] += not target or target in _EMPTY
    key = OPTION_KEYS.get(rv.task)
    meta = row.get("meta") or {}
    if key is None or key not in meta or meta.get("decomposed"):
        return
    options = list(meta[key])
    if options not in st["option_variants"] and len(st["option_variants"]) < MAX_VARIANTS:
        st["option_variants"].append(options)
    if rv.task in ("tc", "sts"):
        value = get_task(rv.task).parse(row["target"], row["lang"]).value
        gold = set(value if isinstance(value, list) else [value])
        st["options_equal_gold"] += bool(gold) and gold == set(options)


_EMPTY = _empty_targets()


def merge(into: dict[str, Any], st: dict[str, Any]) -> None:
    """Sum one split/shard's view stats into the view's total."""
    for k in SUMMED:
        into[k] = into.get(k, 0) + st.get(k, 0)
    into.setdefault("task", st["task"])
    into.setdefault("use", st["use"])
    for k, v in st.get("reasons", {}).items():
        into.setdefault("reasons", {})[k] = into.get("reasons", {}).get(k, 0) + v
    into["unmapped"] = sorted(set(into.get("unmapped", [])) | set(st.get("unmapped", [])))
    variants = into.setdefault("option_variants", [])
    for v in st.get("option_variants", []):
        if v not in variants and len(variants) < MAX_VARIANTS:
            variants.append(v)


def _rate(n: int, d: int) -> float:
    return n / d if d else 0.0


def check_view(st: dict[str, Any]) -> list[str]:
    """The rules a view breaks, each as a short phrase with the numbers that broke it."""
    problems = []
    if st["use"] == "eval" and st["instances"]:
        empty, source = _rate(st["gold_empty"], st["instances"]), _rate(st["source_empty"], st["records"])
        if empty > source + EMPTY_GOLD_MARGIN:
            problems.append(f"empty_gold: {empty:.0%} of eval golds empty vs {source:.0%} of source records")
    if len(st.get("option_variants", [])) > 1:
        problems.append(f"options_from_record: different option lists in one view, e.g. "
                        f"{st['option_variants'][:2]}")  # fmt: skip
    if (
        st["task"] in ("tc", "sts")
        and _rate(st["options_equal_gold"], st["instances"]) > OPTIONS_EQUAL_GOLD_MAX
    ):
        problems.append(f"options_from_record: options equal the gold in {st['options_equal_gold']} of "
                        f"{st['instances']} instances")  # fmt: skip
    if st["records"] and _rate(st["quarantined"], st["records"]) > QUARANTINE_MAX:
        problems.append(f"quarantined: {st['quarantined']} of {st['records']} records cannot be rendered "
                        f"in this view, e.g. {sorted(st.get('reasons', {}))[:1]}")  # fmt: skip
    if st.get("unmapped"):
        problems.append(f"unmapped: raw {st['unmapped'][:5]} map to nothing the view shows")
    if st.get("relations") and _rate(st["unresolved"], st["relations"]) > UNRESOLVED_MAX:
        problems.append(f"unresolved: {st['unresolved']} of {st['relations']} relations name an argument "
                        "no entity carries")  # fmt: skip
    return problems


def check_sizes(
    read: dict[str, dict[str, int]], published: dict[str, int], tolerance: float
) -> dict[str, str]:
    """Split -> problem, for splits whose records AND documents read both differ from the published size
    by more than ``tolerance`` (papers count documents for some corpora, sentences for others: DDI
    lists 714 training documents that the reader yields as sentences)."""
    out = {}
    for split, whole in read.items():
        size = published.get(split)
        counts = [whole.get("records", 0), whole.get("documents", 0)]
        if size and all(abs(n - size) > tolerance * size for n in counts):
            out[split] = (f"sizes: {split}: read {counts[0]} records in {counts[1]} documents, catalog lists "
                          f"{size} (tolerance {tolerance:.0%})")  # fmt: skip
    return out


def build(
    summaries: list[dict[str, Any]], published: dict[str, dict[str, int]], *, sizes: bool, tolerance: float
) -> dict[str, Any]:
    """The audit section of data/report.json: rows (dataset, view, status, problems, evidence), ok."""
    views: dict[tuple[str, str], dict[str, Any]] = {}
    read: dict[str, dict[str, dict[str, int]]] = {}
    for s in summaries:
        for split, c in s["splits"].items():
            # the whole split, as every shard saw it (max: identical across shards; older items lack it)
            whole = c.get("whole") or {"records": c["read"], "documents": c["read"]}
            have = read.setdefault(s["dataset"], {}).setdefault(split, {"records": 0, "documents": 0})
            for k in have:
                have[k] = max(have[k], whole[k])
            for name, st in (c.get("views") or {}).items():
                merge(views.setdefault((s["dataset"], name), {}), st)
    rows = []
    for (dataset, name), st in sorted(views.items()):
        problems = check_view(st)
        rows.append({
            "dataset": dataset, "view": name, "status": "red" if problems else "green", "problems": problems,
            **{k: st.get(k, 0) for k in SUMMED}, "options": (st.get("option_variants") or [[]])[0],
        })  # fmt: skip
    for dataset in sorted(read):
        if dataset not in published:
            continue
        if not sizes:
            rows.append(
                {
                    "dataset": dataset,
                    "view": "sizes",
                    "status": "skipped",
                    "problems": [
                        "sizes not checked (data.options.audit.sizes is off: the raw files are cuts)"
                    ],
                }
            )
            continue
        bad = check_sizes(read[dataset], published[dataset], tolerance)
        rows.append(
            {
                "dataset": dataset,
                "view": "sizes",
                "status": "red" if bad else "green",
                "problems": list(bad.values()),
                "read": read[dataset],
                "published": published[dataset],
            }
        )
    return {
        "ok": all(r["status"] != "red" for r in rows),
        "rows": rows,
        "rules": {
            "empty_gold_margin": EMPTY_GOLD_MARGIN,
            "options_equal_gold_max": OPTIONS_EQUAL_GOLD_MAX,
            "unresolved_max": UNRESOLVED_MAX,
            "quarantine_max": QUARANTINE_MAX,
            "size_tolerance": tolerance if sizes else None,
        },
    }
