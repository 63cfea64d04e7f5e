"""The ``reference`` of an eval row: gold that the scoring definitions need beyond the target text.

A target lists strings; the official kits score offsets and concept ids (definitions.py). The render
step (data/render.py ``render_eval``) calls ``reference(task, record, **render_options)`` on the same
(type-restricted) record it rendered and stores the result beside the instance in
``data/eval/<set>.jsonl``. Offsets index ``input_text`` (= ``KBRecord.text``); types and relation
names are the shown ones (after ``type_names`` / ``relation_names``), as in the target.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from . import ner, tc
from .metrics import normalize_ws


def _alternatives(ent: Any) -> list[list[int]] | None:
    """Alternative boundaries of a gold mention (BC2GM ALTGENE) from ``attributes["alternatives"]``: a
    JSON list of ``[start, end]`` pairs in ``KBRecord.text`` offsets; None when the entity has none."""
    raw = (getattr(ent, "attributes", None) or {}).get("alternatives")
    if not raw:
        return None
    pairs = json.loads(raw) if isinstance(raw, str) else raw
    return [[int(s), int(e)] for s, e in pairs]


def _shown(name: str, names: dict[str, str] | None) -> str:
    return normalize_ws((names or {}).get(name, name))


def ner_reference(record: Any, *, type_names: dict[str, str] | None = None) -> dict[str, Any]:
    """Every mention: entity id, offsets (first span start, last span end), shown type, normalised text,
    concept ids (a composite mention lists several), and alternative boundaries when the source has them."""
    mentions = []
    for ent in ner.by_appearance(record.entities):
        m: dict[str, Any] = {
            "id": ent.id,
            "start": min(s[0] for s in ent.spans),
            "end": max(s[1] for s in ent.spans),
            "type": _shown(ent.type, type_names),
            "text": normalize_ws(ent.text),
            "ids": [n.id for n in ent.normalized],
        }
        alt = _alternatives(ent)
        if alt is not None:
            m["alternatives"] = alt
        mentions.append(m)
    return {"mentions": mentions}


def re_reference(
    record: Any,
    *,
    relation_names: dict[str, str] | None = None,
    undirected_relations: list[str] | None = None,
) -> dict[str, Any]:
    """Every mention (as ``ner_reference``, all types: they make the concept dictionary), the relations
    as shown type + head/tail + level (entity ids for mention-level gold, concept ids for concept-level
    gold) and the relation types scored without head/tail order (the eval set's render option
    ``undirected_relations``, raw names)."""
    rels = [
        {"type": _shown(r.type, relation_names), "head": r.head, "tail": r.tail, "level": r.level}
        for r in record.relations
    ]
    undirected = [_shown(t, relation_names) for t in undirected_relations or ()]
    return {**ner_reference(record), "relations": rels, "undirected": undirected}


def tc_reference(
    record: Any, *, label_names: dict[str, str] | None = None, labels: list[str] | None = None
) -> dict[str, Any]:
    """The options shown in the prompt, in order (``accuracy_first_label`` maps a missing answer to the
    first one, as PromptCBLUE does): the dataset's label set, as render shows it."""
    return {"label_set": tc.label_set(record, label_names, labels)}


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "ner": ner_reference,
    "re": re_reference,
    "tc": tc_reference,
}


def reference(task: str, record: Any, **options: Any) -> dict[str, Any] | None:
    """The reference of ``record`` for ``task`` (None for tasks without one); options the builder does
    not take (render-only ones such as ``decompose``) are ignored."""
    build = BUILDERS.get(task)
    if build is None:
        return None
    params = inspect.signature(build).parameters
    return build(record, **{k: v for k, v in options.items() if k in params})
