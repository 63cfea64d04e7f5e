"""CoNLL / IOB reader: JNLPBA (``Genia4ERtask1.iob2``), BLURB/Crichton TSVs (BC2GM, BC5CDR, NCBI, ...),
ProGene, SCAI, EBM-PICO and GENETAG conversions.

One token per line, columns split on ``delimiter`` (default: any whitespace; ``"\\t"`` keeps spaces
inside tokens), the token in ``token_column`` and the tag in ``tag_column`` (negative = from the end);
a blank line ends a sentence; a line starting with ``doc_separator`` (``-DOCSTART-``, JNLPBA
``###MEDLINE:``) ends a document (``doc_id_from_separator`` takes the rest of that line as the id).
``KBRecord.text`` = the tokens joined by one space; entities get offsets over that string (the
original spacing is lost: ``IL - 2`` stays ``IL - 2``).

Tag schemes: ``iob2`` (every entity starts with ``B-``), ``iob1`` (``I-`` starts an entity, ``B-``
only separates two adjacent entities of one type; CoNLL-2003), ``bioes`` (``B- I- E-`` and single
``S-``). A tag sequence the scheme forbids (iob2 ``I-X`` after ``O`` or after another type; bioes
``B-X`` never closed by ``E-X``) quarantines its sentence (``invalid: quarantine``) or is repaired the
way conlleval reads it (``invalid: begin``: a stray ``I-``/``E-`` starts a new entity, an unclosed
entity ends where the next tag begins). Bare ``B``/``I`` tags (one-type files) need ``default_type``.
Traps: CRLF files and a missing final newline (handled by ``split_lines``); ``-DOCSTART-`` lines carry
dummy columns; token or tag columns missing on one line quarantine the sentence with its line number;
a byte that does not decode quarantines only the sentence (document) holding it, not the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    split_lines,
    undecodable,
)
from taiyi_core.schema import Entity, KBRecord, Passage

_PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}


class ConllOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    delimiter: str | None = None  # None = any run of whitespace
    token_column: int = 0
    tag_column: int = -1
    scheme: Literal["iob1", "iob2", "bioes"] = "iob2"
    invalid: Literal["quarantine", "begin"] = "quarantine"
    doc_separator: str | None = "-DOCSTART-"
    doc_id_from_separator: bool = False
    unit: Literal["sentence", "document"] = "sentence"
    default_type: str | None = None  # entity type of bare B/I tags
    type_map: dict[str, str] = {}
    label_set: list[str] | None = None  # entity types (after type_map)


@dataclass
class _Sentence:
    line: int
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Document:
    id: str
    line: int
    sentences: list[_Sentence] = field(default_factory=list)


class ConllReader(Reader):
    name = "conll"
    Options = ConllOptions
    raw_kind = "conll"

    def _read(self, paths: list[Path], opts: ConllOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            if text is None:
                continue
            for doc in _documents(split_lines(text), path, opts):
                if opts.unit == "document":
                    yield self._document(path, doc, opts, ctx)
                    continue
                for k, sent in enumerate(doc.sentences):
                    sid = f"{doc.id}.s{k}"
                    try:
                        ctx.claim_id(sid)
                        entities = _entities(sent, opts, sid, 0)
                        yield KBRecord(
                            **ctx.common(path, sent.line, sid),
                            document_id=doc.id,
                            text=" ".join(sent.tokens),
                            entities=entities,
                        )
                    except SkipRecord as exc:
                        yield ctx.quarantine(path, str(exc), line=sent.line, record_id=sid, raw=_raw(sent))

    def _document(self, path: Path, doc: _Document, opts: ConllOptions, ctx: Ctx):
        try:
            ctx.claim_id(doc.id)
            text, passages, entities = "", [], []
            for k, sent in enumerate(doc.sentences):
                offset = len(text) + (1 if text else 0)
                stext = " ".join(sent.tokens)
                text = f"{text} {stext}" if text else stext
                passages.append(Passage(type="sentence", text=stext, offset=offset))
                entities.extend(_entities(sent, opts, f"{doc.id}.s{k}", offset))
            return KBRecord(
                **ctx.common(path, doc.line, doc.id),
                document_id=doc.id,
                text=text,
                passages=passages,
                entities=entities,
            )
        except SkipRecord as exc:
            raw = "\n\n".join(_raw(s) for s in doc.sentences)
            return ctx.quarantine(path, str(exc), line=doc.line, record_id=doc.id, raw=raw)


def _raw(sent: _Sentence) -> str:
    return "\n".join(f"{tok}\t{tag}" for tok, tag in zip(sent.tokens, sent.tags, strict=False))


def _documents(lines: list[str], path: Path, opts: ConllOptions) -> Iterator[_Document]:
    """Group lines into documents of sentences (a file without separators is one document)."""
    count = 0

    def new_doc(line: int, rest: str) -> _Document:
        nonlocal count
        count += 1
        given = rest.split()[0] if opts.doc_id_from_separator and rest.strip() else ""
        return _Document(given or f"{path.stem}-d{count}", line)

    doc = _Document(path.stem, 1)  # lines before any separator
    sent: _Sentence | None = None
    for lineno, line in enumerate(lines, start=1):
        if opts.doc_separator and line.startswith(opts.doc_separator):
            if sent is not None:
                doc.sentences.append(sent)
                sent = None
            if doc.sentences:
                yield doc
            doc = new_doc(lineno, line[len(opts.doc_separator) :])
            continue
        if not line.strip():
            if sent is not None:
                doc.sentences.append(sent)
                sent = None
            continue
        if sent is None:
            sent = _Sentence(line=lineno)
        if bad := undecodable(line):
            why = f"byte {bad} is not valid {opts.encoding} (reader option 'encoding' if all the file is)"
            sent.error = sent.error or f"line {lineno}: {why}"
            continue
        cols = line.split(opts.delimiter) if opts.delimiter else line.split()
        token_i, tag_i = (c if c >= 0 else len(cols) + c for c in (opts.token_column, opts.tag_column))
        if not (0 <= token_i < len(cols) and 0 <= tag_i < len(cols)) or token_i == tag_i:
            sent.error = sent.error or (
                f"line {lineno}: {len(cols)} columns, distinct token column {opts.token_column} and tag "
                f"column {opts.tag_column} needed"
            )
            continue
        token, tag = cols[token_i], cols[tag_i]
        if not token:
            sent.error = sent.error or f"line {lineno}: empty token"
        sent.tokens.append(token)
        sent.tags.append(tag.strip())
        sent.lines.append(lineno)
    if sent is not None:
        doc.sentences.append(sent)
    if doc.sentences:
        yield doc


def _split_tag(tag: str, scheme: str, default_type: str | None, where: str) -> tuple[str, str]:
    """(prefix, type); the type of "O" is ""."""
    if tag == "O":
        return "O", ""
    prefix, dash, etype = tag.partition("-")
    if not dash:
        if default_type is None:
            raise SkipRecord(f"{where}: bare tag {tag!r} without a type (set 'default_type')")
        etype = default_type
    if len(prefix) != 1 or prefix not in _PREFIXES[scheme] or not etype:
        raise SkipRecord(f"{where}: tag {tag!r} is not O or {'/'.join(_PREFIXES[scheme])}-TYPE ({scheme})")
    return prefix, etype


def iob_chunks(
    tags: list[str],
    *,
    scheme: str = "iob2",
    invalid: str = "quarantine",
    default_type: str | None = None,
    where: Callable[[int], str] = lambda i: f"tag {i}",
) -> list[tuple[str, int, int]]:
    """(type, first token, end token) of every entity in a tag sequence.

    Raises SkipRecord (naming ``where(i)``) for a tag or a sequence the scheme forbids, unless
    ``invalid == "begin"``, which reads it as conlleval does. Shared with the CBLUE IMCS-V2 reader.
    """
    chunks: list[tuple[str, int, int]] = []
    cur: list | None = None  # [type, first token]

    def close(end: int) -> None:
        nonlocal cur
        if cur is not None:
            chunks.append((cur[0], cur[1], end))
            cur = None

    def bad(i: int, message: str) -> None:
        if invalid == "quarantine":
            raise SkipRecord(f"{where(i)}: invalid {scheme} sequence: {message}")

    for i, tag in enumerate(tags):
        prefix, etype = _split_tag(tag, scheme, default_type, where(i))
        continues = cur is not None and cur[0] == etype
        unclosed = (
            f"{cur[0]} entity opened at token {cur[1]} not closed with E- before {tag!r}" if cur else ""
        )
        if prefix == "O":
            if scheme == "bioes" and cur:
                bad(i, unclosed)
            close(i)
        elif prefix == "B":
            if scheme == "bioes" and cur:
                bad(i, unclosed)
            close(i)
            cur = [etype, i]
        elif prefix in "IE" and continues:
            if prefix == "E":
                close(i + 1)
        elif prefix in "IE":
            if scheme != "iob1":
                previous = tags[i - 1] if i else "sentence start"
                bad(i, f"{tag!r} after {previous!r} does not continue a {etype} entity")
            close(i)
            cur = [etype, i]
            if prefix == "E":
                close(i + 1)
        else:  # S
            if cur:
                bad(i, unclosed)
            close(i)
            chunks.append((etype, i, i + 1))
    if cur is not None and scheme == "bioes":
        bad(len(tags) - 1, f"{cur[0]} entity opened at token {cur[1]} not closed at sentence end")
    close(len(tags))
    return chunks


def _entities(sent: _Sentence, opts: ConllOptions, sid: str, offset: int) -> list[Entity]:
    if sent.error:
        raise SkipRecord(sent.error)
    starts = []
    pos = offset
    for tok in sent.tokens:
        starts.append(pos)
        pos += len(tok) + 1
    text = " ".join(sent.tokens)
    entities = []
    chunks = iob_chunks(
        sent.tags,
        scheme=opts.scheme,
        invalid=opts.invalid,
        default_type=opts.default_type,
        where=lambda i: f"line {sent.lines[i]}",
    )
    for n, (etype, first, end) in enumerate(chunks, start=1):
        etype = check_label(opts.type_map.get(etype, etype), opts.label_set, "entity type")
        start, stop = starts[first], starts[end - 1] + len(sent.tokens[end - 1])
        entities.append(
            Entity(
                id=f"{sid}.T{n}",
                type=etype,
                text=text[start - offset : stop - offset],
                spans=[(start, stop)],
            )
        )
    return entities
