"""Annotation tables (one row per mention or relation, keyed by document) written as brat documents."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

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
