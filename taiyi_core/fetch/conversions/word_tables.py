"""Releases that are Word tables inside a RAR: BIOSSES (``BIOSSES-Dataset.rar``: one .docx of sentence
pairs, one of the five annotators' scores), joined by pair id into one TSV per split of the entry."""

from __future__ import annotations

from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.conversions.records import _one
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError
from taiyi_core.fetch.word_tables import find_table, rar_members

PAIRS_HEADER = ["", "Sentence 1", "Sentence 2"]
ANNOTATORS = ["a", "b", "c", "d", "e"]
SCORES_HEADER = ["Sentence No", *(f"Annotator {a.upper()}" for a in ANNOTATORS)]
COLUMNS = ["pair_id", "sentence1", "sentence2", *(f"annotator_{a}" for a in ANNOTATORS), "score"]
SCALE = range(0, 5)  # SemEval 2012 task 6 guideline: integer scores 0-4


def _by_id(rows: list[list[str]], name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n, row in enumerate(rows, 2):
        pid = row[0].strip()
        if not pid.isdigit():
            raise FetchError(f"{name}: table row {n}: pair id {pid!r} is not a number")
        if pid in out:
            raise FetchError(f"{name}: table row {n}: pair id {pid} appears twice")
        out[pid] = row[1:]
    return out


def _ids(ids: list[str]) -> str:
    return (", ".join(ids[:5]) + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else "")) or "none"


def _mean(scores: list[str], name: str, pid: str) -> str:
    """The exact mean of five integer scores, one decimal (sum / 5 = 2 * sum / 10), as BigBIO's label."""
    if not all(s.isdigit() and int(s) in SCALE for s in scores):
        raise FetchError(f"{name}: pair {pid}: scores {scores} are not integers 0-4")
    twice = 2 * sum(map(int, scores))
    return f"{twice // 10}.{twice % 10}"


@conversion("biosses_word_tables")
def biosses_word_tables(folder: Path, archive: str, pairs: str, scores: str,
                        splits: dict[str, list[int]]) -> list[str]:
    """The RAR's pairs table + scores table -> one TSV per split (``COLUMNS``: the pair id, both
    sentences, the five scores and their mean as ``score``). ``splits`` maps an output file to the pair
    ids it holds; every pair of the release must be in exactly one split, and every listed id in the
    release (the release has no split: the entry gives BLUE's, as BigBIO uses it)."""
    rar = _one(folder, archive)
    members = rar_members(rar.read_bytes(), rar.name, [pairs, scores])
    pairs_name, scores_name = f"{rar.name}:{pairs}", f"{rar.name}:{scores}"
    texts = _by_id(find_table(members[pairs], pairs_name, PAIRS_HEADER), pairs_name)
    marks = _by_id(find_table(members[scores], scores_name, SCORES_HEADER), scores_name)
    if set(texts) != set(marks):
        raise FetchError(f"{rar.name}: pair ids differ between the tables: only in {pairs}: "
                         f"{_ids(sorted(set(texts) - set(marks), key=int))}; only in {scores}: "
                         f"{_ids(sorted(set(marks) - set(texts), key=int))}")
    listed = [str(i) for ids in splits.values() for i in ids]
    twice = sorted({i for i in listed if listed.count(i) > 1}, key=int)
    unknown = sorted(set(listed) - set(texts), key=int)
    unsplit = sorted(set(texts) - set(listed), key=int)
    if twice or unknown or unsplit:
        raise FetchError(f"{rar.name}: the entry's split lists do not partition the release's "
                         f"{len(texts)} pairs: listed twice: {_ids(twice)}; not in the release: "
                         f"{_ids(unknown)}; in no split: {_ids(unsplit)}")
    written = []
    for out, ids in splits.items():
        lines = ["\t".join(COLUMNS)]  # no quoting: a sentence holds no tab or newline (checked below)
        for pid in sorted(map(str, ids), key=int):
            s1, s2 = texts[pid]
            if not s1 or not s2 or any(c in s1 + s2 for c in "\t\n\r"):
                raise FetchError(f"{pairs_name}: pair {pid}: a sentence is empty or holds a tab/newline")
            row = marks[pid]
            lines.append("\t".join([pid, s1, s2, *row, _mean(row, scores_name, pid)]))
        write_text(folder / out, "\n".join(lines) + "\n")
        written.append(out)
    return written
