"""PubTator reader: BC5CDR/CDR, NCBI-disease, BioRED, tmVar, GNormPlus (PubTator exports).

One document = ``PMID|t|title``, ``PMID|a|abstract``, then tab-separated annotation lines
``PMID start end mention type ids [mentions]`` and relation lines ``PMID type id1 id2 [novel]``;
documents are separated by blank lines. ``KBRecord.text`` = title + ``separator`` + abstract (the
format's offsets assume exactly one separator character; the abstract starts at ``len(title)+1``).

Traps (why this is not ``bioc.pubtator``): lines are not stripped (a trailing tab is an empty
column; ``bioc`` strips and then mistakes an annotation with an empty id for a relation and drops the
7th column of composite mentions); a title may contain ``|`` (split on the first ``|t|``/``|a|``);
composite mentions carry ``ID1|ID2`` plus individual mentions ``m1|m2`` in a 7th column; unlinked
ids are ``-``, ``-1`` or empty; NCBI train repeats a PMID (the second copy is quarantined as a
duplicate). CID relations are concept-level. Ids are parsed by ``identifiers.py`` (tmVar variants
``p|SUB|V|1763|M`` are one id, never split; ``rs…`` is dbSNP): ``id_separators`` joins a list (BC5CDR
``|``, NCBI ``+``, BioRED ``,``), ``type_db`` names the database an unprefixed id of a type belongs
to (BioRED genes NCBIGene, species NCBITaxon), ``db`` the rest. Relation arguments are parsed by the
same rules; ``head``/``tail`` hold the id (as in ``Normalization.id``) and the attributes
``head_db``/``tail_db`` its database, taken from the mention that carries the id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderError,
    ReaderOptions,
    SkipRecord,
    check_label,
    make_entity,
    read_text_keeping_bad_bytes,
    split_lines,
    undecodable,
)
from taiyi_core.formats.identifiers import parse_ids, resolve_ref
from taiyi_core.schema import KBRecord, Passage, Relation

_TEXT_LINE = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")


class PubTatorOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    separator: str = " "  # between title and abstract; must be one character (offsets assume it)
    db: str = "MESH"  # database of ids without an explicit ``DB:`` prefix (and of types not in type_db)
    type_db: dict[str, str] = {}  # entity type -> database of its unprefixed ids (BioRED genes: NCBIGene)
    id_separators: str = "|+"  # characters joining a list of ids (BioRED: ","); tmVar variants never split
    split_ids: bool = True  # false: an id column is always one id
    type_map: dict[str, str] = {}  # e.g. NCBI SpecificDisease/DiseaseClass/... -> Disease
    label_set: list[str] | None = None  # entity types (after type_map) allowed; others quarantine


class PubTatorReader(Reader):
    name = "pubtator"
    Options = PubTatorOptions
    raw_kind = "pubtator"

    def _read(self, paths: list[Path], opts: PubTatorOptions, ctx: Ctx) -> Iterator:
        if len(opts.separator) != 1:
            raise ReaderError(
                "pubtator option 'separator' must be exactly one character", dataset=ctx.dataset
            )
        for path in paths:
            # a bad byte quarantines its document only, not the whole multi-document file
            text = read_text_keeping_bad_bytes(path, opts.encoding)
            for start_line, block in _blocks(split_lines(text)):
                doc_id = _block_id(block)
                bad = next(((n, b) for n, ln in enumerate(block) if (b := undecodable(ln))), None)
                if bad:
                    yield ctx.quarantine(
                        path,
                        f"not valid {opts.encoding}: byte {bad[1]} on line {start_line + bad[0]} of this "
                        "document (set the reader option 'encoding' if the whole file is another one)",
                        line=start_line + bad[0],
                        record_id=doc_id,
                        raw="\n".join(block),
                    )
                    continue
                try:
                    yield self._document(path, start_line, block, opts, ctx)
                except SkipRecord as exc:
                    yield ctx.quarantine(
                        path, str(exc), line=start_line, record_id=doc_id, raw="\n".join(block)
                    )

    def _document(
        self, path: Path, start_line: int, block: list[str], opts: PubTatorOptions, ctx: Ctx
    ) -> KBRecord:
        pmid: str | None = None
        title: str | None = None
        abstract = ""
        ann_lines: list[tuple[int, list[str]]] = []
        rel_lines: list[tuple[int, list[str]]] = []
        for offset, line in enumerate(block):
            lineno = start_line + offset
            match = _TEXT_LINE.match(line)
            if match:
                if ann_lines or rel_lines:
                    raise SkipRecord(f"line {lineno}: title/abstract line after annotation lines")
                doc, kind, body = match.groups()
                if pmid is not None and doc != pmid:
                    raise SkipRecord(f"line {lineno}: PMID {doc} inside document {pmid}")
                pmid = doc
                if kind == "t":
                    if title is not None:
                        raise SkipRecord(f"line {lineno}: second title line")
                    title = body
                else:
                    abstract = body
                continue
            fields = line.split("\t")
            if len(fields) >= 5 and fields[1].isdigit() and fields[2].isdigit():
                ann_lines.append((lineno, fields))
            elif len(fields) in (4, 5) and not fields[1].isdigit():
                rel_lines.append((lineno, fields))
            else:
                raise SkipRecord(
                    f"line {lineno}: not a title, abstract, annotation or relation line "
                    f"({len(fields)} tab-separated columns)"
                )
        if pmid is None or title is None:
            raise SkipRecord(f"line {start_line}: document has no 'PMID|t|' title line (truncated file?)")
        ctx.claim_id(pmid)
        doc_text = title + opts.separator + abstract if abstract else title
        passages = [Passage(type="title", text=title, offset=0)]
        if abstract:
            passages.append(Passage(type="abstract", text=abstract, offset=len(title) + 1))
        entities = []
        separators = opts.id_separators if opts.split_ids else ""
        for n, (lineno, fields) in enumerate(ann_lines, start=1):
            if fields[0] != pmid:
                raise SkipRecord(f"line {lineno}: annotation for PMID {fields[0]} inside document {pmid}")
            extra = [f for f in fields[7:] if f != ""]
            if extra:
                raise SkipRecord(f"line {lineno}: unexpected columns after the 7th: {extra}")
            start, end, mention, etype = int(fields[1]), int(fields[2]), fields[3], fields[4]
            ids = fields[5] if len(fields) > 5 else ""
            etype = opts.type_map.get(etype, etype)
            check_label(etype, opts.label_set, what=f"entity type (line {lineno})")
            attributes = {}
            if len(fields) > 6 and fields[6]:
                attributes["mentions"] = fields[6]  # individual mentions of a composite mention
            try:
                entities.append(
                    make_entity(
                        doc_text,
                        f"{pmid}.T{n}",
                        etype,
                        [(start, end)],
                        mention,
                        parse_ids(ids, opts.type_db.get(etype, opts.db), separators),
                        attributes,
                    )
                )
            except SkipRecord as exc:
                raise SkipRecord(f"line {lineno}: {exc}") from None
        relations = []
        known = [norm for ent in entities for norm in ent.normalized]
        for n, (lineno, fields) in enumerate(rel_lines, start=1):
            if fields[0] != pmid:
                raise SkipRecord(f"line {lineno}: relation for PMID {fields[0]} inside document {pmid}")
            if any(f == "" for f in fields[1:4]):
                raise SkipRecord(f"line {lineno}: relation line with an empty type or id: {fields}")
            attributes = {"novel": fields[4]} if len(fields) == 5 and fields[4] else {}
            head, tail = (resolve_ref(f, known, opts.db) for f in fields[2:4])
            if head is None or tail is None:
                raise SkipRecord(f"line {lineno}: relation argument is an unlinked id: {fields[2:4]}")
            attributes.update(head_db=head.db, tail_db=tail.db)
            relations.append(
                Relation(
                    id=f"{pmid}.R{n}",
                    type=fields[1],
                    head=head.id,
                    tail=tail.id,
                    level="concept",
                    attributes=attributes,
                )
            )
        return KBRecord(
            **ctx.common(path, start_line, pmid),
            document_id=pmid,
            text=doc_text,
            passages=passages,
            entities=entities,
            relations=relations,
        )


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Blank-line separated blocks with their 1-based first line number."""
    block: list[str] = []
    start = 0
    for lineno, line in enumerate(lines, start=1):
        if line.strip() == "":
            if block:
                yield start, block
                block = []
            continue
        if not block:
            start = lineno
        block.append(line)
    if block:
        yield start, block


def _block_id(block: list[str]) -> str | None:
    head = block[0]
    match = _TEXT_LINE.match(head)
    return match.group(1) if match else head.split("\t", 1)[0].split("|", 1)[0] or None
