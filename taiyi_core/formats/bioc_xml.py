"""BioC XML reader: BC5CDR BioC, BioRED BioC, NLM-Gene, NLM-Chem, GNormPlus, CHEMDNER re-release.

``<collection>`` -> ``<document>`` (``<id>``, ``<infon>``, ``<passage>``, ``<relation>``) -> ``<passage>``
(``<infon key="type">``, ``<offset>``, ``<text>``, ``<sentence>``, ``<annotation>``) -> ``<annotation id>``
(``<infon>``, ``<location offset length/>``+, ``<text>``); ``<relation id>`` (``<infon>``, ``<node refid
role/>``*). One record per document; the conversion to ``KBRecord`` is in ``bioc_common``.

Why not ``bioc.biocxml.load``/``BioCXMLDocumentReader``: neither reports line numbers; one bad
``offset`` raises ``ValueError`` and ends the whole file; empty ``<text/>``/``<infon/>`` come back as
``None``; the streaming reader never clears parsed elements. Here ``lxml.iterparse`` walks documents one
by one (cleared after use, each with its source line), fills the ``bioc`` data model, and a bad
document quarantines alone. After a syntax error the rest of the file is parsed one ``<document>``
at a time: the broken document is quarantined with its line, the ones around it are read.

Trap: XML parsers normalise literal ``\\r\\n`` inside text to ``\\n`` (only ``&#13;`` survives); a file
whose offsets count the CR then fails the re-slice check and quarantines rather than being shifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bioc import BioCAnnotation, BioCDocument, BioCLocation, BioCNode, BioCPassage, BioCRelation, BioCSentence
from lxml import etree

from taiyi_core.formats.base import Ctx, Reader, SkipRecord, undecodable
from taiyi_core.formats.bioc_common import BiocOptions, to_record
from taiyi_core.formats.sentence_xml import element_text


class BiocXmlReader(Reader):
    name = "bioc_xml"
    Options = BiocOptions
    raw_kind = "xml"
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: BiocOptions, ctx: Ctx) -> Iterator:
        files = ctx.files_in(paths, "*.xml")
        for path in files:
            yield from self._file(path, opts, ctx)

    def _file(self, path: Path, opts: BiocOptions, ctx: Ctx) -> Iterator:
        root = None
        seen = 0
        try:
            for event, elem in etree.iterparse(
                str(path), events=("start", "end"), resolve_entities=False, no_network=True
            ):
                if root is None:
                    root = elem
                    if elem.tag != "collection":
                        yield ctx.quarantine(
                            path, f"root element is <{elem.tag}>, expected <collection>", line=elem.sourceline
                        )
                        return
                    continue
                if event != "end" or elem.tag != "document" or elem.getparent() is not root:
                    continue
                seen += 1
                yield self._emit(path, elem, elem.sourceline, opts, ctx)
                elem.clear()
                while elem.getprevious() is not None:
                    del root[0]
        except etree.XMLSyntaxError as exc:
            yield from self._salvage(path, seen, exc, opts, ctx)

    @staticmethod
    def _emit(path: Path, elem, line: int | None, opts: BiocOptions, ctx: Ctx):
        """One ``<document>`` element as a record, or its Quarantined."""
        doc_id = (elem.findtext("id") or "").strip() or None
        try:
            return to_record(_document(elem), opts, ctx, ctx.source(path, line, doc_id))
        except SkipRecord as exc:
            return ctx.quarantine(
                path, str(exc), line=line, record_id=doc_id, raw=etree.tostring(elem, encoding="unicode")
            )

    def _salvage(
        self, path: Path, seen: int, exc: etree.XMLSyntaxError, opts: BiocOptions, ctx: Ctx
    ) -> Iterator:
        """After a syntax error, parse the file one ``<document>…</document>`` at a time so that the
        documents after the broken one are read too; the broken one is quarantined with its line."""
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")  # a bad byte: its document only
        blocks = list(_DOCUMENT.finditer(text))
        if len(blocks) <= seen:
            yield ctx.quarantine(
                path, f"invalid XML after {seen} documents: {exc.msg}; rest of file not read", line=exc.lineno
            )
            return
        for block in blocks[seen:]:
            line = text.count("\n", 0, block.start()) + 1
            bad_byte = undecodable(block.group(0))
            if bad_byte:
                doc_id = _ID.search(block.group(0))
                yield ctx.quarantine(
                    path,
                    f"byte {bad_byte} in this document is not valid UTF-8",
                    line=line,
                    record_id=doc_id.group(1).strip() if doc_id else None,
                    raw=block.group(0),
                )
                continue
            try:
                elem = etree.fromstring(block.group(0).encode("utf-8"), _PARSER)
            except etree.XMLSyntaxError as bad:
                doc_id = _ID.search(block.group(0))
                yield ctx.quarantine(
                    path,
                    f"invalid XML in this document: {bad.msg}",
                    line=line + (bad.lineno or 1) - 1,
                    record_id=doc_id.group(1).strip() if doc_id else None,
                    raw=block.group(0),
                )
                continue
            yield self._emit(path, elem, line, opts, ctx)


_DOCUMENT = re.compile(r"<document[\s>].*?</document>", re.DOTALL)
_ID = re.compile(r"<id>(.*?)</id>", re.DOTALL)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _int(value: str | None, what: str) -> int:
    try:
        return int(value.strip())  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise SkipRecord(f"{what} is {value!r}, expected an integer") from None


def _infons(elem) -> dict[str, str]:
    return {child.get("key"): child.text or "" for child in elem.findall("infon") if child.get("key")}


def _document(elem) -> BioCDocument:
    doc = BioCDocument()
    doc.id = elem.findtext("id")
    doc.infons = _infons(elem)
    for p_elem in elem.findall("passage"):
        passage = BioCPassage()
        passage.infons = _infons(p_elem)
        passage.offset = _int(p_elem.findtext("offset"), f"passage offset (line {p_elem.sourceline})")
        if p_elem.find("text") is not None:
            passage.text = element_text(p_elem.find("text"), f"passage text (line {p_elem.sourceline})")
        for s_elem in p_elem.findall("sentence"):
            sentence = BioCSentence()
            sentence.infons = _infons(s_elem)
            sentence.offset = _int(s_elem.findtext("offset"), f"sentence offset (line {s_elem.sourceline})")
            sentence.text = element_text(s_elem.find("text"), f"sentence text (line {s_elem.sourceline})")
            for a in s_elem.findall("annotation"):
                sentence.add_annotation(_annotation(a))
            for r in s_elem.findall("relation"):
                sentence.add_relation(_relation(r))
            passage.add_sentence(sentence)
        for a in p_elem.findall("annotation"):
            passage.add_annotation(_annotation(a))
        for r in p_elem.findall("relation"):
            passage.add_relation(_relation(r))
        doc.add_passage(passage)
    for a in elem.findall("annotation"):
        doc.add_annotation(_annotation(a))
    for r in elem.findall("relation"):
        doc.add_relation(_relation(r))
    return doc


def _annotation(elem) -> BioCAnnotation:
    ann = BioCAnnotation()
    ann.id = elem.get("id")
    ann.infons = _infons(elem)
    ann.text = element_text(elem.find("text"), f"annotation {ann.id} text (line {elem.sourceline})")
    for loc in elem.findall("location"):
        where = f"annotation {ann.id} location (line {loc.sourceline})"
        ann.add_location(
            BioCLocation(
                _int(loc.get("offset"), f"{where} offset"), _int(loc.get("length"), f"{where} length")
            )
        )
    return ann


def _relation(elem) -> BioCRelation:
    rel = BioCRelation()
    rel.id = elem.get("id")
    rel.infons = _infons(elem)
    for node in elem.findall("node"):
        rel.add_node(BioCNode(node.get("refid"), node.get("role") or ""))
    return rel
