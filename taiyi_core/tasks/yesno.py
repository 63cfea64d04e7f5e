"""Yes/no(/maybe) QA: target ``Answer: yes`` (zh ``答案：是``; maybe = ``不确定``).

Gold is the canonical English label (yes, no, maybe) whatever the language; zh renders it as
是/否/不确定. Parse is anchored like mcqa: the word right after an answer marker, or a reply that
starts with the label word itself (``Yes, because ...``, ``否。``). Anything else is unparseable:
wrong and counted in ``parse_failures``. Scoring: accuracy and macro-F1 over the labels seen
(PubMedQA's standard pair), plus micro-F1.
"""

from __future__ import annotations

import random
import re

from taiyi_core.schema import QARecord

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
from .mcqa import ANCHOR, PREFIX, question_text
from .metrics import label_scores, normalize_ws

NAME = "yesno"
FAMILIES = ("qa",)
SHOW = {
    "en": {"yes": "yes", "no": "no", "maybe": "maybe"},
    "zh": {"yes": "是", "no": "否", "maybe": "不确定"},
}
# longest first: "不是" must win over "是"
_WORDS = [
    ("不确定", "maybe"), ("不是", "no"), ("不对", "no"), ("可能", "maybe"), ("也许", "maybe"),
    ("是", "yes"), ("否", "no"), ("对", "yes"),
]  # fmt: skip
_GOLD = {"yes": "yes", "no": "no", "maybe": "maybe", "是": "yes", "否": "no", "不确定": "maybe"}
_EN = re.compile(r"^(yes|no|maybe)\b", re.IGNORECASE)


def _label(word: str) -> str | None:
    w = normalize_ws(word).strip("\"'“”‘’*")
    m = _EN.match(w)
    if m:
        return m.group(1).lower()
    for zh, lab in _WORDS:
        if w.startswith(zh):
            return lab
    return None


def gold(x: QARecord | Instance) -> str:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    value = _GOLD.get(normalize_ws(x.answer[0]).lower()) if len(x.answer) == 1 else None
    if value is None:
        raise RenderError(f"{shapes.where(x)}: yes/no answer must be one of yes/no/maybe, got {x.answer!r}")
    return value


def render(record: QARecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    value = gold(record)
    read = [_label(c) for c in record.choices] if record.choices else ["yes", "no"]
    labels = [la for la in read if la is not None]
    if len(labels) < len(read):
        raise RenderError(f"{shapes.where(record)}: choices {record.choices!r} are not yes/no/maybe")
    if value not in labels:
        labels.append(value)
    question = question_text(record)
    template = choose_template(NAME, lang, rng)
    shown = shapes.option_list([SHOW[lang][la] for la in labels], lang)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(question=question, labels=shown),
        target=PREFIX[lang] + SHOW[lang][value], input_text=question, meta={"labels": labels},
    )]  # fmt: skip


def parse(text: str, lang: str) -> Parsed:
    stripped = text.strip()
    if not stripped:
        return Parsed(None, ok=False, error="empty output")
    for m in ANCHOR.finditer(stripped):
        lab = _label(stripped[m.end() :])
        if lab is not None:
            return Parsed(lab)
    lab = _label(stripped)
    if lab is not None:
        return Parsed(lab)
    return Parsed(None, ok=False, error="no yes/no/maybe after an answer marker or at the start")


def score(golds: list[str], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    scores = label_scores(golds, [p.value for p in preds])
    return {
        "n": len(golds),
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        "micro_f1": scores["micro_f1"],
        "per_label": scores["per_label"],
        "parse_failures": parse_failures(preds),
    }
