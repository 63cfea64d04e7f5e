"""DiaKG (diabetes knowledge graph, Tianchi 88836): one JSON object per document file.

``{doc_id, paragraphs: [{paragraph_id, paragraph, sentences: [{sentence_id, sentence, start_idx, end_idx,
entities: [{entity_id, entity, entity_type, start_idx, end_idx}], relations: [{relation_type, relation_id,
head_entity_id, tail_entity_id}]}]}]}``. Sentence offsets are relative to the paragraph, entity offsets
to the **sentence**, ends exclusive (424/424 in the authors' sample); entities nest (``2型糖尿病`` and
``2型``); ids are strings that restart in every sentence.

One record per paragraph (``unit: paragraph``, Taiyi's 2,292 = the paragraphs of the 41 documents) or
per sentence. In a paragraph record entity offsets are shifted by the sentence start and ids become
``<sentence_id>.<entity_id>``. A sentence whose text is not the paragraph's slice, an entity that does
not re-slice, or a relation naming an unknown entity quarantines its record (named by document,
paragraph and sentence); a file that is not one JSON object quarantines the file. A stray undecodable
byte (``STRAY_BYTES_MAX`` of the lines of the pretty-printed file) quarantines the record holding it;
more, and the file is quarantined whole (option ``encoding``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    make_entity,
    require,
    undecodable,
)
from taiyi_core.schema import Entity, KBRecord, Relation


class DiakgOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    unit: Literal["paragraph", "sentence"] = "paragraph"
    label_set: list[str] | None = None  # entity types allowed


class DiakgReader(Reader):
    name = "diakg"
    Options = DiakgOptions
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: DiakgOptions, ctx: Ctx) -> Iterator:
        for path in ctx.files_in(paths, "*.json"):
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            if text is None:
                continue
            try:
                doc = json.loads(text)
                doc_id = str(require(doc, "doc_id", (str, int), "document"))
                paragraphs = require(doc, "paragraphs", list, "document")
            except (json.JSONDecodeError, RecursionError, SkipRecord) as exc:
                yield ctx.quarantine(path, f"not a DiaKG document: {exc}", raw=text[:300])
                continue
            for n, paragraph in enumerate(paragraphs):
                pid = str(paragraph.get("paragraph_id", n)) if isinstance(paragraph, dict) else str(n)
                units = [None] if opts.unit == "paragraph" else range(len(paragraph.get("sentences") or []))
                for unit in units:
                    rid = f"{doc_id}.p{pid}" + ("" if unit is None else f".s{unit}")
                    try:
                        ctx.claim_id(rid)
                        yield self._record(path, rid, paragraph, unit, opts, ctx)
                    except SkipRecord as exc:
                        yield ctx.quarantine(path, str(exc), record_id=rid, raw=paragraph)

    def _record(
        self, path: Path, rid: str, paragraph: Any, unit: int | None, opts: DiakgOptions, ctx: Ctx
    ) -> KBRecord:
        text = require(paragraph, "paragraph", str, "paragraph")
        sentences = require(paragraph, "sentences", list, "paragraph")
        chosen = sentences if unit is None else [sentences[unit]]
        if bad := undecodable(json.dumps(paragraph if unit is None else chosen, ensure_ascii=False)):
            raise SkipRecord(f"byte {bad} in this {'paragraph' if unit is None else 'sentence'} does not "
                             f"decode (reader option 'encoding')")  # fmt: skip
        entities: list[Entity] = []
        relations: list[Relation] = []
        for sentence in chosen:
            sid = str(require(sentence, "sentence_id", (str, int), "sentence"))
            where = f"sentence {sid}"
            body = require(sentence, "sentence", str, where)
            start = require(sentence, "start_idx", int, where)
            if text[start : start + len(body)] != body:
                raise SkipRecord(f"{where}: text is not the paragraph's slice at {start}")
            shift, prefix = (start, f"{sid}.") if unit is None else (0, "")
            base = text if unit is None else body
            ids: dict[str, str] = {}
            for ent in require(sentence, "entities", list, where):
                what = f"{where} entity"
                eid = str(require(ent, "entity_id", (str, int), what))
                etype = check_label(
                    require(ent, "entity_type", str, what), opts.label_set, f"{what} {eid} type"
                )
                span = (
                    require(ent, "start_idx", int, what) + shift,
                    require(ent, "end_idx", int, what) + shift,
                )
                ids[eid] = f"{rid}.{prefix}{eid}"
                entities.append(make_entity(base, ids[eid], etype, [span], require(ent, "entity", str, what)))
            for rel in require(sentence, "relations", list, where):
                what = f"{where} relation"
                head, tail = (
                    str(require(rel, k, (str, int), what)) for k in ("head_entity_id", "tail_entity_id")
                )
                if head not in ids or tail not in ids:
                    raise SkipRecord(
                        f"{what} {rel.get('relation_id')}: argument {head if head not in ids else tail!r} "
                        "is not an entity of the sentence"
                    )
                relations.append(
                    Relation(
                        id=f"{rid}.{prefix}{require(rel, 'relation_id', (str, int), what)}",
                        type=require(rel, "relation_type", str, what),
                        head=ids[head],
                        tail=ids[tail],
                    )
                )
        record_text = text if unit is None else chosen[0]["sentence"]
        return KBRecord(
            **ctx.common(path, None, rid),
            document_id=rid.split(".p")[0],
            text=record_text,
            entities=entities,
            relations=relations,
        )
