"""Normalisation (NEN, CHIP-CDN-like): ``mention: id1; id2`` lines (zh ``mention：id1; id2``).

For each entity with normalisation links, in order of appearance: the mention (whitespace-
normalised; a mention holding a colon is written in double quotes, an id holding ``; `` too, see
shapes.py) and its link ids (``db`` is dropped: for CDN the id
is the standard term itself, for MeSH the bare id). The same mention seen twice merges its ids
(de-duplicated, first-seen order). The prompt lists the mentions to normalise; a record without
links raises RenderError. Scoring: micro P/R/F1 over per-instance sets of (mention, id) pairs;
``mention_accuracy`` = share of gold mentions whose predicted id set is exactly right.
"""

from __future__ import annotations

import random
from typing import Any

from taiyi_core.schema import KBRecord

from . import shapes
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
from .ner import by_appearance

NAME = "norm"
FAMILIES = ("kb",)
Value = dict[str, list[str]]


def gold(x: KBRecord | Instance) -> Value:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    out: Value = {}
    for ent in by_appearance(x.entities):
        if not ent.normalized:
            continue
        mention = shapes.clean_key(ent.text, x, f"mention of entity {ent.id!r}")
        ids = out.setdefault(mention, [])
        for n in ent.normalized:
            i = shapes.clean_item(n.id, x, f"normalisation id of entity {ent.id!r}")
            if i not in ids:
                ids.append(i)
    if not out:
        raise RenderError(f"{shapes.where(x)}: no entity with normalisation links")
    return out


def render(record: KBRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    value = gold(record)
    template = choose_template(NAME, lang, rng)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text=record.text, mentions=shapes.option_list(list(value), lang)),
        target="\n".join(
            f"{shapes.write_key(m)}{shapes.COLON[lang]}{shapes.write_items(ids)}" for m, ids in value.items()
        ),
        input_text=record.text,
    )]  # fmt: skip


def parse(text: str, lang: str) -> Parsed:
    value: Value = {}
    bad = []
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return Parsed({}, ok=False, error="empty output")
    for line in lines:
        kv = shapes.split_key(line)
        if kv is None:
            bad.append(line)
            continue
        ids = value.setdefault(kv[0], [])
        ids.extend(i for i in shapes.split_items(kv[1]) if i not in ids)
    return Parsed(value, ok=not bad, error=f"lines not 'mention: id1; id2': {bad[:3]}" if bad else "")


def score(golds: list[Value], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    pv = [p.value or {} for p in preds]
    out: dict[str, Any] = {"n": len(golds), "main": "f1", "parse_failures": parse_failures(preds)}
    out.update(micro_prf_sets([[(m, i) for m, ids in g.items() for i in ids] for g in golds],
                              [[(m, i) for m, ids in p.items() for i in ids] for p in pv]))  # fmt: skip
    total = sum(len(g) for g in golds)
    hits = sum(set(p.get(m, ())) == set(ids) for g, p in zip(golds, pv, strict=True) for m, ids in g.items())
    out["mention_accuracy"] = hits / total if total else 0.0
    return out
