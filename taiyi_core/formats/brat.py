"""BRAT / BioNLP-ST standoff reader: DDI-BRAT, BioNLP-ST 2009/2011/2013 (GE, CG, PC, ...), MLEE,
AnEM, CHIA, PDR, BioRelEx, TCM-NER.

A document is ``name.txt`` plus ``name.ann`` (BRAT) or ``name.a1`` + ``name.a2`` (BioNLP-ST; the
option ``suffixes`` lists the annotation files read). Paths are ``.txt`` files or folders of them.
Lines: ``T`` text-bound (``Type s e[;s e]*<TAB>text``), ``R`` relation (``Arg1:T1 Arg2:T2``),
``E`` event (``Type:T3 Theme:T1 Cause:E2``, roles may repeat or be numbered), ``A``/``M``
attributes (``Negation E1 [value]``), ``N`` normalisation (``Reference T1 DB:ID<TAB>name``), ``*``
equivalence (``Equiv T1 T2 ...``), ``#`` notes.

Traps: offsets count characters of the raw ``.txt`` with ``\\r\\n`` kept (never universal-newline
reading); discontinuous text joins fragments with a space; ``bioc.brat`` ignores ``N`` lines and keys
event arguments by role (a repeated role overwrites) - here arguments are a list; text-bound
annotations used as event triggers become ``Event.trigger`` (not entities). A bad line (surface
mismatch, unknown id, offsets outside the text) quarantines the document; an annotation file without
its ``.txt`` is quarantined as an orphan (named), never skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from taiyi_core.formats.base import (
    Ctx,
    DecodeFailure,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    make_entity,
    read_text,
    split_lines,
)
from taiyi_core.schema import Entity, Event, EventArgument, KBRecord, Normalization, Relation

_SPANS = re.compile(r"^\d+ \d+(;\d+ \d+)*$")


class _LineError(SkipRecord):
    def __init__(self, message: str, file: Path, line: int) -> None:
        super().__init__(message)
        self.file, self.line = file, line


class BratOptions(ReaderOptions):
    suffixes: list[str] = [".ann"]  # BioNLP-ST: [".a1", ".a2"]
    encoding: str = "utf-8-sig"
    label_set: list[str] | None = None  # entity types allowed (trigger, relation, event types unchecked)
    # where the annotation files are, relative to each .txt's folder (SETH's copy of Verspoor 2013 keeps
    # corpus/*.txt and annotations/*.ann apart: "../annotations"); default: beside the .txt
    annotations_in: str = "."


class BratReader(Reader):
    name = "brat"
    Options = BratOptions
    raw_kind = "brat"
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: BratOptions, ctx: Ctx) -> Iterator:
        texts = ctx.files_in(paths, "*.txt")
        yield from self._orphans(texts, opts, ctx)
        for txt in texts:
            doc_id = txt.stem
            try:
                ctx.claim_id(doc_id)
                text = read_text(txt, opts.encoding)
                lines: list[tuple[Path, int, str]] = []
                for suffix in opts.suffixes:
                    ann = (txt.parent / opts.annotations_in / txt.name).with_suffix(suffix)
                    if not ann.is_file():
                        raise SkipRecord(f"annotation file {ann.name} is missing")
                    lines += [
                        (ann, n, ln) for n, ln in enumerate(split_lines(read_text(ann, opts.encoding)), 1)
                    ]
                yield self._document(txt, doc_id, text, lines, opts, ctx)
            except DecodeFailure as exc:
                yield ctx.quarantine(txt, str(exc), line=exc.line, record_id=doc_id)
            except _LineError as exc:
                yield ctx.quarantine(exc.file, str(exc), line=exc.line, record_id=doc_id)
            except SkipRecord as exc:
                yield ctx.quarantine(txt, str(exc), record_id=doc_id)

    @staticmethod
    def _orphans(texts: list[Path], opts: BratOptions, ctx: Ctx) -> Iterator:
        """Annotation files whose text file is not among the documents read: reported, never skipped."""
        stems: dict[Path, set[str]] = {}
        for txt in texts:
            stems.setdefault((txt.parent / opts.annotations_in).resolve(), set()).add(txt.stem)
        for folder, known in stems.items():
            for suffix in opts.suffixes:
                for ann in sorted(a for a in folder.glob(f"*{suffix}") if ctx.allowed(a)):
                    if ann.stem not in known:
                        yield ctx.quarantine(
                            ann,
                            f"annotation file {ann.name} has no text file {ann.stem}.txt "
                            "among the documents read",
                            record_id=ann.stem,
                        )

    def _document(
        self, txt: Path, doc_id: str, text: str, lines: list, opts: BratOptions, ctx: Ctx
    ) -> KBRecord:
        textbound: dict[str, Entity] = {}
        relations: list[Relation] = []
        events: dict[str, tuple[str, str, list[EventArgument]]] = {}
        attributes: list[tuple[str, str, str]] = []
        norms: list[tuple[str, Normalization]] = []
        for ann, lineno, line in lines:
            if not line.strip():
                continue
            try:
                self._line(line, text, textbound, relations, events, attributes, norms)
            except SkipRecord as exc:
                raise _LineError(f"{ann.name} line {lineno}: {exc}", ann, lineno) from None
            except (ValueError, IndexError):
                raise _LineError(
                    f"{ann.name} line {lineno}: malformed annotation line {line[:80]!r}", ann, lineno
                ) from None
        known = set(textbound) | set(events) | {r.id for r in relations}
        triggers = {trig for _t, trig, _a in events.values()}
        event_list = []
        for eid, (etype, trig, args) in events.items():
            if trig not in textbound:
                raise SkipRecord(f"event {eid}: trigger {trig} is not a text-bound annotation")
            for arg in args:
                if arg.ref not in known:
                    raise SkipRecord(f"event {eid}: argument {arg.role}:{arg.ref} refers to an unknown id")
            event_list.append(Event(id=eid, type=etype, trigger=textbound[trig], arguments=args))
        for rel in relations:
            if rel.head not in known or rel.tail not in known:
                raise SkipRecord(f"relation {rel.id} refers to an unknown id ({rel.head}, {rel.tail})")
        by_id: dict[str, Entity | Event] = {**textbound, **{e.id: e for e in event_list}}
        for target, key, value in attributes:
            if target not in by_id:
                raise SkipRecord(f"attribute {key} refers to an unknown id {target}")
            by_id[target].attributes[key] = value
        for target, norm in norms:
            if target not in textbound:
                raise SkipRecord(f"normalisation refers to an unknown id {target}")
            textbound[target].normalized.append(norm)
        entities = [e for tid, e in textbound.items() if tid not in triggers]
        for ent in entities:
            check_label(ent.type, opts.label_set, f"entity type of {ent.id}")
        return KBRecord(
            **ctx.common(txt, None, doc_id),
            document_id=doc_id,
            text=text,
            entities=entities,
            relations=relations,
            events=event_list,
        )

    def _line(
        self,
        line: str,
        text: str,
        textbound: dict,
        relations: list,
        events: dict,
        attributes: list,
        norms: list,
    ) -> None:
        fields = line.split("\t")
        aid, kind = fields[0], fields[0][:1]
        if kind == "T":
            etype, _, spans = fields[1].partition(" ")
            if not _SPANS.match(spans) or len(fields) < 3:
                raise SkipRecord(f"bad text-bound annotation {line[:80]!r}")
            pairs = [(int(a), int(b)) for a, b in (frag.split(" ") for frag in spans.split(";"))]
            textbound[aid] = make_entity(text, aid, etype, pairs, fields[2])
        elif kind == "R":
            rtype, arg1, arg2 = fields[1].split()
            relations.append(
                Relation(id=aid, type=rtype, head=arg1.split(":", 1)[1], tail=arg2.split(":", 1)[1])
            )
        elif kind == "E":
            head, *args = fields[1].split()
            etype, trigger = head.split(":", 1)
            events[aid] = (
                etype,
                trigger,
                [EventArgument(role=a.split(":", 1)[0], ref=a.split(":", 1)[1]) for a in args],
            )
        elif kind in ("A", "M"):
            parts = fields[1].split()
            attributes.append((parts[1], parts[0], parts[2] if len(parts) > 2 else "true"))
        elif kind == "N":
            _ref, target, dbid = fields[1].split()
            db, _, nid = dbid.partition(":")
            norms.append((target, Normalization(db=db, id=nid)))
        elif kind == "*":
            rtype, *members = fields[1].split()
            for n, other in enumerate(members[1:], start=1):
                relations.append(
                    Relation(id=f"*{len(relations)}.{n}", type=rtype, head=members[0], tail=other)
                )
        elif kind == "#":
            parts = fields[1].split()
            attributes.append((parts[1], "note", fields[2] if len(fields) > 2 else ""))
        else:
            raise SkipRecord(f"unknown annotation kind {aid!r}")
