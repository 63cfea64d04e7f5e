"""CHIP-2021/2022 variants of the cblue reader: CHIP-MDCFNPC, CMedCausal and Text2DT.

CHIP-MDCFNPC (``CHIP-MDCFNPC_*.jsonl``, the only JSON Lines file of the family): ``{dialog_id,
dialog_info: [{sentence_id, sender, text, ner: [{mention, range: [start, end], attr, type?, name?}]}]}``.
One KBRecord per dialogue, text = ``sender：text`` lines joined by ``\\n`` (one passage each); each
clinical finding is an entity placed by ``range`` inside its utterance (end exclusive unless
``end_inclusive``; the slice must equal ``mention``), its polarity ``attr`` (阳性/阴性/其他/不标注) an
attribute checked against ``label_set``, ``name`` (the normalised finding) a normalisation. Test files
carry no ``attr`` (those dialogues quarantine with "lacks key").

CMedCausal: ``{text, relation_of_mention: [{head: {mention, start_idx, end_idx}, tail: <mention> or
<relation>, relation: 1|2|3}]}``; a conditional relation's tail is itself a (causal) relation. Mentions
become entities (end exclusive unless ``end_inclusive``; a slice that differs quarantines); a nested
relation becomes its own Relation (or is the same Relation when the triple is also listed on its
own) and the outer one points to its id (``attributes["tail"] = "relation"``). Relation types are
the numbers as strings, mapped by ``label_map``.

Text2DT: ``{text, tree: [{role: C|D, triples: [[s, p, o], ...], logical_rel: and|or|null}]}``, nodes in
pre-order of a binary decision tree (a condition has two children, a decision none). One T2TRecord
(type ``structure``): ``fields`` holds one entry per node, ``节点N·条件|决策·且|或|单`` -> triples
``s，p，o`` joined by ``; ``; ``meta["tree"]`` keeps the tree as JSON. A malformed node or a node list
that is not a complete pre-order tree quarantines the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from taiyi_core.formats.base import SkipRecord, make_entity, require
from taiyi_core.schema import Entity, KBRecord, Normalization, Passage, Relation, T2TRecord

Label = Callable[[object, str], str]  # (value, what) -> checked label

_ROLES = {"C": "条件", "D": "决策"}
_RELS = {"and": "且", "or": "或", "null": "单", None: "单", "": "单"}


def mdcfnpc(obj: Any, end_inclusive: bool, label: Label, common: dict) -> KBRecord:
    rid = common["id"]
    text = ""
    passages: list[Passage] = []
    entities: list[Entity] = []
    for n, utt in enumerate(require(obj, "dialog_info", list), start=1):
        where = f"utterance {n}"
        sender = require(utt, "sender", str, where)
        sentence = require(utt, "text", str, where)
        offset = len(text) + (1 if text else 0)
        line = f"{sender}：{sentence}"
        text = f"{text}\n{line}" if text else line
        passages.append(Passage(type=sender, text=line, offset=offset))
        base = offset + len(sender) + 1
        for m, ner in enumerate(require(utt, "ner", list, where), start=1):
            what = f"{where} finding {m}"
            span = require(ner, "range", list, what)
            if len(span) != 2 or not all(isinstance(v, int) for v in span):
                raise SkipRecord(f"{what} range {span!r} is not [start, end]")
            start, end = span[0], span[1] + (1 if end_inclusive else 0)
            if not 0 <= start < end <= len(sentence):
                raise SkipRecord(f"{what} range {span!r} outside its utterance (length {len(sentence)})")
            attr = label(require(ner, "attr", str, what), f"{what} attr")
            name = ner.get("name")
            entities.append(
                make_entity(
                    text,
                    f"{rid}.T{len(entities) + 1}",
                    str(ner.get("type") or "临床发现"),
                    [(base + start, base + end)],
                    require(ner, "mention", str, what),
                    normalized=[Normalization(db="CHIP-MDCFNPC", id=name)]
                    if isinstance(name, str) and name
                    else [],
                    attributes={"attr": attr},
                )
            )
    if not passages:
        raise SkipRecord("empty dialog_info")
    return KBRecord(**common, document_id=rid, text=text, passages=passages, entities=entities)


def cmedcausal(obj: Any, end_inclusive: bool, label: Label, common: dict) -> KBRecord:
    rid = common["id"]
    text = require(obj, "text", str)
    found: dict[tuple[int, int], Entity] = {}
    relations: list[Relation] = []

    def mention(item: Any, where: str) -> Entity:
        start = require(item, "start_idx", int, where)
        end = require(item, "end_idx", int, where) + (1 if end_inclusive else 0)
        surface = require(item, "mention", str, where)
        if (start, end) not in found:
            eid = f"{rid}.T{len(found) + 1}"
            found[(start, end)] = make_entity(text, eid, "mention", [(start, end)], surface)
        elif found[(start, end)].text != surface:
            raise SkipRecord(f"{where} mention {surface!r} differs from the text at ({start}, {end})")
        return found[(start, end)]

    def relation(item: Any, where: str) -> Relation:
        head = mention(require(item, "head", dict, where), f"{where} head")
        tail_item = require(item, "tail", dict, where)
        attributes = {}
        if "head" in tail_item:  # the tail is itself a relation (conditional causality)
            tail_id = relation(tail_item, f"{where} tail").id
            attributes["tail"] = "relation"
        else:
            tail_id = mention(tail_item, f"{where} tail").id
        rtype = label(require(item, "relation", (int, str), where), f"{where} relation")
        for known in relations:  # a nested relation usually repeats one listed on its own
            if (known.type, known.head, known.tail) == (rtype, head.id, tail_id):
                return known
        rel = Relation(
            id=f"{rid}.R{len(relations) + 1}", type=rtype, head=head.id, tail=tail_id, attributes=attributes
        )
        relations.append(rel)
        return rel

    for n, item in enumerate(require(obj, "relation_of_mention", list), start=1):
        relation(item, f"relation {n}")
    return KBRecord(**common, document_id=rid, text=text, entities=list(found.values()), relations=relations)


def text2dt(obj: Any, common: dict) -> T2TRecord:
    text = require(obj, "text", str)
    tree = require(obj, "tree", list)
    if not tree:
        raise SkipRecord("empty tree")
    fields: dict[str, str] = {}
    open_slots = 1  # pre-order check: every node fills a slot, a condition opens two
    for n, node in enumerate(tree, start=1):
        where = f"node {n}"
        role = require(node, "role", str, where)
        if role not in _ROLES:
            raise SkipRecord(f"{where} role {role!r}, expected C or D")
        rel = node.get("logical_rel")
        if rel not in _RELS:
            raise SkipRecord(f"{where} logical_rel {rel!r}, expected and, or or null")
        triples = require(node, "triples", list, where)
        parts = []
        for triple in triples:
            if not (
                isinstance(triple, list) and len(triple) == 3 and all(isinstance(t, str) for t in triple)
            ):
                raise SkipRecord(f"{where} triple {triple!r} is not [subject, predicate, object]")
            parts.append("，".join(t.strip() for t in triple))
        if open_slots == 0:
            raise SkipRecord(f"{where} comes after the tree is complete (not a pre-order binary tree)")
        open_slots += 1 if role == "C" else -1
        fields[f"节点{n}·{_ROLES[role]}·{_RELS[rel]}"] = "; ".join(parts)
    if open_slots:
        raise SkipRecord(f"tree is incomplete: {open_slots} condition branch(es) without a node")
    return T2TRecord(
        **common,
        type="structure",
        input=text,
        output="\n".join(f"{k}：{v}" for k, v in fields.items()),
        fields=fields,
        meta={"tree": json.dumps(tree, ensure_ascii=False)},
    )
