"""Counting metrics shared by the task modules. All scores are fractions in [0, 1].

Conventions (tested in tests/tasks/test_metrics.py):
- micro P/R/F1 sum TP/FP/FN over instances. With **set** semantics (the headline, as PromptCBLUE
  and Taiyi-comparable scoring do) each instance's items are de-duplicated first: predicting an item
  twice costs nothing and a gold item listed twice counts once. With **multiset** semantics every
  predicted copy must match its own gold copy (extra copies are false positives).
- P = TP/(TP+FP) and R = TP/(TP+FN), 0.0 when the denominator is 0, except that a split with no gold
  and no predicted items at all scores 1.0 everywhere (nothing to find and nothing claimed).
- macro-F1 averages per-label F1 over labels that occur in gold or predictions (labels with
  neither are left out, rather than counted as 0 as sklearn's zero_division would).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

_WS = re.compile(r"\s+")


def normalize_ws(text: str) -> str:
    """Collapse every run of Unicode whitespace (incl. ideographic space, newlines) to one space."""
    return _WS.sub(" ", text).strip()


def relaxed_key(text: str) -> str:
    """Case-, width-, whitespace- and punctuation-insensitive key (NFKC, casefold, drop P*/S*/Z*)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZ" and not ch.isspace())


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    if tp == fp == fn == 0:
        p = r = f = 1.0
    else:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn}


def micro_prf_sets(golds: Sequence[Iterable[Hashable]], preds: Sequence[Iterable[Hashable]]) -> dict:
    """Micro P/R/F1 with per-instance set semantics."""
    tp = fp = fn = 0
    for g, p in zip(golds, preds, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    return prf(tp, fp, fn)


def micro_prf_multisets(golds: Sequence[Iterable[Hashable]], preds: Sequence[Iterable[Hashable]]) -> dict:
    """Micro P/R/F1 where each copy counts: TP = sum of min(gold count, predicted count)."""
    tp = fp = fn = 0
    for g, p in zip(golds, preds, strict=True):
        gc, pc = Counter(g), Counter(p)
        match = sum((gc & pc).values())
        tp += match
        fp += sum(pc.values()) - match
        fn += sum(gc.values()) - match
    return prf(tp, fp, fn)


Item = TypeVar("Item", bound=Hashable)


def per_label_prf(
    golds: Sequence[Iterable[Item]],
    preds: Sequence[Iterable[Item]],
    label_of: Callable[[Item], str],
    labels: Iterable[str] = (),
) -> dict[str, dict]:
    """Set-semantics P/R/F1 per label (``label_of`` maps an item to its label, e.g. entity type).

    ``labels`` adds labels to report even when absent from gold and predictions (they get no entry
    in macro averages unless they occur).
    """
    counts: dict[str, list[int]] = {lab: [0, 0, 0] for lab in labels}
    for g, p in zip(golds, preds, strict=True):
        gs, ps = set(g), set(p)
        for item in gs | ps:
            c = counts.setdefault(label_of(item), [0, 0, 0])
            if item in gs and item in ps:
                c[0] += 1
            elif item in ps:
                c[1] += 1
            else:
                c[2] += 1
    return {lab: prf(*c) for lab, c in sorted(counts.items())}


def macro_f1(per_label: dict[str, dict]) -> float:
    """Mean F1 over labels with any gold or predicted item; 0.0 when there are none."""
    scores = [s["f1"] for s in per_label.values() if s["tp"] + s["fp"] + s["fn"] > 0]
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(golds: Sequence[Hashable], preds: Sequence[Hashable]) -> float:
    if len(golds) != len(preds):
        raise ValueError(f"accuracy: {len(golds)} golds but {len(preds)} predictions")
    return sum(g == p for g, p in zip(golds, preds, strict=True)) / len(golds) if golds else 0.0


def label_scores(golds: Sequence[str], preds: Sequence[str | None], label_set: Iterable[str] = ()) -> dict:
    """Single-label classification: accuracy, micro-F1 and macro-F1 (not sklearn's "weighted").

    micro-F1 equals accuracy when every prediction carries a label; an unparseable one lowers recall only.

    A ``None`` prediction (unparseable) is wrong; it is not a label of its own in the macro average.
    Predictions outside ``label_set`` (when given) are counted in ``invalid_labels``.
    """
    allowed = set(label_set)
    gold_sets = [{g} for g in golds]
    pred_sets = [set() if p is None else {p} for p in preds]
    micro = micro_prf_sets(gold_sets, pred_sets)
    per = per_label_prf(gold_sets, pred_sets, label_of=lambda x: x)
    invalid = sum(1 for p in preds if p is not None and allowed and p not in allowed)
    return {
        "accuracy": accuracy(list(golds), list(preds)),
        "micro_f1": micro["f1"],
        "macro_f1": macro_f1(per),
        "per_label": per,
        "invalid_labels": invalid,
    }
