"""TC (single- and multi-label): ``Result: a; b`` (zh ``上述文本被分类为：a; b``).

Gold: the record's labels (mapped by ``label_names``), de-duplicated, in label-set order. The
options shown are the DATASET's label set (``labels=`` from the catalog or the data step's inventory,
else the reader's ``record.label_set``), never the record's own labels (that gives the answer away);
no label set is a RenderError. No label renders ``Result: None`` / ``上述文本被分类为：无``. A label
holding ``; ``, starting with ``"``, ending in ``.``/``。`` (parse drops a final full stop) or equal to
``None``/``无`` is written in double quotes, quotes doubled (shapes.py): ``Result: "a; b"; c``.

Parse is anchored: the first line starting with ``Result:`` / ``上述文本被分类为：`` (or ``分类为：``,
either colon width). Without the anchor, a single bare line is read as the label list with
``ok=False`` (counted in parse_failures, still scored); anything else scores as no labels.

Scoring: micro P/R/F1 over (instance, label) decisions (multi-label aware; equals accuracy for
single-label data with one predicted label each), ``macro_f1`` over labels (those in gold,
predictions or ``label_set``), ``exact_match`` (the predicted label set equals gold), and
``invalid_labels``/``invalid_label_rate`` for predicted labels outside ``label_set`` (or outside the
gold labels seen, when no label set is given). Invalid labels are false positives in the micro
score but not classes of their own in the macro average (PromptCBLUE made them zero-F1 classes).
"""

from __future__ import annotations

import random
import re
from typing import Any

from taiyi_core.schema import TextRecord

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
from .metrics import macro_f1, micro_prf_sets, normalize_ws, per_label_prf

NAME = "tc"
FAMILIES = ("text",)
PREFIX = {"en": "Result: ", "zh": "上述文本被分类为："}
ANCHOR = re.compile(
    r"^\s*(?:result|上述文本被分类为|分类为|分类结果)\s*[:：]\s*(.*)$", re.IGNORECASE | re.MULTILINE
)


def _map(labels: list[str], names: dict[str, str] | None, record: TextRecord) -> list[str]:
    out = [shapes.clean_item((names or {}).get(lab, lab), record, "label") for lab in labels]
    return list(dict.fromkeys(out))


def _needs_quote(label: str) -> bool:
    return label.endswith((".", "。")) or label in shapes.NONE.values()


def label_set(
    record: TextRecord, label_names: dict[str, str] | None = None, labels: list[str] | None = None
) -> list[str]:
    """The dataset's labels as shown: ``labels`` when given, else the reader's ``record.label_set``."""
    return _map(list(labels) if labels is not None else list(record.label_set), label_names, record)


def gold(
    x: TextRecord | Instance, *, label_names: dict[str, str] | None = None, labels: list[str] | None = None
) -> list[str]:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    order = label_set(x, label_names, labels)
    labels = _map(list(x.labels), label_names, x)
    if order:
        unknown = [lab for lab in labels if lab not in order]
        if unknown:
            raise RenderError(f"{shapes.where(x)}: labels {unknown} are not in the label set {order}")
        labels = [lab for lab in order if lab in labels]
    return labels


def format_value(labels: list[str], lang: str) -> str:
    return PREFIX[lang] + (shapes.write_items(labels, also=_needs_quote) if labels else shapes.NONE[lang])


def render(
    record: TextRecord,
    lang: str,
    rng: random.Random,
    *,
    labels: list[str] | None = None,
    label_names: dict[str, str] | None = None,
) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    options = label_set(record, label_names, labels)
    if not options:
        raise RenderError(
            f"{shapes.where(record)}: no label set (pass labels=: the dataset's, from the catalog or the "
            "data step's inventory; never the record's own labels)"
        )
    labels = gold(record, label_names=label_names, labels=labels)
    template = choose_template(NAME, lang, rng)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text=record.text, labels=shapes.option_list(options, lang)),
        target=format_value(labels, lang), input_text=record.text, meta={"label_set": options},
    )]  # fmt: skip


def _labels(body: str, lang: str) -> list[str]:
    body = normalize_ws(body)
    if not body.endswith(shapes.QUOTE):
        body = body.rstrip("。.")
    if shapes.is_none(body, lang):
        return []
    return list(dict.fromkeys(shapes.split_items(body)))


def parse(text: str, lang: str) -> Parsed:
    if not text.strip():
        return Parsed([], ok=False, error="empty output")
    m = ANCHOR.search(text)
    if m:
        return Parsed(_labels(m.group(1), lang))
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) == 1:
        return Parsed(_labels(lines[0], lang), ok=False, error="no 'Result:' anchor; read the bare line")
    return Parsed([], ok=False, error="no 'Result:' / '上述文本被分类为：' line")


def score(
    golds: list[list[str]],
    preds: list[Parsed],
    inputs: list[str] | None = None,
    label_set: list[str] | None = None,
) -> dict:
    check_lengths(golds, preds, inputs)
    g = [[normalize_ws(x) for x in v] for v in golds]
    p = [[normalize_ws(x) for x in (v.value or [])] for v in preds]
    allowed = set(label_set) if label_set else {lab for v in g for lab in v}
    out: dict[str, Any] = {"n": len(golds), "parse_failures": parse_failures(preds)}
    out.update(micro_prf_sets(g, p))
    per = per_label_prf(g, [[x for x in v if x in allowed] for v in p], lambda x: x, labels=label_set or ())
    out["per_label"] = per
    out["macro_f1"] = macro_f1(per)
    out["exact_match"] = sum(set(a) == set(b) for a, b in zip(g, p, strict=True)) / len(g) if g else 0.0
    predicted = sum(len(set(v)) for v in p)
    invalid = sum(1 for v in p for x in set(v) if x not in allowed)
    out["invalid_labels"] = invalid
    out["invalid_label_rate"] = invalid / predicted if predicted else 0.0
    return out
