"""What the sentence-level XML corpora (DDI 2013, the PPI benchmark's unified XML) share: a file parsed
to its root, sentences parsed one by one (a bad one quarantines alone), one record per sentence, and a
document joined from its sentences (one space between them, entity offsets shifted).

A parsed sentence is ``(sentence id, source line, text, entities, relations)``; offsets are
sentence-relative. The format-specific part (``charOffset`` syntax, pair attributes) stays in each reader.

A file that is not well-formed (a truncated corpus, a bad UTF-8 byte, a broken tag) is salvaged: its
``<document>`` (PPI corpus) and ``<sentence>`` elements are parsed one at a time at their own line
numbers, a broken sentence quarantines alone and the others are read (``xml_root(..., salvage=)``).
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
    path: Path, ctx: Ctx, roots: tuple[str, ...], salvage: tuple[str, ...] = ()
) -> Generator[Quarantined, None, Any]:
    """The root element, or None after yielding the file's Quarantined (invalid XML, unexpected root).

    ``salvage``: on invalid XML, a root of the first expected tag holding the ``salvage[0]`` elements
    that parse on their own; a broken one is rebuilt from its ``salvage[1]`` parts (marked ``SALVAGED``)
    or yielded as a Quarantined. For readers' generators:
    ``root = yield from xml_root(path, ctx, ("corpus",), salvage=("document", "sentence"))``.
    """
    try:
        root = etree.parse(str(path), _PARSER).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:  # lxml raises OSError on bytes its encoding refuses
        msg, line = getattr(exc, "msg", None) or str(exc), getattr(exc, "lineno", None)
        if not salvage:
            yield ctx.quarantine(path, f"invalid XML: {msg}", line=line)
            return None
        return (yield from _salvaged(path, ctx, roots[0], salvage, msg, line))
    if root.tag not in roots:
        yield ctx.quarantine(
            path, f"root element is <{root.tag}>, expected <{roots[0]}>", line=root.sourceline
        )
        return None
    return root


#: set on an element rebuilt from the parts that parse (a document missing a broken sentence)
SALVAGED = "taiyi-salvaged"


def _salvaged(path: Path, ctx: Ctx, root_tag: str, tags: tuple[str, ...], msg: str, line: int | None):
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    head = re.search(rf"<{root_tag}\b[^>]*>", text)
    root = _opened(head.group(0), root_tag, 1) if head else etree.Element(root_tag)
    found = yield from _salvage_into(root, text, 0, len(text), tags, path, ctx)
    if not found:
        yield ctx.quarantine(path, f"invalid XML: {msg}; no <{tags[0]}> to salvage", line=line)
        return None
    return root


def _opened(open_tag: str, tag: str, line: int) -> Any:
    """An empty element from its opening tag (attributes kept, at its line), or a bare one."""
    try:
        return etree.fromstring(("\n" * (line - 1) + open_tag.rstrip("/>") + f"></{tag}>").encode(), _PARSER)
    except (etree.XMLSyntaxError, UnicodeEncodeError):
        return etree.Element(tag)


def _salvage_into(
    parent: Any, text: str, start: int, stop: int, tags: tuple[str, ...], path: Path, ctx: Ctx
) -> Generator[Quarantined, None, int]:
    """Append to ``parent`` every ``tags[0]`` element of ``text[start:stop]`` that parses; one that does
    not is rebuilt from its ``tags[1]`` parts (nested), or quarantined with its line. Returns how many."""
    tag, inner = tags[0], tags[1:]
    opening = re.compile(rf"<{tag}\b[^>]*>")
    pattern = re.compile(rf"<{tag}\b[^>]*?/>|<{tag}\b[^>]*>.*?</{tag}>", re.DOTALL)
    count, end = 0, start
    for block in pattern.finditer(text, start, stop):
        count += 1
        line, end, raw = text.count("\n", 0, block.start()) + 1, block.end(), block.group(0)
        bad = undecodable(raw)
        try:  # leading newlines keep the file's line numbers on the element and its children
            if bad:
                raise etree.XMLSyntaxError(f"byte {bad} is not valid UTF-8", None, line, 0, str(path))
            parent.append(etree.fromstring(("\n" * (line - 1) + raw).encode("utf-8"), _PARSER))
        except etree.XMLSyntaxError as bad_xml:
            head = opening.match(raw)
            if inner and head and not head.group(0).endswith("/>"):
                child = _opened(head.group(0), tag, line)
                child.set(SALVAGED, "1")
                parent.append(child)
                body = block.start() + head.end()
                yield from _salvage_into(child, text, body, block.end(), inner, path, ctx)
            else:
                why = f"invalid XML in this <{tag}>: {bad_xml.msg}"
                yield ctx.quarantine(path, why, line=line, record_id=_element_id(raw), raw=raw)
    cut = re.compile(rf"<{tag}\b").search(text, end, stop)
    if cut:  # an element left open by a truncated file (perhaps inside its opening tag)
        count += 1
        line, head = text.count("\n", 0, cut.start()) + 1, opening.match(text, cut.start(), stop)
        if inner and head:
            child = _opened(head.group(0), tag, line)
            child.set(SALVAGED, "1")
            parent.append(child)
            yield from _salvage_into(child, text, head.end(), stop, inner, path, ctx)
        else:
            raw = text[cut.start() : stop]
            why = f"truncated file: this <{tag}> is not closed"
            yield ctx.quarantine(path, why, line=line, record_id=_element_id(raw), raw=raw)
    return count


def _element_id(raw: str) -> str | None:
    """The ``id`` (n2c2: ``ID``) attribute of the (first) element in ``raw``, found without parsing it."""
    found = re.search(r'\b(?:id|ID)="([^"]*)"', raw)
    return found.group(1) if found else None


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
