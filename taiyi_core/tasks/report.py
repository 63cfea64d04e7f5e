"""Report generation (IMCS-V2-MRG style): a header line, then one ``section: text`` line per field.

zh: ``上述问诊对话的诊疗报告如下：`` then ``主诉：…`` lines; en: ``The report is as follows:`` then
``Chief complaint: …``. Sections come from ``T2TRecord.fields`` in their order (required: free-text
outputs belong to t2t); an empty section is left blank. Scoring: ROUGE-L P/R/F over the section
texts joined in gold order (precision/recall/f1), ``field_accuracy`` (exact whitespace-normalised
match per gold section, averaged), ``per_field`` accuracy and ROUGE-L, ``missing_fields``.
"""

from __future__ import annotations

import random
import re

from taiyi_core.schema import T2TRecord

from . import _generation, shapes
from .base import (
    Instance,
    Parsed,
    check_family,
    check_lang,
    check_lengths,
    instance_gold,
    parse_failures,
)
from .t2s import fields_instances, record_fields
from .textmetrics import rouge_l

NAME = "report"
FAMILIES = ("t2t",)
HEADER = {"en": "The report is as follows:", "zh": "上述问诊对话的诊疗报告如下："}
HEADER_RE = re.compile(r"(诊疗报告如下|report is as follows)\s*[:：]?\s*$", re.IGNORECASE)
Value = dict[str, str]


def gold(x: T2TRecord | Instance) -> Value:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    return record_fields(x, "a report needs named fields (free text belongs to t2t)")


def render(record: T2TRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    return fields_instances(NAME, record, lang, rng, gold(record), header=HEADER[lang])


def parse(text: str, lang: str) -> Parsed:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return Parsed({}, ok=False, error="empty output")
    if HEADER_RE.search(lines[0]):
        lines = lines[1:]
    fields, bad = shapes.parse_fields(lines)
    return Parsed(
        fields, ok=not bad and bool(fields), error=f"lines not 'section: text': {bad[:3]}" if bad else ""
    )


def score(golds: list[Value], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    per: dict[str, list[float]] = {}
    hits = total = missing = 0
    p = r = f = 0.0
    for g, pred in zip(golds, preds, strict=True):
        pv = pred.value or {}
        joined = "\n".join(pv.get(k, "") for k in g)
        s = _generation.ROUGE_L_SCORER.score("\n".join(g.values()), joined)["rougeL"]
        p, r, f = p + s.precision, r + s.recall, f + s.fmeasure
        for k, v in g.items():
            got = pv.get(k)
            missing += got is None
            ok = got is not None and got == v
            hits += ok
            total += 1
            acc = per.setdefault(k, [0.0, 0.0, 0.0])
            acc[0] += ok
            acc[1] += rouge_l(v, got or "") if v else float(not got)
            acc[2] += 1
    n = len(golds)
    return {
        "n": n, "main": "f1", "precision": p / n if n else 0.0, "recall": r / n if n else 0.0,
        "f1": f / n if n else 0.0, "field_accuracy": hits / total if total else 0.0,
        "per_field": {k: {"accuracy": a / c, "rougeL": rl / c} for k, (a, rl, c) in per.items()},
        "missing_fields": missing, "parse_failures": parse_failures(preds),
    }  # fmt: skip
