"""Text pairs (similarity AND entailment): the target is the bare label (``similar``, ``语义相同``).

The gold label comes from the record (mapped by ``label_names``, e.g. CHIP-STS "0"/"1" ->
语义不相同/语义相同); the prompt lists the DATASET's label set (``labels=`` from the catalog or the data
step's inventory, else the reader's ``record.label_set``, else the keys of ``label_names``). Parse
takes the first non-empty line, drops an ``Answer:``/``Result:``/``答案：``/``结果：`` lead-in,
surrounding quotes and final ``.``/``。``; more than one non-empty line makes ``ok`` False (the first
line is still scored). Scoring: accuracy, micro-F1 and macro-F1
(the real macro — PromptCBLUE's "micro" was sklearn's weighted average, not copied here), and
``invalid_labels`` for replies outside the label set.
"""

from __future__ import annotations

import random
import re

from taiyi_core.schema import PairRecord

from . import shapes
from .base import (
    Instance,
    Parsed,
    RenderError,
    check_family,
    check_lang,
    check_lengths,
    choose_template,
    instance_gold,
    parse_failures,
)
from .metrics import label_scores, normalize_ws

NAME = "sts"
FAMILIES = ("pairs",)
LEAD = re.compile(r"^(?:answer|result|label|答案|结果|标签)\s*[:：]\s*", re.IGNORECASE)


def _show(label: str, names: dict[str, str] | None, record: PairRecord) -> str:
    shown = normalize_ws((names or {}).get(label, label))
    if not shown or shown != shown.strip("\"'“”。.") or LEAD.match(shown):
        raise RenderError(
            f"{shapes.where(record)}: label {shown!r} is empty, quoted, ends in '.' or has a lead-in"
        )
    return shown


def label_set(
    record: PairRecord, label_names: dict[str, str] | None = None, labels: list[str] | None = None
) -> list[str]:
    raw = list(labels) if labels is not None else (list(record.label_set) or list(label_names or {}))
    return list(dict.fromkeys(_show(x, label_names, record) for x in raw))


def gold(x: PairRecord | Instance, *, label_names: dict[str, str] | None = None) -> str:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    return _show(x.label, label_names, x)


def render(
    record: PairRecord,
    lang: str,
    rng: random.Random,
    *,
    labels: list[str] | None = None,
    label_names: dict[str, str] | None = None,
) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    value = gold(record, label_names=label_names)
    options = label_set(record, label_names, labels)
    if not options:
        raise RenderError(f"{shapes.where(record)}: no label set (labels=, record.label_set or label_names)")
    if value not in options:
        raise RenderError(f"{shapes.where(record)}: label {value!r} not in the label set {options}")
    template = choose_template(NAME, lang, rng)
    t1, t2 = normalize_ws(record.text_1), normalize_ws(record.text_2)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text_1=t1, text_2=t2, labels=shapes.option_list(options, lang)),
        target=value, input_text=f"{t1}\n{t2}", meta={"label_set": options},
    )]  # fmt: skip


def parse(text: str, lang: str) -> Parsed:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return Parsed(None, ok=False, error="empty output")
    label = normalize_ws(LEAD.sub("", lines[0])).strip("\"'“”").rstrip("。.")
    if not label:
        return Parsed(None, ok=False, error="no label")
    return Parsed(label, ok=len(lines) == 1, error="" if len(lines) == 1 else "more than one line")


def score(
    golds: list[str], preds: list[Parsed], inputs: list[str] | None = None, label_set: list[str] | None = None
) -> dict:
    check_lengths(golds, preds, inputs)
    scores = label_scores(golds, [p.value for p in preds], label_set or sorted(set(golds)))
    return {
        "n": len(golds),
        "accuracy": scores["accuracy"],
        "micro_f1": scores["micro_f1"],
        "macro_f1": scores["macro_f1"],
        "per_label": scores["per_label"],
        "invalid_labels": scores["invalid_labels"],
        "parse_failures": parse_failures(preds),
    }
