"""NER: ``type: m1; m2`` lines (zh ``类型：m1; m2``), one per type that has mentions.

Gold from a KBRecord: per type, the entity surface strings (whitespace-normalised) in order of first
appearance (span start, then end), de-duplicated by exact string equality — so case variants such
as ``Phenobarbital`` and ``phenobarbital`` both stay, as in Taiyi's targets. Lines follow the order
of the type list shown in the prompt, ``types=``: the DATASET's types (catalog or the data step's
inventory), required — a list taken from the record would tell the model which types occur. A
record with no mentions renders ``None`` / ``无``. ``decompose=True`` renders one single-type
instance per type (Taiyi's task decomposition), ids ``<record id>::<type>``. A mention holding
``; `` (or starting with ``"``) is written in double quotes, quotes doubled: ``Chemical: "a; b"; c``
(shapes.py); a type holding a colon likewise.

Scoring (fractions): headline micro P/R/F1 over per-instance sets of (type, mention) after whitespace
normalisation (the PromptCBLUE/Taiyi-comparable number); ``multiset_*`` counts duplicate predictions;
``per_type`` and ``macro_f1``; ``grounded_*`` drops predicted mentions that do not occur in the input
text (whitespace-normalised substring) and reports them as ``ungrounded``/``hallucination_rate``;
``relaxed_*`` matches types and mentions case-, width-, whitespace- and punctuation-insensitively.
"""

from __future__ import annotations

import random
from typing import Any

from taiyi_core.schema import Entity, KBRecord

from . import shapes
from .base import (
    Instance,
    Parsed,
    RenderError,
    check_family,
    check_lang,
    check_lengths,
    instance_gold,
    parse_failures,
)
from .metrics import macro_f1, micro_prf_multisets, micro_prf_sets, normalize_ws, per_label_prf, relaxed_key

NAME = "ner"
FAMILIES = ("kb",)

Value = dict[str, list[str]]


def _display(raw: str, type_names: dict[str, str] | None) -> str:
    return (type_names or {}).get(raw, raw)


def _type_list(
    record: KBRecord, types: list[str] | None, type_names: dict[str, str] | None, *, prompt: bool = True
) -> list[str]:
    """The types asked for. A prompt needs ``types`` (the dataset's); ``gold`` alone may fall back to
    the record's own types, sorted, since no prompt shows them."""
    if types is None and prompt:
        raise RenderError(
            f"{shapes.where(record)}: no entity type list (pass types=: the dataset's, never the record's)"
        )
    raw = list(types) if types is not None else sorted({e.type for e in record.entities})
    shown = [shapes.clean_key(_display(t, type_names), record, "entity type") for t in raw]
    return list(dict.fromkeys(shown))


def _mentions(record: KBRecord, type_list: list[str], type_names: dict[str, str] | None) -> Value:
    out: Value = {t: [] for t in type_list}
    for ent in by_appearance(record.entities):
        t = normalize_ws(_display(ent.type, type_names))
        if t not in out:
            raise RenderError(
                f"{shapes.where(record)}: entity {ent.id!r} has type {t!r}, not in the type list {type_list}"
            )
        m = shapes.clean_item(ent.text, record, f"mention of entity {ent.id!r}")
        if m not in out[t]:
            out[t].append(m)
    return out


def _position(ent: Entity) -> tuple[int, int]:
    return (min((s[0] for s in ent.spans), default=0), max((s[1] for s in ent.spans), default=0))


def by_appearance(entities: list) -> list:
    """Entities sorted by first span start, then end, then annotation order (stable)."""
    return sorted(entities, key=_position)


def gold(
    x: KBRecord | Instance,
    *,
    types: list[str] | None = None,
    type_names: dict[str, str] | None = None,
    only: str | None = None,
) -> Value:
    """Gold value of a record (as ``render`` writes it) or of an Instance (its parsed target)."""
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    tl = _type_list(x, types, type_names, prompt=False)
    ments = _mentions(x, tl, type_names)
    return shapes.pick(ments, [only] if only is not None else ments)


def format_value(value: Value, lang: str) -> str:
    colon = shapes.COLON[lang]
    lines = [f"{shapes.write_key(t)}{colon}{shapes.write_items(ms)}" for t, ms in value.items() if ms]
    return "\n".join(lines) if lines else shapes.NONE[lang]


def render(
    record: KBRecord,
    lang: str,
    rng: random.Random,
    *,
    types: list[str] | None = None,
    type_names: dict[str, str] | None = None,
    decompose: bool = False,
) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    tl = _type_list(record, types, type_names)
    if not tl:
        raise RenderError(f"{shapes.where(record)}: no entity types to ask for (pass types=)")
    ments = _mentions(record, tl, type_names)
    return shapes.per_type_instances(
        NAME, record, lang, rng, ments, tl,
        decompose=decompose, prompt_key="types", meta_key="types", format_value=format_value,
    )  # fmt: skip


def parse(text: str, lang: str) -> Parsed:
    """Read ``type: m1; m2`` lines (either colon width); other non-empty lines make ``ok`` False.

    Repeated mentions are kept as the model wrote them (the headline score de-duplicates them).
    """
    value: Value = {}
    bad: list[str] = []
    stripped = text.strip()
    if not stripped:
        return Parsed({}, ok=False, error="empty output")
    if shapes.is_none(stripped, lang):
        return Parsed({})
    for line in stripped.splitlines():
        if not line.strip():
            continue
        kv = shapes.split_key(line)
        if kv is None:
            bad.append(line)
            continue
        value.setdefault(kv[0], []).extend(shapes.split_items(kv[1]))  # duplicates kept: see multiset_*
    value = {t: ms for t, ms in value.items() if ms}
    return Parsed(value, ok=not bad, error=f"lines not in 'type: m1; m2' shape: {bad[:3]}" if bad else "")


def _pairs(value: Value) -> list[tuple[str, str]]:
    return [(normalize_ws(t), normalize_ws(m)) for t, ms in (value or {}).items() for m in ms]


def score(
    golds: list[Value], preds: list[Parsed], inputs: list[str] | None = None, types: list[str] | None = None
) -> dict:
    check_lengths(golds, preds, inputs)
    g = [_pairs(v) for v in golds]
    p = [_pairs(x.value) for x in preds]
    out: dict[str, Any] = {"n": len(golds), "parse_failures": parse_failures(preds)}
    out.update(micro_prf_sets(g, p))
    per = per_label_prf(g, p, label_of=lambda item: item[0], labels=types or ())
    out["per_type"] = per
    out["macro_f1"] = macro_f1(per)
    multi = micro_prf_multisets(g, p)
    out.update({f"multiset_{k}": multi[k] for k in ("precision", "recall", "f1")})
    rg = [{(relaxed_key(t), relaxed_key(m)) for t, m in x} for x in g]
    rp = [{(relaxed_key(t), relaxed_key(m)) for t, m in x} for x in p]
    relaxed = micro_prf_sets(rg, rp)
    out.update({f"relaxed_{k}": relaxed[k] for k in ("precision", "recall", "f1")})
    if inputs is not None:
        texts = [normalize_ws(t) for t in inputs]
        kept = [[(t, m) for t, m in set(x) if m in txt] for x, txt in zip(p, texts, strict=True)]
        predicted = sum(len(set(x)) for x in p)
        ungrounded = predicted - sum(len(k) for k in kept)
        grounded = micro_prf_sets(g, kept)
        out.update({f"grounded_{k}": grounded[k] for k in ("precision", "recall", "f1")})
        out["ungrounded"] = ungrounded
        out["hallucination_rate"] = ungrounded / predicted if predicted else 0.0
    return out
