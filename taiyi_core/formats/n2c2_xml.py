"""i2b2/n2c2 XML reader (option ``variant``): de-identification (2006, 2014) and document
classification (2006 smoking status, 2008 obesity, 2018 cohort selection).

- ``deid_2006``: ``<ROOT><RECORD ID><TEXT>... <PHI TYPE="DOCTOR">name</PHI> ...</TEXT></RECORD>``; the
  text is TEXT's character content with the PHI tags removed, each PHI an entity of its TYPE (offsets
  computed while walking the content, so they re-slice exactly). Any other element inside TEXT
  quarantines the record. One KBRecord per RECORD.
- ``deid_2014``: one file per note, ``<deIdi2b2><TEXT><![CDATA[...]]></TEXT><TAGS><NAME id start end
  text TYPE comment/>...``; the tag name is the PHI category (NAME, DATE, LOCATION, ...), ``TYPE`` the
  subtype (PATIENT, DOCTOR, CITY, ...). Entity type = ``TYPE`` (``type_from: tag`` uses the category);
  the category is kept as an attribute. ``text`` must equal the slice at start:end (the XML parser
  turns ``\\r\\n`` into ``\\n``, as the released offsets assume).
- ``smokers_2006``: ``<ROOT><RECORD ID><SMOKING STATUS="..."/><TEXT>...</TEXT></RECORD>`` -> TextRecord
  with the one status as label (test files without SMOKING quarantine).
- ``obesity_2008``: notes ``<root><docs><doc id><text>...</text></doc>`` and, in separate files, the
  judgments ``<diseaseset><diseases source="intuitive|textual"><disease name><doc id judgment
  Y|N|Q|U/>``; pass both kinds of file. One TextRecord per note: labels = diseases judged ``Y`` in the
  ``source`` annotation set, every judgment kept in ``meta`` (disease -> judgment); a note without any
  judgment in that set quarantines (its annotation file is missing).
- ``cohort_2018``: ``<PatientMatching><TEXT><![CDATA[...]]></TEXT><TAGS><ABDOMINAL met="met|not met"/>
  ...`` -> TextRecord, labels = the criteria that are ``met``.
``label_set`` checks the PHI types / labels. A file that is not XML, or has another root, quarantines.
Not well-formed (a stray undecodable byte, a broken tag, a truncated file): ``deid_2006`` and
``smokers_2006`` files are salvaged RECORD by RECORD (``xml_root(..., salvage=)``: the broken RECORD
quarantines with its line, the others are read); ``deid_2014`` and ``cohort_2018`` files are one note
each, so the file is the record; ``obesity_2008`` files quarantine whole: a judgment file salvaged in
part would silently change the labels of the notes whose judgments were lost, and a notes file shares
its ``<doc>`` tag with the judgment files, so the two cannot be told apart before parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from taiyi_core.formats.base import Ctx, Reader, ReaderOptions, SkipRecord, check_label, make_entity
from taiyi_core.formats.sentence_xml import element_text, xml_root
from taiyi_core.schema import Entity, KBRecord, TextRecord

Variant = Literal["deid_2006", "deid_2014", "smokers_2006", "obesity_2008", "cohort_2018"]
_ROOTS = {
    "deid_2006": ("ROOT",),
    "smokers_2006": ("ROOT",),
    "deid_2014": ("deIdi2b2",),
    "cohort_2018": ("PatientMatching",),
    "obesity_2008": ("root", "diseaseset"),
}


class N2c2XmlOptions(ReaderOptions):
    variant: Variant
    type_from: Literal["type", "tag"] = "type"  # deid_2014: entity type from TYPE or the tag name
    source: Literal["intuitive", "textual"] = "intuitive"  # obesity_2008 judgment set
    label_set: list[str] | None = None


class N2c2XmlReader(Reader):
    name = "n2c2_xml"
    Options = N2c2XmlOptions
    raw_kind = "xml"

    def _read(self, paths: list[Path], opts: N2c2XmlOptions, ctx: Ctx) -> Iterator[Any]:
        if opts.variant == "obesity_2008":
            yield from self._obesity(paths, opts, ctx)
            return
        for path in paths:
            salvage = ("RECORD",) if opts.variant in ("deid_2006", "smokers_2006") else ()
            root = yield from xml_root(path, ctx, _ROOTS[opts.variant], salvage=salvage)
            if root is None:
                continue
            if opts.variant in ("deid_2014", "cohort_2018"):
                units = [(path.stem, root)]
            else:
                units = [(r.get("ID") or f"{path.stem}-{n}", r) for n, r in enumerate(root.iter("RECORD"))]
            for rid, element in units:
                try:
                    ctx.claim_id(rid)
                    common = ctx.common(path, element.sourceline, rid)
                    if opts.variant == "deid_2006":
                        yield _deid_2006(element, opts, common)
                    elif opts.variant == "deid_2014":
                        yield _deid_2014(element, opts, common)
                    elif opts.variant == "smokers_2006":
                        yield _smokers(element, opts, common)
                    else:
                        yield _cohort(element, opts, common)
                except SkipRecord as exc:
                    raw = etree.tostring(element, encoding="unicode")
                    yield ctx.quarantine(path, str(exc), line=element.sourceline, record_id=rid, raw=raw)

    def _obesity(self, paths: list[Path], opts: N2c2XmlOptions, ctx: Ctx) -> Iterator[Any]:
        notes: list[tuple[Path, Any]] = []
        judgments: dict[str, dict[str, str]] = {}
        for path in paths:
            root = yield from xml_root(path, ctx, _ROOTS["obesity_2008"])
            if root is None:
                continue
            if root.tag == "root":
                notes += [(path, doc) for doc in root.iter("doc")]
                continue
            for diseases in root.iter("diseases"):
                if diseases.get("source") != opts.source:
                    continue
                for disease in diseases.iter("disease"):
                    for doc in disease.iter("doc"):
                        judgments.setdefault(doc.get("id", ""), {})[disease.get("name", "")] = doc.get(
                            "judgment", ""
                        )
        for path, doc in notes:
            rid = doc.get("id") or ""
            try:
                ctx.claim_id(rid)
                text = _text_of(doc, "text")
                judged = judgments.get(rid)
                if not judged:
                    raise SkipRecord(f"no {opts.source} judgments for doc {rid!r} (annotation file missing?)")
                labels = [check_label(d, opts.label_set, "disease") for d, j in judged.items() if j == "Y"]
                yield TextRecord(
                    **ctx.common(path, doc.sourceline, rid),
                    text=text,
                    labels=labels,
                    label_set=opts.label_set or [],
                    meta=dict(judged),
                )
            except SkipRecord as exc:
                yield ctx.quarantine(path, str(exc), line=doc.sourceline, record_id=rid)


def _text_of(element: Any, tag: str) -> str:
    found = element.find(tag)
    if found is None:
        raise SkipRecord(f"<{element.tag}> has no <{tag}>")
    element_text(found, f"<{tag}>")  # refuses an unexpanded entity reference (itertext would keep '&e;')
    text = "".join(found.itertext())
    if not text.strip():
        raise SkipRecord(f"<{tag}> is empty")
    return text


def _deid_2006(record: Any, opts: N2c2XmlOptions, common: dict) -> KBRecord:
    node = record.find("TEXT")
    if node is None:
        raise SkipRecord("<RECORD> has no <TEXT>")
    pieces, found = [node.text or ""], []
    length = len(pieces[0])
    for child in node:
        if child.tag != "PHI" or len(child):
            raise SkipRecord(f"unexpected <{child.tag}> inside <TEXT> (line {child.sourceline})")
        surface = child.text or ""
        found.append((check_label(child.get("TYPE", ""), opts.label_set, "PHI TYPE"), length, surface))
        pieces += [surface, child.tail or ""]
        length += len(surface) + len(child.tail or "")
    text = "".join(pieces)
    entities: list[Entity] = []
    for etype, start, surface in found:
        eid = f"{common['id']}.T{len(entities) + 1}"
        entities.append(make_entity(text, eid, etype, [(start, start + len(surface))], surface))
    return KBRecord(**common, document_id=common["id"], text=text, entities=entities)


def _deid_2014(root: Any, opts: N2c2XmlOptions, common: dict) -> KBRecord:
    text = _text_of(root, "TEXT")
    tags = root.find("TAGS")
    entities: list[Entity] = []
    for tag in [] if tags is None else tags:
        where = f"tag <{tag.tag} id={tag.get('id')!r}>"
        try:
            start, end = int(tag.get("start", "")), int(tag.get("end", ""))
        except ValueError:
            raise SkipRecord(
                f"{where} start/end {tag.get('start')!r}/{tag.get('end')!r} are not integers"
            ) from None
        etype = tag.get("TYPE", "") if opts.type_from == "type" else tag.tag
        entities.append(
            make_entity(
                text,
                f"{common['id']}.{tag.get('id') or f'T{len(entities) + 1}'}",
                check_label(etype, opts.label_set, f"{where} type"),
                [(start, end)],
                tag.get("text"),
                attributes={"category": tag.tag},
            )
        )
    return KBRecord(**common, document_id=common["id"], text=text, entities=entities)


def _smokers(record: Any, opts: N2c2XmlOptions, common: dict) -> TextRecord:
    smoking = record.find("SMOKING")
    if smoking is None or not smoking.get("STATUS"):
        raise SkipRecord("<RECORD> has no <SMOKING STATUS> (unlabelled test data?)")
    label = check_label(smoking.get("STATUS"), opts.label_set, "smoking status")
    return TextRecord(**common, text=_text_of(record, "TEXT"), labels=[label], label_set=opts.label_set or [])


def _cohort(root: Any, opts: N2c2XmlOptions, common: dict) -> TextRecord:
    text = _text_of(root, "TEXT")
    tags = root.find("TAGS")
    if tags is None or not len(tags):
        raise SkipRecord("no <TAGS> criteria (unlabelled test data?)")
    labels, meta = [], {}
    for tag in tags:
        met = tag.get("met")
        if met not in ("met", "not met"):
            raise SkipRecord(f"criterion <{tag.tag}> has met={met!r}, expected 'met' or 'not met'")
        meta[tag.tag] = met
        if met == "met":
            labels.append(check_label(tag.tag, opts.label_set, "criterion"))
    return TextRecord(**common, text=text, labels=labels, label_set=opts.label_set or [], meta=meta)
