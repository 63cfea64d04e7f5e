"""PPI benchmark unified XML reader (Pyysalo et al. 2008): AIMed, BioInfer, HPRD50, IEPA, LLL.

``<corpus source>`` -> ``<document id>`` -> ``<sentence id text>`` with ``<entity id charOffset text
type>`` and ``<pair id e1 e2 interaction="True|False">``. One record per sentence (``unit:
sentence``, how PPI is scored) or per document (sentences joined by one space, offsets shifted).

Traps: ``charOffset`` ends are **inclusive** in Pyysalo's files (``0-3`` is 4 characters) but
**exclusive** in the re-processed unified copy (metalrt/ppi-dataset, ``csv_output/<Corpus>-{train,test}.xml``:
option ``offsets: exclusive``); a discontinuous entity lists several ranges separated by **commas**
(``0-3,10-15``; DDI uses ``;``, accepted too); offsets are sentence-relative; only
``interaction="True"`` pairs become relations (type ``relation_type``), the ``False`` ones are the
negatives of the benchmark; the unified copy has no ``<pair>`` but positive ``<interaction e1 e2
type>`` elements only (negatives = every other entity pair). Entities without ``type`` (IEPA) get
``entity_type``; the ``type`` attribute is sometimes not a type: LLL's ``agent``/``target`` are roles
(``type_attribute: role`` keeps them as the ``role`` attribute), HPRD50's are HPRD ids joined by
``||`` (``type_attribute: id``: normalisations in ``id_db``). The pair is undirected: head/tail keep
the file's e1/e2 order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import Ctx, Reader, ReaderOptions, SkipRecord, make_entity
from taiyi_core.formats.sentence_xml import (
    SALVAGED,
    join_sentences,
    parse_sentences,
    sentence_records,
    xml_root,
)
from taiyi_core.schema import Entity, Normalization, Relation

_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


class PpiOptions(ReaderOptions):
    unit: Literal["sentence", "document"] = "sentence"
    relation_type: str = "PPI"
    entity_type: str = "protein"  # for entities without a type attribute
    negative_label: str | None = None  # keep interaction="False" pairs under this type
    offsets: Literal["inclusive", "exclusive"] = "inclusive"  # how charOffset ends count
    type_attribute: Literal["type", "role", "id"] = "type"  # what an entity's ``type`` attribute holds
    id_db: str = "HPRD"  # database of the ids when ``type_attribute: id``


class PpiXmlReader(Reader):
    name = "ppi_xml"
    Options = PpiOptions
    raw_kind = "xml"
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: PpiOptions, ctx: Ctx) -> Iterator:
        for path in ctx.files_in(paths, "*.xml"):
            root = yield from xml_root(path, ctx, ("corpus", "document"), salvage=("document", "sentence"))
            if root is None:
                continue
            docs = [root] if root.tag == "document" else root.findall("document")
            for doc in docs:
                yield from self._document(path, doc, opts, ctx)

    def _document(self, path: Path, doc, opts: PpiOptions, ctx: Ctx) -> Iterator:
        doc_id = doc.get("id") or f"{path.stem}.d{doc.sourceline}"
        elements = doc.findall("sentence")
        sentences = yield from parse_sentences(path, doc_id, elements, partial(_sentence, opts=opts), ctx)
        if opts.unit == "sentence":
            yield from sentence_records(path, doc_id, sentences, ctx)
            return
        # bad sentences were quarantined (or lost to invalid XML: SALVAGED); do not emit it incomplete
        if len(sentences) < len(elements) or doc.get(SALVAGED):
            return
        try:
            ctx.claim_id(doc_id)
        except SkipRecord as exc:
            yield ctx.quarantine(path, str(exc), line=doc.sourceline, record_id=doc_id)
            return
        yield join_sentences(path, doc.sourceline, doc_id, sentences, ctx)


def _spans(offsets: str, eid: str, end_extra: int) -> list[tuple[int, int]]:
    spans = []
    for frag in re.split(r"[,;]", offsets):
        match = _RANGE.match(frag)
        if not match:
            raise SkipRecord(f"entity {eid}: bad charOffset {offsets!r} (expected 'a-b' or 'a-b,c-d')")
        spans.append((int(match.group(1)), int(match.group(2)) + end_extra))
    return spans


def _sentence(sent, sid: str, opts: PpiOptions) -> tuple[str, list[Entity], list[Relation]]:
    text = sent.get("text")
    if text is None:
        raise SkipRecord(f"sentence {sid} has no text attribute")
    entities = []
    for ent in sent.findall("entity"):
        eid, offsets = ent.get("id"), ent.get("charOffset")
        if not eid or not offsets:
            raise SkipRecord(f"entity in {sid} lacks id or charOffset (line {ent.sourceline})")
        raw_type = ent.get("type")
        etype, role, norms = raw_type or opts.entity_type, "", []
        if raw_type and opts.type_attribute != "type":
            etype = opts.entity_type
            if opts.type_attribute == "role":
                role = raw_type
            else:
                norms = [Normalization(db=opts.id_db, id=i) for i in raw_type.split("||") if i]
        end_extra = 1 if opts.offsets == "inclusive" else 0
        entity = make_entity(
            text, eid, etype, _spans(offsets, eid, end_extra), ent.get("text"), norms,
            {"role": role} if role else None,
        )
        entities.append(entity)
    ids = {e.id for e in entities}
    relations: list[Relation] = []
    for pair in sent.findall("pair") + sent.findall("interaction"):
        # <interaction> (the unified copy) lists positives only
        flag = "true" if pair.tag == "interaction" else (pair.get("interaction") or "").lower()
        head, tail = pair.get("e1"), pair.get("e2")
        if flag not in ("true", "false") or head not in ids or tail not in ids:
            raise SkipRecord(
                f"pair {pair.get('id')}: needs interaction True/False and e1/e2 among the sentence's "
                f"entities (line {pair.sourceline})"
            )
        if flag == "false" and not opts.negative_label:
            continue
        rtype = opts.relation_type if flag == "true" else opts.negative_label
        relations.append(
            Relation(id=pair.get("id") or f"{sid}.p{len(relations)}", type=rtype, head=head, tail=tail)
        )
    return text, entities, relations
