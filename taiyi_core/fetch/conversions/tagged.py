"""Token-indexed mention lists over tokenised sentences (GENETAG) written as token<TAB>BIO CoNLL.

GENETAG's ``TOKENIZED_CORPUS`` holds one sentence per line, ``@@<id> tok/TAG tok/TAG ...``; its
``Gold.format`` one mention per line, ``@@<id>|<first> <last>|<text>`` with inclusive token indices
(one real line lacks the second ``|``: ``@@18719714263|11 11OCT-1``). ``Correct.Data`` holds the
accepted alternatives (ALTGENE); they are not written. The token indices are authoritative. What BIO
cannot carry, or what disagrees, is written to ``conversion_notes.tsv`` beside the output, one line per
mention (split, sentence, tokens, text, why), never dropped silently: in the real release 4 of 17,871
mentions name other tokens than their text (e.g. ``SAP`` over the token ``SAPK``; they are tagged by
their indices) and 1 overlaps another (the longer one is kept).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError

_MENTION = re.compile(r"^@@(\S+?)\|(\d+) (\d+)\|?(.*)$")
NOTES = "conversion_notes.tsv"


def _sentences(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        sid, _, rest = line.partition(" ")
        if not sid.startswith("@@"):
            raise FetchError(f"{path.name}, line {n}: expected '@@<id> token/TAG ...', got {line[:40]!r}")
        out[sid[2:]] = [t.rsplit("/", 1)[0] for t in rest.split(" ") if t]
    return out


@conversion("genetag_conll")
def genetag_conll(folder: Path, splits: dict[str, str], etype: str = "GENE") -> list[str]:
    """``splits``: output CoNLL -> the release folder holding TOKENIZED_CORPUS and Gold.format."""
    written, notes = [], []
    for out, sub in splits.items():
        src = folder / sub
        sentences = _sentences(src / "TOKENIZED_CORPUS")
        mentions: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        gold = src / "Gold.format"
        for n, line in enumerate(gold.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            m = _MENTION.match(line)
            if m is None:
                raise FetchError(f"{sub}/Gold.format, line {n}: expected '@@<id>|<first> <last>|<text>'")
            sid, first, last, text = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
            tokens = sentences.get(sid)
            if tokens is None or not 0 <= first <= last < len(tokens):
                raise FetchError(f"{sub}/Gold.format, line {n}: tokens {first}-{last} are not in "
                                 f"sentence {sid}")
            if " ".join(tokens[first:last + 1]) != text:
                notes.append((out, sid, f"{first}-{last}", text, "text differs from the tokens; tagged by "
                              "index"))
            mentions[sid].append((first, last, text))
        lines = []
        for sid, tokens in sentences.items():
            tags = ["O"] * len(tokens)
            longest_first = sorted(mentions[sid], key=lambda m: (m[0] - m[1], m[0]))
            for first, last, text in longest_first:
                if any(t != "O" for t in tags[first:last + 1]):
                    notes.append((out, sid, f"{first}-{last}", text, "overlaps a longer mention; not tagged"))
                    continue
                tags[first:last + 1] = [f"B-{etype}"] + [f"I-{etype}"] * (last - first)
            lines += [f"{tok}\t{tag}" for tok, tag in zip(tokens, tags, strict=True)] + [""]
        write_text(folder / out, "\n".join(lines) + "\n")
        written.append(out)
    header = ("split", "sentence", "tokens", "text", "why")
    write_text(folder / NOTES, "".join("\t".join(row) + "\n" for row in [header, *notes]))
    return [*written, NOTES]
