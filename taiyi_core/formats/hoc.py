"""Hallmarks of Cancer reader (sb895/Hallmarks-of-Cancer): ``text/<PMID>.txt`` (one sentence per
line) + ``labels/<PMID>.txt`` (one line, each sentence's labels *introduced* by ``<``).

Paths are either the corpus root (holding ``text/`` and ``labels/``) or ``text/<PMID>.txt`` files
(e.g. a split's PMID list); labels are found beside them in ``../labels/``.

Traps: the labels line starts with ``<``, so splitting on ``<`` gives one empty piece first and then
one piece per sentence (the count is checked against the sentence lines; a mismatch quarantines the
abstract); several labels are joined with ``AND`` *without* a space (``...ReceptorsANDSustaining...``
reads ``Receptors AND Sustaining``: split on the bare token ``AND``, which never occurs inside a
label); hierarchy levels are joined by ``--`` and may end with a dangling ``--``; blank/``NULL`` = no
label. ``level: hallmark`` keeps the top level (the 10 hallmarks scored in BLURB/Taiyi).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import (
    Ctx,
    DecodeFailure,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    read_text,
    split_lines,
)
from taiyi_core.schema import TextRecord


class HocOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    unit: Literal["document", "sentence"] = "document"
    level: Literal["hallmark", "full"] = "hallmark"
    label_set: list[str] | None = None


class HocReader(Reader):
    name = "hoc"
    Options = HocOptions
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: HocOptions, ctx: Ctx) -> Iterator:
        for text_path in _text_files(paths):
            pmid = text_path.stem
            label_path = text_path.parent.parent / "labels" / text_path.name
            if not (ctx.allowed(text_path) and ctx.allowed(label_path)):
                continue  # a refused symlink, already quarantined by Reader.read
            try:
                if not label_path.is_file():
                    raise SkipRecord(f"labels file {label_path} is missing")
                sentences = split_lines(read_text(text_path, opts.encoding))
                pieces = read_text(label_path, opts.encoding).rstrip("\r\n").split("<")
                if pieces[0].strip():
                    raise SkipRecord(f"labels file does not start with '<': {pieces[0][:80]!r}")
                per_sentence = [self._labels(p, opts) for p in pieces[1:]]
                if len(per_sentence) != len(sentences):
                    raise SkipRecord(
                        f"{len(sentences)} sentences but {len(per_sentence)} label groups in "
                        f"{label_path.name}"
                    )
                yield from self._records(text_path, pmid, sentences, per_sentence, opts, ctx)
            except DecodeFailure as exc:
                yield ctx.quarantine(text_path, str(exc), line=exc.line, record_id=pmid)
            except SkipRecord as exc:
                yield ctx.quarantine(text_path, str(exc), record_id=pmid)

    def _records(
        self, path: Path, pmid: str, sentences: list[str], labels: list[list[str]], opts: HocOptions, ctx: Ctx
    ) -> Iterator[TextRecord]:
        label_set = opts.label_set or []
        if opts.unit == "document":
            ctx.claim_id(pmid)
            union = list(dict.fromkeys(label for group in labels for label in group))
            yield TextRecord(
                **ctx.common(path, 1, pmid),
                document_id=pmid,
                text=" ".join(sentences),
                labels=union,
                label_set=label_set,
            )
            return
        for n, (sentence, group) in enumerate(zip(sentences, labels, strict=True)):
            rid = f"{pmid}.s{n}"
            ctx.claim_id(rid)
            yield TextRecord(
                **ctx.common(path, n + 1, rid),
                document_id=pmid,
                text=sentence,
                labels=group,
                label_set=label_set,
            )

    def _labels(self, piece: str, opts: HocOptions) -> list[str]:
        out: list[str] = []
        for raw in piece.split("AND"):
            label = raw.strip()
            if not label or label == "NULL":
                continue
            label = label.split("--")[0].strip() if opts.level == "hallmark" else label.rstrip("-").strip()
            check_label(label, opts.label_set)
            if label not in out:
                out.append(label)
        return out


def _text_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            folder = path / "text" if (path / "text").is_dir() else path
            yield from sorted(p for p in folder.iterdir() if p.is_file())
        else:
            yield path
