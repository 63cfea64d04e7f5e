"""Ground generated strings in the input text: every occurrence, as character offsets of the raw text.

A generative model names mentions by their string only; the official NER kits (BC5CDR, NCBI-disease,
BC2GM, CMeEE) score (document, start, end, type). To score a string list under such a kit, each
predicted (type, string) is placed at **every** occurrence of the string in the input text, exact
after the suite's whitespace normalisation (``metrics.normalize_ws``), **longest strings first**, and
an occurrence that overlaps one already taken is skipped (so ``lung cancer`` claims its span before
``cancer`` can claim the inner one). Ties in length are broken by string, then type, so the result does
not depend on the order the model wrote its answer in. Matching is plain substring matching: no word
boundaries, no case folding (a predicted ``DA`` is placed inside ``DAMAGE`` if it occurs there, and
costs a false positive, as an over-eager span would in the kit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .metrics import normalize_ws

_WS = re.compile(r"\s+")

Span = tuple[int, int]


class NormalizedText:
    """``normalize_ws(raw)`` with a map from each normalised character back to its raw offset."""

    def __init__(self, raw: str) -> None:
        chars: list[str] = []
        where: list[int] = []
        pos = 0
        for m in _WS.finditer(raw):
            chars.extend(raw[pos : m.start()])
            where.extend(range(pos, m.start()))
            chars.append(" ")
            where.append(m.start())
            pos = m.end()
        chars.extend(raw[pos:])
        where.extend(range(pos, len(raw)))
        # strip like normalize_ws does
        while chars and chars[0] == " ":
            chars.pop(0)
            where.pop(0)
        while chars and chars[-1] == " ":
            chars.pop()
            where.pop()
        self.raw = raw
        self.text = "".join(chars)
        self._where = where

    def raw_span(self, start: int, end: int) -> Span:
        """Raw offsets (end exclusive) of the normalised slice ``[start, end)``."""
        return self._where[start], self._where[end - 1] + 1

    def occurrences(self, needle: str) -> list[Span]:
        """Raw spans of every occurrence of ``needle`` (whitespace-normalised), overlapping ones included."""
        needle = normalize_ws(needle)
        out: list[Span] = []
        if not needle:
            return out
        i = self.text.find(needle)
        while i >= 0:
            out.append(self.raw_span(i, i + len(needle)))
            i = self.text.find(needle, i + 1)
        return out


def _overlaps(span: Span, taken: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def ground(
    raw_text: str, items: Iterable[tuple[str, str]]
) -> tuple[list[tuple[int, int, str]], list[tuple[str, str]]]:
    """Place (type, string) items at their occurrences: ([(start, end, type)], [(type, string) not found]).

    Duplicated items count once. A string with no free occurrence left (all taken by longer strings)
    is not "not found": it is absorbed. Only strings that never occur are listed as not found.
    """
    text = NormalizedText(raw_text)
    unique = sorted({(normalize_ws(t), normalize_ws(m)) for t, m in items if normalize_ws(m)},
                    key=lambda x: (-len(x[1]), x[1], x[0]))  # fmt: skip
    taken: list[Span] = []
    placed: list[tuple[int, int, str]] = []
    not_found: list[tuple[str, str]] = []
    for etype, mention in unique:
        spans = text.occurrences(mention)
        if not spans:
            not_found.append((etype, mention))
        for span in spans:
            if not _overlaps(span, taken):
                taken.append(span)
                placed.append((span[0], span[1], etype))
    return placed, not_found
