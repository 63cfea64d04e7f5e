"""BioCreative II gene mention (BC2GM) as released: ``train.in``/``test.in``, ``GENE.eval``, ``ALTGENE.eval``.

``*.in``: ``<sentence id> <sentence>`` (first space separates them). ``GENE.eval`` and ``ALTGENE.eval``:
``<sentence id>|<start> <end>|<mention>`` where the offsets **count non-whitespace characters only**
and the end is **inclusive** (``P00001606T0076|14 33|alkaline phosphatases``). Offsets are converted to
character offsets and re-sliced (a mismatch quarantines the sentence, naming file and line).

ALTGENE lists the alternative boundaries the official scorer also accepts for a gold mention: each
one is kept on the GENE mention it overlaps, in the entity attribute ``alternatives`` (JSON list of
``[start, end]`` character offsets, end exclusive); one that overlaps no GENE mention is kept in the
record's ``meta["unattached_alternatives"]`` (never dropped). Eval lines naming an unknown sentence
are quarantined as orphans. A stray undecodable byte (``STRAY_BYTES_MAX``) quarantines the sentence
whose ``.in`` or ``.eval`` line holds it; more, and the file is quarantined whole (option ``encoding``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

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
from taiyi_core.schema import Entity, KBRecord

Span = tuple[int, int]


class Bc2gmOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    entity_type: str = "GENE"


def char_span(text: str, start: int, end: int) -> Span:
    """Character span (end exclusive) of non-whitespace offsets ``start``..``end`` (end inclusive)."""
    positions = [i for i, ch in enumerate(text) if not ch.isspace()]
    if not (0 <= start <= end < len(positions)):
        raise SkipRecord(
            f"offsets {start} {end} outside the sentence ({len(positions)} non-space characters)"
        )
    return positions[start], positions[end] + 1


class Bc2gmReader(Reader):
    name = "bc2gm"
    Options = Bc2gmOptions

    def _read(self, paths: list[Path], opts: Bc2gmOptions, ctx: Ctx) -> Iterator:
        sentences: dict[str, tuple[Path, int, str]] = {}
        broken: dict[str, str] = {}  # sentence id -> why (the first stray byte on one of its lines)
        evals: dict[str, dict[str, list[tuple[Path, int, str]]]] = {
            "GENE": defaultdict(list),
            "ALTGENE": defaultdict(list),
        }
        for path in paths:
            kind = (
                "ALTGENE"
                if path.name.upper().startswith("ALTGENE")
                else "GENE"
                if path.suffix == ".eval"
                else "in"
            )
            if kind == "in" and path.suffix != ".in":
                raise ReaderError(
                    f"{path.name}: expected a *.in sentence file or GENE.eval / ALTGENE.eval",
                    dataset=ctx.dataset,
                )
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            for n, line in enumerate(split_lines(text or ""), start=1):
                if not line.strip():
                    continue
                if bad := undecodable(line):
                    why = f"{path.name} line {n}: byte {bad} is not valid {opts.encoding} (option 'encoding')"
                    broken.setdefault(line.split(" " if kind == "in" else "|", 1)[0], why)
                if kind == "in":
                    sid, _, sentence = line.partition(" ")
                    if sid in sentences:
                        yield ctx.quarantine(
                            path, f"sentence id {sid} repeated", line=n, record_id=sid, raw=line
                        )
                    else:
                        sentences[sid] = (path, n, sentence)
                else:
                    evals[kind][line.split("|", 1)[0]].append((path, n, line))
        for kind, by_id in evals.items():
            for sid, lines in by_id.items():
                if sid not in sentences:
                    path, n, line = lines[0]
                    yield ctx.quarantine(
                        path,
                        f"{len(lines)} {kind} line(s) for unknown sentence {sid}",
                        line=n,
                        record_id=sid,
                        raw=line,
                    )
        for sid, (path, n, sentence) in sentences.items():
            try:
                ctx.claim_id(sid)
                if sid in broken:
                    raise SkipRecord(broken[sid])
                yield self._sentence(
                    sid,
                    path,
                    n,
                    sentence,
                    evals["GENE"].get(sid, []),
                    evals["ALTGENE"].get(sid, []),
                    opts,
                    ctx,
                )
            except SkipRecord as exc:
                yield ctx.quarantine(path, str(exc), line=n, record_id=sid, raw=sentence)

    def _sentence(
        self, sid: str, path: Path, n: int, text: str, genes: list, alts: list, opts: Bc2gmOptions, ctx: Ctx
    ) -> KBRecord:
        entities: list[Entity] = []
        for i, (epath, lineno, line) in enumerate(genes, start=1):
            span, mention = _mention(text, epath, lineno, line)
            try:
                entities.append(make_entity(text, f"{sid}.T{i}", opts.entity_type, [span], mention))
            except SkipRecord as exc:
                raise SkipRecord(f"{epath.name} line {lineno}: {exc}") from None
        attached: dict[str, list[Span]] = defaultdict(list)
        unattached: list[Span] = []
        for epath, lineno, line in alts:
            span, mention = _mention(text, epath, lineno, line)
            if text[span[0] : span[1]] != mention:
                raise SkipRecord(
                    f"{epath.name} line {lineno}: text has {text[span[0] : span[1]]!r}, "
                    f"annotation says {mention!r}"
                )
            owners = [e for e in entities if e.spans[0][0] < span[1] and span[0] < e.spans[0][1]]
            for e in owners:
                attached[e.id].append(span)
            if not owners:
                unattached.append(span)
        for e in entities:
            if attached[e.id]:
                e.attributes["alternatives"] = json.dumps([list(s) for s in attached[e.id]])
        record = KBRecord(**ctx.common(path, n, sid), document_id=sid, text=text, entities=entities)
        if unattached:
            record.meta["unattached_alternatives"] = json.dumps([list(s) for s in unattached])
        return record


def _mention(text: str, path: Path, lineno: int, line: str) -> tuple[Span, str]:
    parts = line.split("|", 2)
    try:
        start, end = (int(x) for x in parts[1].split())
        return char_span(text, start, end), parts[2]
    except (IndexError, ValueError):
        raise SkipRecord(
            f"{path.name} line {lineno}: expected 'id|start end|mention', got {line[:80]!r}"
        ) from None
    except SkipRecord as exc:
        raise SkipRecord(f"{path.name} line {lineno}: {exc}") from None
