"""Document-level layouts: one file holding many documents, documents to sort into split folders, split
lists in another shape than the catalog's one id per line."""

from __future__ import annotations

import re
from pathlib import Path

from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError


@conversion("split_line_documents")
def split_line_documents(folder: Path, source: str, out_dir: str, suffix: str = ".txt",
                         encoding: str = "utf-8") -> list[str]:
    """``ID<TAB>text`` lines (SETH's corpus.txt) -> ``out_dir/<ID><suffix>`` holding the text.

    The text is written byte for byte after the first TAB, without the line end, because the
    annotation offsets count from there (SETH: 3,219 of 3,219 offsets of the real sample check out).
    """
    matches = sorted(folder.glob(source))
    if len(matches) != 1:
        raise FetchError(f"{source!r} matches {len(matches)} files under {folder} (expected one)")
    out = folder / out_dir
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    seen: set[str] = set()
    with matches[0].open(encoding=encoding, newline="") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            doc_id, sep, text = line.partition("\t")
            if not sep or not doc_id.strip() or "/" in doc_id:
                raise FetchError(f"{matches[0].name}, line {lineno}: expected 'ID<TAB>text', "
                                 f"got {line[:40]!r}")
            if doc_id in seen:
                raise FetchError(f"{matches[0].name}, line {lineno}: document id {doc_id!r} appears twice")
            seen.add(doc_id)
            target = out / f"{doc_id.strip()}{suffix}"
            target.write_text(text, encoding=encoding, newline="")
            written.append(f"{out_dir}/{target.name}")
    if not written:
        raise FetchError(f"{matches[0].name} holds no document line")
    return written



@conversion("split_documents_by_id")
def split_documents_by_id(folder: Path, source: str, splits: dict[str, list[str]],
                          suffixes: tuple[str, ...] = (".txt", ".ann")) -> list[str]:
    """Move the documents of one release folder into one folder per split by document id (file stem).

    Every document of ``source`` must be listed in exactly one split and every listed id must exist,
    so a changed release fails loudly instead of losing documents.
    """
    return _move_documents(folder, source, splits, suffixes, require_all=True)


def _move_documents(folder: Path, source: str, splits: dict[str, list[str]], suffixes: tuple[str, ...],
                    require_all: bool) -> list[str]:
    src = folder / source
    stems = {p.stem for p in src.iterdir() if p.suffix in suffixes} if src.is_dir() else set()
    if not stems:
        raise FetchError(f"{source}: no {'/'.join(suffixes)} file under {folder}")
    listed = [str(i) for ids in splits.values() for i in ids]
    twice = sorted({i for i in listed if listed.count(i) > 1})
    missing = sorted(set(listed) - stems)
    unlisted = sorted(stems - set(listed)) if require_all else []
    if twice or missing or unlisted:
        raise FetchError(f"{source}: ids in two splits {twice}, listed but absent {missing}, "
                         f"present but in no split {unlisted}")
    written = []
    for out_dir, ids in splits.items():
        (folder / out_dir).mkdir(parents=True, exist_ok=True)
        for doc in map(str, ids):
            for suffix in suffixes:
                path = src / f"{doc}{suffix}"
                if path.is_file():
                    path.rename(folder / out_dir / path.name)
                    written.append(f"{out_dir}/{path.name}")
    return written


@conversion("id_list_lines")
def id_list_lines(folder: Path, lists: dict[str, str], strip_suffix: str = ".txt") -> list[str]:
    """Split lists published as comma- or whitespace-separated file names (BLURB's HoC
    ``indexing/HoC/<split>_pmid.tsv``: one line, ``<PMID>.txt,...``) -> one document id per line, the
    layout of the catalog's ``split_lists``. An id listed twice is refused."""
    written = []
    for out, pattern in lists.items():
        matches = sorted(folder.glob(pattern))
        if len(matches) != 1:
            raise FetchError(f"{pattern!r} matches {len(matches)} files under {folder} (expected one)")
        text = matches[0].read_text(encoding="utf-8-sig")
        items = [i.strip() for i in re.split(r"[,\s]+", text) if i.strip()]
        ids = [i[: -len(strip_suffix)] if strip_suffix and i.endswith(strip_suffix) else i for i in items]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice or not ids:
            why = f"ids listed twice: {twice[:5]}" if twice else "no id"
            raise FetchError(f"{matches[0].name}: {why}")
        target = folder / out
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
        written.append(out)
    return written


@conversion("split_documents_by_list")
def split_documents_by_list(folder: Path, source: str, lists: dict[str, str],
                            suffixes: tuple[str, ...] = (".txt", ".ann")) -> list[str]:
    """Like ``split_documents_by_id``, with the ids read from the release's own list files (one stem per
    line, e.g. AnEM's ``development/train-files.list``). Documents no list names stay where they are
    (the release puts them in no split); a listed id without its document is refused."""
    splits: dict[str, list[str]] = {}
    for out_dir, pattern in lists.items():
        matches = sorted(folder.glob(pattern))
        if len(matches) != 1:
            raise FetchError(f"{pattern!r} matches {len(matches)} files under {folder} (expected one)")
        splits[out_dir] = [ln.strip() for ln in matches[0].read_text(encoding="utf-8-sig").splitlines()
                           if ln.strip()]
    return _move_documents(folder, source, splits, suffixes, require_all=False)
