"""Text to structure: one ``field: value`` line per field of ``T2TRecord.fields`` (no header).

A multi-valued field writes its values joined by ``; `` inside the value (scored per value).
Scoring: micro P/R/F1 over per-instance sets of (field, value) pairs, values split on ``; `` and
whitespace-normalised (an empty value contributes nothing); ``field_accuracy`` (exact value per
gold field); ``exact_match`` (the whole structure equal).
"""

from __future__ import annotations

import random
from typing import Any

from taiyi_core.schema import T2TRecord

from . import _generation, shapes
from .base import (
    Instance,
    Parsed,
    RenderError,
    check_family,
    check_lang,
    check_lengths,
    choose_template,
    instance_gold,
    parse_failures,
)
from .metrics import micro_prf_sets

NAME = "t2s"
FAMILIES = ("t2t",)
Value = dict[str, str]


def gold(x: T2TRecord | Instance) -> Value:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    return record_fields(x, "text-to-structure needs named fields")


def record_fields(record: T2TRecord, need: str) -> Value:
    """The record's named fields, cleaned; RenderError saying ``need`` when it has none."""
    if not record.fields:
        raise RenderError(f"{shapes.where(record)}: {need}")
    return shapes.clean_fields(record.fields, record)


def render(record: T2TRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    return fields_instances(NAME, record, lang, rng, gold(record))


def fields_instances(
    task: str, record: T2TRecord, lang: str, rng: random.Random, value: Value, header: str | None = None
) -> list[Instance]:
    """The instance asking for ``value``'s fields from ``record.input``: one ``field: value`` line per
    field in order, after ``header`` when given (report generation)."""
    template = choose_template(task, lang, rng)
    text = _generation.clean_text(record.input, record, "input")
    lines = shapes.format_fields(value, lang)
    return [Instance(
        id=record.id, dataset=record.dataset, task=task, lang=lang, template_id=template.id,
        prompt=template.fill(text=text, fields=shapes.option_list(list(value), lang)),
        target="\n".join([header, *lines] if header is not None else lines), input_text=text,
    )]  # fmt: skip


def parse(text: str, lang: str) -> Parsed:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return Parsed({}, ok=False, error="empty output")
    fields, bad = shapes.parse_fields(lines)
    return Parsed(fields, ok=not bad, error=f"lines not 'field: value': {bad[:3]}" if bad else "")


def _items(value: Value) -> set[tuple[str, str]]:
    return {(k, v) for k, vs in (value or {}).items() for v in shapes.split_items(vs)}


def score(golds: list[Value], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    out: dict[str, Any] = {"n": len(golds), "main": "f1", "parse_failures": parse_failures(preds)}
    out.update(micro_prf_sets([_items(g) for g in golds], [_items(p.value) for p in preds]))
    total = sum(len(g) for g in golds)
    hits = sum((p.value or {}).get(k) == v for g, p in zip(golds, preds, strict=True) for k, v in g.items())
    out["field_accuracy"] = hits / total if total else 0.0
    exact = sum(g == (p.value or {}) for g, p in zip(golds, preds, strict=True))
    out["exact_match"] = exact / len(golds) if golds else 0.0
    return out
