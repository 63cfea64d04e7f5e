"""RE (end-to-end): ``relation: [head, tail]; [head, tail]`` lines, one per relation type.

zh lines read ``具有<relation>关系的实体对如下：[head, tail]; [head, tail]`` (the paper's form); parse
also accepts the plain ``relation：[...]`` form in either language. No gold entities are given in
the prompt: the model must find the argument strings (Taiyi's BC5CDR/CMeIE setting).

Gold from a KBRecord: mention-level relations use their entities' surface strings; concept-level
ones (PubTator CID) use the first-appearing mention whose normalisation id equals the concept id.
Triples are de-duplicated and ordered by relation type (prompt order), then by head and tail
position. The relation list shown is the DATASET's (``relation_types=``, required: catalog or the
data step's inventory), never the record's. Quoting (shapes.py): a head holding ``, `` or ``]; [``
and a tail holding ``]; [`` (or either starting with ``"``) are written in double quotes, quotes
doubled: ``CID: ["Wy-14, 643", hepatomegaly]``. A record with no relation (a negative sentence, kept
as an answer the model must learn) renders ``No relation`` / ``无关系``; parse also reads ``None``/``无``.

Scoring: micro P/R/F1 over per-instance sets of (head, relation, tail); ``per_relation`` and
``macro_f1``; ``relaxed_*`` (case/punctuation-insensitive arguments); ``undirected_*`` (head/tail
order ignored, for symmetric relations such as DDI/PPI); with inputs, ``ungrounded`` triples (an
argument not found in the input) and ``hallucination_rate``.
"""

from __future__ import annotations

import random
import re
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
from .metrics import macro_f1, micro_prf_sets, normalize_ws, per_label_prf, relaxed_key
from .ner import by_appearance

NAME = "re"
FAMILIES = ("kb",)

Value = dict[str, list[tuple[str, str]]]
PAIR_SEP = "]; ["
HEAD_STOPS, TAIL_STOPS = (", ", PAIR_SEP), (PAIR_SEP,)
NO_RELATION = {"en": "No relation", "zh": "无关系"}
ZH_LINE = re.compile(r"^具有(.+?)关系的实体对如下[：:]\s*(.*)$")
ZH_PHRASE = "关系的实体对如下"


def _names(
    record: KBRecord, relation_types: list[str] | None, names: dict[str, str] | None, *, prompt: bool = True
) -> list[str]:
    """The relation types asked for; a prompt needs the dataset's list, ``gold`` alone may use the
    record's own types (no prompt shows them)."""
    if relation_types is None and prompt:
        raise RenderError(
            f"{shapes.where(record)}: no relation type list (pass relation_types=: the dataset's, never "
            "the record's)"
        )
    raw = list(relation_types) if relation_types is not None else sorted({r.type for r in record.relations})
    shown = []
    for t in raw:
        key = shapes.clean_key((names or {}).get(t, t), record, "relation type")
        if ZH_PHRASE in key or "[" in key:
            raise RenderError(f"{shapes.where(record)}: relation type {key!r} contains '[' or {ZH_PHRASE!r}")
        shown.append(key)
    return list(dict.fromkeys(shown))


def _argument(record: KBRecord, ents: list, ref: str, level: str) -> tuple[int, str]:
    for pos, ent in enumerate(ents):
        if _resolves(ent, ref, level):
            return pos, ent.text
    raise RenderError(f"{shapes.where(record)}: relation argument {ref!r} ({level}) matches no entity")


def _resolves(ent: Entity, ref: str, level: str) -> bool:
    if level == "mention":
        return ent.id == ref
    return level == "concept" and any(n.id == ref for n in ent.normalized)


def unresolved(record: KBRecord, relations: list | None = None) -> list[str]:
    """Ids of relations (default: all the record's) whose head or tail matches no entity (the data
    audit counts them; render quarantines such a record for its RE view)."""
    rels = record.relations if relations is None else relations
    return [r.id for r in rels
            if not all(any(_resolves(e, ref, r.level) for e in record.entities) for ref in (r.head, r.tail))]


def _triples(record: KBRecord, rel_list: list[str], names: dict[str, str] | None) -> Value:
    found: dict[str, list[tuple[int, int, str, str]]] = {t: [] for t in rel_list}
    ents = by_appearance(record.entities)
    for rel in record.relations:
        t = normalize_ws((names or {}).get(rel.type, rel.type))
        if t not in found:
            raise RenderError(f"{shapes.where(record)}: relation {rel.id!r} type {t!r} not in {rel_list}")
        hp, head = _argument(record, ents, rel.head, rel.level)
        tp, tail = _argument(record, ents, rel.tail, rel.level)
        head = shapes.clean_item(head, record, "relation head")
        tail = shapes.clean_item(tail, record, "relation tail")
        found[t].append((hp, tp, head, tail))
    out: Value = {}
    for t, items in found.items():
        pairs = [(h, tl) for _, _, h, tl in sorted(items, key=lambda x: (x[0], x[1]))]
        out[t] = list(dict.fromkeys(pairs))
    return out


