"""DDI corpus 2013 XML reader (DrugBank and MedLine parts; one ``<document>`` per file).

``<sentence id text>`` holds ``<entity id charOffset type text>`` and ``<pair e1 e2 ddi type>``.
Traps: ``charOffset`` ends are **inclusive** (``114-117`` is 4 characters) and a discontinuous
mention is ``a-b;c-d`` (its ``text`` joins the fragments with a space); offsets are sentence-relative;
sentence texts may carry ``&#xd;&#xa;`` (kept, they count as characters); negative pairs
(``ddi="false"``) are dropped unless ``negative_label`` names them; old releases say
``interaction`` instead of ``ddi``. ``unit: sentence`` gives one record per sentence (how DDI is
scored), ``document`` joins sentences with one space and shifts the offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    make_entity,
)
from taiyi_core.formats.sentence_xml import join_sentences, parse_sentences, sentence_records, xml_root
from taiyi_core.schema import Entity, Relation


class DdiOptions(ReaderOptions):
    unit: Literal["sentence", "document"] = "sentence"
    negative_label: str | None = None
    label_set: list[str] | None = None  # relation types allowed (entity types are not checked)


class DdiXmlReader(Reader):
    name = "ddi_xml"
    Options = DdiOptions
    raw_kind = "xml"
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: DdiOptions, ctx: Ctx) -> Iterator:
        for path in ctx.files_in(paths, "*.xml"):
            root = yield from xml_root(path, ctx, ("document",), salvage=("sentence",))
            if root is None:
                continue
            doc_id = root.get("id") or path.stem
            parse = partial(self._sentence, opts=opts)
            sentences = yield from parse_sentences(path, doc_id, root.iter("sentence"), parse, ctx)
            if opts.unit == "sentence":
                yield from sentence_records(path, doc_id, sentences, ctx)
            else:
                try:
                    ctx.claim_id(doc_id)
                    yield join_sentences(path, root.sourceline, doc_id, sentences, ctx)
                except SkipRecord as exc:
                    yield ctx.quarantine(path, str(exc), line=root.sourceline, record_id=doc_id)

    def _sentence(self, sent, sid: str, opts: DdiOptions) -> tuple[str, list[Entity], list[Relation]]:
        text = sent.get("text")
        if text is None:
            raise SkipRecord(f"sentence {sid} has no text attribute")
        entities = []
        for ent in sent.iter("entity"):
            eid, offsets = ent.get("id"), ent.get("charOffset")
            if not eid or not offsets or ent.get("type") is None:
                raise SkipRecord(f"entity in {sid} lacks id, charOffset or type (line {ent.sourceline})")
            try:
                spans = [(int(a), int(b) + 1) for a, b in (frag.split("-") for frag in offsets.split(";"))]
            except ValueError:
                raise SkipRecord(
                    f"entity {eid}: bad charOffset {offsets!r} (expected 'a-b' or 'a-b;c-d')"
                ) from None
            entities.append(make_entity(text, eid, ent.get("type"), spans, ent.get("text")))
        ids = {e.id for e in entities}
        relations: list[Relation] = []
        for pair in sent.iter("pair"):
            flag = pair.get("ddi", pair.get("interaction"))
            head, tail = pair.get("e1"), pair.get("e2")
            if flag not in ("true", "false") or head not in ids or tail not in ids:
                raise SkipRecord(
                    f"pair {pair.get('id')}: needs ddi true/false and e1/e2 among the sentence's "
                    f"entities (line {pair.sourceline})"
                )
            if flag == "true":
                rtype = pair.get("type") or "int"  # DDI-2011 marks positives without a type
            elif opts.negative_label:
                rtype = opts.negative_label
            else:
                continue
            check_label(rtype, opts.label_set, "relation type")
            relations.append(
                Relation(id=pair.get("id") or f"{sid}.p{len(relations)}", type=rtype, head=head, tail=tail)
            )
        return text, entities, relations
