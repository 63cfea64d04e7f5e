"""What the sentence-level XML corpora (DDI 2013, the PPI benchmark's unified XML) share: a file parsed
to its root, sentences parsed one by one (a bad one quarantines alone), one record per sentence, and a
document joined from its sentences (one space between them, entity offsets shifted).

A parsed sentence is ``(sentence id, source line, text, entities, relations)``; offsets are
sentence-relative. The format-specific part (``charOffset`` syntax, pair attributes) stays in each reader.

A file that is not well-formed (a truncated corpus, a bad UTF-8 byte, a broken tag) is salvaged: its
``<document>`` (PPI corpus) or ``<sentence>`` (DDI document) elements are parsed one at a time at their
own line numbers, a broken one quarantines alone and the others are read (``xml_root(..., salvage=)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from taiyi_core.formats.base import Ctx, Quarantined, SkipRecord, undecodable
from taiyi_core.schema import Entity, KBRecord, Passage, Relation

Sentence = tuple[str, int | None, str, list[Entity], list[Relation]]


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def xml_root(
    path: Path, ctx: Ctx, roots: tuple[str, ...], salvage: str | None = None
) -> Generator[Quarantined, None, Any]:
    """The root element, or None after yielding the file's Quarantined (invalid XML, unexpected root).

    ``salvage``: on invalid XML, a root of the first expected tag holding the ``salvage`` elements that
    parse on their own (each broken one yielded as a Quarantined). For readers' generators:
    ``root = yield from xml_root(path, ctx, ("document",), salvage="sentence")``.
    """
    try:
        root = etree.parse(str(path), _PARSER).getroot()
    except etree.XMLSyntaxError as exc:
        if salvage is None:
            yield ctx.quarantine(path, f"invalid XML: {exc.msg}", line=exc.lineno)
            return None
        return (yield from _salvaged(path, ctx, roots[0], salvage, exc))
    if root.tag not in roots:
        yield ctx.quarantine(
            path, f"root element is <{root.tag}>, expected <{roots[0]}>", line=root.sourceline
        )
        return None
    return root


def _salvaged(path: Path, ctx: Ctx, root_tag: str, tag: str, exc: etree.XMLSyntaxError):
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    head = re.search(rf"<{root_tag}\b[^>]*>", text)
    root = etree.fromstring(head.group(0) + f"</{root_tag}>", _PARSER) if head else etree.Element(root_tag)
    pattern = re.compile(rf"<{tag}\b[^>]*?/>|<{tag}\b[^>]*>.*?</{tag}>", re.DOTALL)
    blocks = list(pattern.finditer(text))
    if not blocks:
        yield ctx.quarantine(path, f"invalid XML: {exc.msg}; no <{tag}> element to salvage", line=exc.lineno)
        return None
    end = 0
    for block in blocks:
        line, end = text.count("\n", 0, block.start()) + 1, block.end()
        ident = re.search(r'\bid="([^"]*)"', block.group(0))
        where = {"line": line, "record_id": ident.group(1) if ident else None, "raw": block.group(0)}
        bad = undecodable(block.group(0))
        if bad:
            yield ctx.quarantine(path, f"<{tag}> holds a byte that is not valid UTF-8 ({bad})", **where)
            continue
        try:  # leading newlines keep the file's line numbers on the element and its children
            root.append(etree.fromstring(("\n" * (line - 1) + block.group(0)).encode("utf-8"), _PARSER))
        except etree.XMLSyntaxError as bad_xml:
            yield ctx.quarantine(path, f"invalid XML in this <{tag}>: {bad_xml.msg}", **where)
    tail = text[end:]
    if re.search(rf"<{tag}\b", tail):  # an element cut off by a truncated file
        yield ctx.quarantine(path, f"truncated file: a <{tag}> is not closed ({exc.msg})",
                             line=text.count("\n", 0, end) + 1, raw=tail)  # fmt: skip
    return root


def element_text(elem: Any, what: str) -> str | None:
    """``elem.text``, refusing an unexpanded entity reference inside it: with ``resolve_entities=False``
    lxml keeps ``&name;`` of an internal DTD entity as a node and ``.text``/``findtext`` stop before it
    (the rest of the text would be lost silently). None when ``elem`` is None."""
    if elem is None:
        return None
    for node in elem.iter():
        if isinstance(node, etree._Entity):
            raise SkipRecord(
                f"{what}: entity reference {node.text} (line {node.sourceline}) is not expanded "
                "(DTD entities are not resolved); write the character itself or a character reference"
            )
    return elem.text


def parse_sentences(
    path: Path,
    doc_id: str,
    elements: Iterable[Any],
    parse: Callable[[Any, str], tuple[str, list[Entity], list[Relation]]],
    ctx: Ctx,
) -> Generator[Quarantined, None, list[Sentence]]:
    """The sentences ``parse`` accepts; each one it rejects (SkipRecord) is yielded as a Quarantined."""
    sentences: list[Sentence] = []
    for sent in elements:
        sid = sent.get("id") or f"{doc_id}.s{len(sentences)}"
        try:
            sentences.append((sid, sent.sourceline, *parse(sent, sid)))
        except SkipRecord as exc:
            yield ctx.quarantine(
                path,
                str(exc),
                line=sent.sourceline,
                record_id=sid,
                raw=etree.tostring(sent, encoding="unicode"),
            )
    return sentences


def sentence_records(path: Path, doc_id: str, sentences: list[Sentence], ctx: Ctx) -> Iterator[Any]:
    """One KBRecord per sentence (a repeated sentence id quarantines)."""
    for sid, line, text, entities, relations in sentences:
        try:
            ctx.claim_id(sid)
        except SkipRecord as exc:
            yield ctx.quarantine(path, str(exc), line=line, record_id=sid)
            continue
        yield KBRecord(
            **ctx.common(path, line, sid),
            document_id=doc_id,
            text=text,
            entities=entities,
            relations=relations,
        )


def join_sentences(
    path: Path, line: int | None, doc_id: str, sentences: list[Sentence], ctx: Ctx
) -> KBRecord:
    """One KBRecord for the document: sentences joined by one space, each a passage, offsets shifted."""
    text, passages, entities, relations = "", [], [], []
    for _sid, _line, stext, sent_entities, sent_relations in sentences:
        offset = len(text) + (1 if text else 0)
        text = f"{text} {stext}" if text else stext
        passages.append(Passage(type="sentence", text=stext, offset=offset))
        for ent in sent_entities:
            shifted = [(a + offset, b + offset) for a, b in ent.spans]
            entities.append(ent.model_copy(update={"spans": shifted}))
        relations.extend(sent_relations)
    return KBRecord(
        **ctx.common(path, line, doc_id),
        document_id=doc_id,
        text=text,
        passages=passages,
        entities=entities,
        relations=relations,
    )
