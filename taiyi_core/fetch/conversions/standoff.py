"""Annotation tables (one row per mention or relation, keyed by document) and token-vote files written as
brat documents."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(found) != 1:
        raise FetchError(f"{pattern!r} matches {len(found)} files under {folder} (expected one)")
    return found[0]


def _tsv(path: Path, width: int) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    bad = next((i for i, r in enumerate(rows, 1) if len(r) != width), None)
    if bad is not None:
        raise FetchError(f"{path.name}, line {bad}: expected {width} TAB-separated columns, "
                         f"got {len(rows[bad - 1])}")
    return rows


@conversion("drugprot_brat")
def drugprot_brat(folder: Path, splits: dict[str, dict[str, str]]) -> list[str]:
    """DrugProt's three TSVs per split -> ``<out_dir>/<pmid>.txt`` (title TAB abstract: the offsets count
    one separator) and ``<pmid>.ann`` (T lines for entities, R lines for relations).

    ``splits``: out_dir -> {"abstracts": glob, "entities": glob, "relations": glob}. A relation whose
    argument names no entity of its document is refused with the file and line.
    """
    written = []
    for out_dir, files in splits.items():
        abstracts = _tsv(_one(folder, files["abstracts"]), 3)
        entities: dict[str, list[list[str]]] = defaultdict(list)
        for row in _tsv(_one(folder, files["entities"]), 6):
            entities[row[0]].append(row)
        relations: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
        rel_path = _one(folder, files["relations"])
        for n, row in enumerate(_tsv(rel_path, 4), 1):
            relations[row[0]].append((n, row))
        target = folder / out_dir
        target.mkdir(parents=True, exist_ok=True)
        for pmid, title, abstract in abstracts:
            ids = {e[1] for e in entities[pmid]}
            ann = [f"{tid}\t{etype} {start} {end}\t{text}"
                   for _, tid, etype, start, end, text in entities[pmid]]
            for k, (n, (_, rtype, arg1, arg2)) in enumerate(relations[pmid], 1):
                for arg in (arg1, arg2):
                    if arg.split(":", 1)[-1] not in ids:
                        raise FetchError(f"{rel_path.name}, line {n}: {arg} names no entity of PMID {pmid}")
                ann.append(f"R{k}\t{rtype} {arg1} {arg2}")
            (target / f"{pmid}.txt").write_text(f"{title}\t{abstract}", encoding="utf-8")
            (target / f"{pmid}.ann").write_text("".join(line + "\n" for line in ann), encoding="utf-8")
            written += [f"{out_dir}/{pmid}.txt", f"{out_dir}/{pmid}.ann"]
    return written


def _json_object(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FetchError(f"{path.name}, line {exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise FetchError(f"{path.name}: expected a JSON object keyed by id, got {type(data).__name__}")
    return data


def _voted_runs(votes: object, n_tokens: int, where: str) -> list[tuple[int, int]]:
    """(first, last) token of every run that more than half of the annotators marked 1."""
    if not isinstance(votes, list) or not votes or any(
        not isinstance(v, list) or len(v) != n_tokens or any(x not in (0, 1) for x in v) for v in votes
    ):
        raise FetchError(f"{where}: expected one 0/1 list of {n_tokens} tokens per annotator")
    marked = [2 * sum(column) > len(votes) for column in zip(*votes, strict=True)]
    runs, first = [], None
    for i, on in enumerate([*marked, False]):
        if on and first is None:
            first = i
        elif not on and first is not None:
            runs.append((first, i - 1))
            first = None
    return runs


@conversion("token_votes_brat")
def token_votes_brat(folder: Path, sentences: str, annotations: dict[str, str], out_dir: str) -> list[str]:
    """PICO-annotation (Zlabinger et al. 2020): ``sentences`` is a JSON object ``{"PMID:SENIDX": text}``;
    each file of ``annotations`` (path -> entity type) is an object ``{id: {"annotations": [[0/1 per
    white-space token] per annotator], ...}}``. A token is in a mention when more than half of the
    annotators marked it (BigBIO's majority vote); each run of such tokens is one mention, its offsets
    those of its tokens in the text. Writes ``<out_dir>/<id>.txt`` + ``.ann`` (brat keeps the mentions of
    different types that overlap, which BIO could not). A sentence missing from an annotation file, or an
    annotated id that is not a sentence, is refused by name: no sentence is left unannotated silently."""
    texts = _json_object(_one(folder, sentences))
    votes = [(path, etype, _json_object(_one(folder, path))) for path, etype in annotations.items()]
    for path, _etype, table in votes:
        missing, stray = sorted(set(texts) - set(table)), sorted(set(table) - set(texts))
        if missing or stray:
            raise FetchError(f"{path}: {len(missing)} sentence(s) not annotated ({missing[:3]}), "
                             f"{len(stray)} annotated id(s) that are not sentences ({stray[:3]})")
    target = folder / out_dir
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for sid, text in texts.items():
        if not isinstance(text, str) or "/" in sid or sid.startswith("."):
            raise FetchError(f"{sentences}: sentence {sid!r} must be text under a plain id")
        spans = [m.span() for m in re.finditer(r"\S+", text)]
        ann: list[str] = []
        for path, etype, table in votes:
            entry = table[sid]
            where = f"{path}, sentence {sid}"
            if not isinstance(entry, dict):
                raise FetchError(f"{where}: expected an object with 'annotations'")
            for first, last in _voted_runs(entry.get("annotations"), len(spans), where):
                start, end = spans[first][0], spans[last][1]
                ann.append(f"T{len(ann) + 1}\t{etype} {start} {end}\t{text[start:end]}")
        write_text(target / f"{sid}.txt", text)
        write_text(target / f"{sid}.ann", "".join(line + "\n" for line in ann))
        written += [f"{out_dir}/{sid}.txt", f"{out_dir}/{sid}.ann"]
    return written
