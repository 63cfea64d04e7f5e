"""BioCreative TSV releases: CHEMDNER (BioCreative IV) and ChemProt (BioCreative VI), as released.

Both ship ``*abstracts*`` (``PMID<TAB>title<TAB>abstract``, one line per document) beside annotation
files; a split's files are told apart by name:
- CHEMDNER ``*annotations*``: ``PMID  T|A  start  end  text  class``; offsets are relative to the
  **title (T) or the abstract (A)**, end exclusive; 8 classes (SYSTEMATIC, TRIVIAL, FORMULA, FAMILY,
  ABBREVIATION, IDENTIFIER, MULTIPLE, NO CLASS) kept as the entity type (all mean "chemical": map
  them in the eval set);
- ChemProt ``*entities*``: ``PMID  T#  CHEMICAL|GENE-Y|GENE-N  start  end  text``, offsets into title +
  one character + abstract; ``*relations*``: ``PMID  CPR:n  Y|N  label  Arg1:T#  Arg2:T#`` (the flag,
  written ``Y `` with a space, says whether the group is evaluated: only those are kept unless
  ``evaluated_only: false``) or ``*gold_standard*``: ``PMID  CPR:n  Arg1:T#  Arg2:T#``. Relations are
  mention-level (entity ids ``T#``, as in the release).

``KBRecord.text`` = title + ``separator`` + abstract. A bad line quarantines its document (file and
line named); annotation lines for a PMID without text are quarantined as orphans, never dropped; a
document without annotations is a record with none. CHEMDNER's evaluation abstracts include 17,000
unannotated background documents: with ``chemdner_abs_test_pmid_label.txt`` (``PMID<TAB>Y|N``) among the
split's files only the 3,000 labelled ``Y`` become records. A stray undecodable byte
(``STRAY_BYTES_MAX``) in an abstracts or annotation line quarantines its document; more, and the file is
quarantined whole (option ``encoding``); so is the selection file (a lost line there would drop its
document silently).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderError,
    ReaderOptions,
    SkipRecord,
    make_entity,
    split_lines,
    undecodable,
)
from taiyi_core.schema import KBRecord, Passage, Relation


class BiocreativeTsvOptions(ReaderOptions):
    layout: Literal["chemdner", "chemprot"]
    encoding: str = "utf-8-sig"
    separator: str = "\n"  # between title and abstract (ChemProt's offsets assume exactly one character)
    evaluated_only: bool = True  # ChemProt relations.tsv: keep the evaluated groups (flag Y) only


@dataclass
class _Doc:
    file: Path
    line: int
    title: str
    abstract: str
    bad_byte: str | None = None  # why the document quarantines: a stray byte on its abstracts line
    mentions: list[tuple[Path, int, list[str]]] = field(default_factory=list)
    relations: list[tuple[Path, int, list[str]]] = field(default_factory=list)


def _kind(path: Path) -> str:
    name = path.name.lower()
    for kind, words in (
        ("selection", ("pmid_label",)),
        ("texts", ("abstracts",)),
        ("mentions", ("annotations", "entities")),
        ("relations", ("relations", "gold_standard")),
    ):
        if any(w in name for w in words):
            return kind
    raise ReaderError(
        f"cannot tell what {path.name} holds: expected 'abstracts', 'annotations'/'entities' or "
        "'relations'/'gold_standard' in the file name"
    )


class BiocreativeTsvReader(Reader):
    name = "biocreative_tsv"
    Options = BiocreativeTsvOptions

    def _read(self, paths: list[Path], opts: BiocreativeTsvOptions, ctx: Ctx) -> Iterator:
        if opts.layout == "chemprot" and len(opts.separator) != 1:
            raise ReaderError("ChemProt offsets assume one separator character", dataset=ctx.dataset)
        by_kind: dict[str, list[Path]] = defaultdict(list)
        for path in paths:
            by_kind[_kind(path)].append(path)
        if not by_kind["texts"]:
            raise ReaderError("no *abstracts* file among the split's files", dataset=ctx.dataset)
        docs: dict[str, _Doc] = {}
        for path in by_kind["texts"]:
            yield from self._texts(path, opts, ctx, docs)
        orphans: dict[str, list[tuple[Path, int]]] = defaultdict(list)
        for kind in ("mentions", "relations"):
            for path in by_kind[kind]:
                text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
                for n, line in enumerate(split_lines(text or ""), start=1):
                    if not line.strip():
                        continue
                    cells = line.split("\t")
                    doc = docs.get(cells[0])
                    if doc is None:
                        orphans[cells[0]].append((path, n))
                    else:
                        getattr(doc, kind).append((path, n, cells))
        for pmid, where in orphans.items():
            path, n = where[0]
            yield ctx.quarantine(
                path,
                f"{len(where)} annotation line(s) for PMID {pmid}, which has no text in the abstracts file",
                line=n,
                record_id=pmid,
            )
        annotated = yield from self._selection(by_kind["selection"], opts, ctx)
        for pmid, doc in docs.items():
            if annotated is not None and pmid not in annotated:
                continue  # a background abstract of the evaluation set: not annotated, not a record
            try:
                yield self._document(pmid, doc, opts, ctx)
            except SkipRecord as exc:
                yield ctx.quarantine(doc.file, str(exc), line=doc.line, record_id=pmid)

    @staticmethod
    def _selection(paths: list[Path], opts: BiocreativeTsvOptions, ctx: Ctx):
        """PMIDs labelled ``Y`` in CHEMDNER's ``chemdner_abs_test_pmid_label.txt`` (None: no such file)."""
        if not paths:
            return None
        keep: set[str] = set()
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding)
            for n, line in enumerate(split_lines(text or ""), start=1):
                cells = line.split("\t")
                if not line.strip():
                    continue
                if len(cells) != 2 or cells[1].strip() not in ("Y", "N"):
                    yield ctx.quarantine(path, f"line {n}: expected PMID<TAB>Y|N", line=n, raw=line)
                elif cells[1].strip() == "Y":
                    keep.add(cells[0].strip())
        return keep

    def _texts(self, path: Path, opts: BiocreativeTsvOptions, ctx: Ctx, docs: dict[str, _Doc]) -> Iterator:
        text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
        for n, line in enumerate(split_lines(text or ""), start=1):
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != 3 or not cells[0].strip():
                yield ctx.quarantine(
                    path,
                    f"line {n}: expected PMID<TAB>title<TAB>abstract, got {len(cells)} column(s)",
                    line=n,
                    record_id=cells[0] or None,
                    raw=line,
                )
                continue
            if cells[0] in docs:
                yield ctx.quarantine(
                    path,
                    f"line {n}: PMID {cells[0]} repeated (first on line {docs[cells[0]].line})",
                    line=n,
                    record_id=cells[0],
                    raw=line,
                )
                continue
            bad = undecodable(line)
            why = f"line {n}: byte {bad} is not valid {opts.encoding} (option 'encoding')" if bad else None
            docs[cells[0]] = _Doc(path, n, cells[1], cells[2], bad_byte=why)

    def _document(self, pmid: str, doc: _Doc, opts: BiocreativeTsvOptions, ctx: Ctx) -> KBRecord:
        ctx.claim_id(pmid)
        if doc.bad_byte:
            raise SkipRecord(doc.bad_byte)
        for path, lineno, cells in doc.mentions + doc.relations:
            if bad := undecodable("\t".join(cells)):
                raise SkipRecord(f"{path.name} line {lineno}: byte {bad} is not valid {opts.encoding}")
        abstract_at = len(doc.title) + len(opts.separator)
        text = doc.title + opts.separator + doc.abstract
        entities = []
        for n, (path, lineno, cells) in enumerate(doc.mentions, start=1):
            try:
                if opts.layout == "chemdner":
                    if len(cells) != 6 or cells[1] not in ("T", "A"):
                        raise SkipRecord("expected PMID, T|A, start, end, text, class")
                    shift = 0 if cells[1] == "T" else abstract_at
                    eid, etype, start, end, surface = f"{pmid}.T{n}", cells[5], cells[2], cells[3], cells[4]
                else:
                    if len(cells) != 6:
                        raise SkipRecord("expected PMID, T#, type, start, end, text")
                    shift, (eid, etype, start, end, surface) = 0, cells[1:6]
                span = (int(start) + shift, int(end) + shift)
                entities.append(make_entity(text, eid, etype, [span], surface))
            except (SkipRecord, ValueError) as exc:
                raise SkipRecord(f"{path.name} line {lineno}: {exc}") from None
        ids = {e.id for e in entities}
        relations: list[Relation] = []
        for path, lineno, cells in doc.relations:
            relation = self._relation(cells, ids, opts, f"{pmid}.R{len(relations) + 1}")
            if isinstance(relation, str):
                raise SkipRecord(f"{path.name} line {lineno}: {relation}")
            if relation is not None:
                relations.append(relation)
        passages = [
            Passage(type="title", text=doc.title, offset=0),
            Passage(type="abstract", text=doc.abstract, offset=abstract_at),
        ]
        return KBRecord(
            **ctx.common(doc.file, doc.line, pmid),
            document_id=pmid,
            text=text,
            passages=passages,
            entities=entities,
            relations=relations,
        )

    @staticmethod
    def _relation(
        cells: list[str], ids: set[str], opts: BiocreativeTsvOptions, rid: str
    ) -> Relation | str | None:
        """A relation, None when it is not kept (not evaluated), or the problem as a string."""
        if len(cells) == 6:  # relations.tsv: PMID CPR flag label Arg1 Arg2
            _, group, flag, label, arg1, arg2 = cells
            flag = flag.strip()
            if flag not in ("Y", "N"):
                return f"evaluation flag {cells[2]!r}, expected Y or N"
            if flag == "N" and opts.evaluated_only:
                return None
            attributes = {"label": label, "evaluated": flag}
        elif len(cells) == 4:  # gold_standard.tsv: PMID CPR Arg1 Arg2
            _, group, arg1, arg2 = cells
            attributes = {}
        else:
            return f"expected 4 (gold standard) or 6 (relations) columns, got {len(cells)}"
        if not (arg1.startswith("Arg1:") and arg2.startswith("Arg2:")):
            return f"arguments {arg1!r} {arg2!r}, expected Arg1:T# Arg2:T#"
        head, tail = arg1[5:], arg2[5:]
        if head not in ids or tail not in ids:
            return f"relation argument {head if head not in ids else tail!r} is not an entity of the document"
        return Relation(id=rid, type=group, head=head, tail=tail, attributes=attributes)