def gold(
    x: KBRecord | Instance,
    *,
    relation_types: list[str] | None = None,
    relation_names: dict[str, str] | None = None,
    only: str | None = None,
) -> Value:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    triples = _triples(x, _names(x, relation_types, relation_names, prompt=False), relation_names)
    return shapes.pick(triples, [only] if only is not None else triples)


def format_value(value: Value, lang: str) -> str:
    lines = []
    for t, pairs in value.items():
        if not pairs:
            continue
        body = shapes.join_items(
            f"[{shapes.write_item(h, HEAD_STOPS)}, {shapes.write_item(tl, TAIL_STOPS)}]" for h, tl in pairs
        )
        lines.append(f"具有{t}关系的实体对如下：{body}" if lang == "zh" else f"{shapes.write_key(t)}: {body}")
    return "\n".join(lines) if lines else NO_RELATION[lang]


def is_no_relation(text: str, lang: str) -> bool:
    t = normalize_ws(text).rstrip(".。")
    return shapes.is_none(t, lang) or t.lower() in {v.lower() for v in NO_RELATION.values()}


def render(
    record: KBRecord,
    lang: str,
    rng: random.Random,
    *,
    relation_types: list[str] | None = None,
    relation_names: dict[str, str] | None = None,
    decompose: bool = False,
) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    rel_list = _names(record, relation_types, relation_names)
    if not rel_list:
        raise RenderError(f"{shapes.where(record)}: no relation types to ask for (pass relation_types=)")
    triples = _triples(record, rel_list, relation_names)
    return shapes.per_type_instances(
        NAME, record, lang, rng, triples, rel_list,
        decompose=decompose, prompt_key="relations", meta_key="relation_types", format_value=format_value,
    )  # fmt: skip


def _parse_pairs(body: str) -> list[tuple[str, str]] | None:
    body = body.strip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    if not (body.startswith("[") and body.endswith("]")) or len(body) < 2:
        return None
    inner, pos, pairs = body[1:-1], 0, []
    while True:
        head, pos = shapes.read_item(inner, pos, (", ",))
        if not inner.startswith(", ", pos):
            return None
        tail, pos = shapes.read_item(inner, pos + 2, TAIL_STOPS)
        head, tail = normalize_ws(head), normalize_ws(tail)
        if not head or not tail:
            return None
        pairs.append((head, tail))
        if pos >= len(inner):
            return pairs
        pos += len(PAIR_SEP)  # read_item stopped at the pair separator


def parse(text: str, lang: str) -> Parsed:
    stripped = text.strip()
    if not stripped:
        return Parsed({}, ok=False, error="empty output")
    if is_no_relation(stripped, lang):
        return Parsed({})
    value: Value = {}
    bad = []
    for line in stripped.splitlines():
        if not line.strip():
            continue
        m = ZH_LINE.match(line.strip())
        kv = (normalize_ws(m.group(1)), m.group(2)) if m else shapes.split_key(line)
        pairs = _parse_pairs(kv[1]) if kv else None
        if kv is None or pairs is None:
            bad.append(line)
            continue
        items = value.setdefault(kv[0], [])
        items.extend(p for p in pairs if p not in items)
    return Parsed(
        value, ok=not bad, error=f"lines not in 'relation: [head, tail]' shape: {bad[:3]}" if bad else ""
    )


def _triple_list(value: Value) -> list[tuple[str, str, str]]:
    return [
        (normalize_ws(h), normalize_ws(r), normalize_ws(t)) for r, ps in (value or {}).items() for h, t in ps
    ]


def score(
    golds: list[Value],
    preds: list[Parsed],
    inputs: list[str] | None = None,
    relation_types: list[str] | None = None,
) -> dict:
    check_lengths(golds, preds, inputs)
    g = [_triple_list(v) for v in golds]
    p = [_triple_list(x.value) for x in preds]
    out: dict[str, Any] = {"n": len(golds), "parse_failures": parse_failures(preds)}
    out.update(micro_prf_sets(g, p))
    per = per_label_prf(g, p, label_of=lambda item: item[1], labels=relation_types or ())
    out["per_relation"] = per
    out["macro_f1"] = macro_f1(per)
    relaxed = micro_prf_sets(
        [{(relaxed_key(h), relaxed_key(r), relaxed_key(t)) for h, r, t in x} for x in g],
        [{(relaxed_key(h), relaxed_key(r), relaxed_key(t)) for h, r, t in x} for x in p],
    )
    out.update({f"relaxed_{k}": relaxed[k] for k in ("precision", "recall", "f1")})
    undirected = micro_prf_sets(
        [{(frozenset((h, t)), r) for h, r, t in x} for x in g],
        [{(frozenset((h, t)), r) for h, r, t in x} for x in p],
    )
    out.update({f"undirected_{k}": undirected[k] for k in ("precision", "recall", "f1")})
    if inputs is not None:
        predicted = ungrounded = 0
        for x, txt in zip(p, inputs, strict=True):
            txt = normalize_ws(txt)
            for h, _, t in set(x):
                predicted += 1
                ungrounded += not (h in txt and t in txt)
        out["ungrounded"] = ungrounded
        out["hallucination_rate"] = ungrounded / predicted if predicted else 0.0
    return out
