"""Machine translation: the translation only. Scored with sacrebleu BLEU and chrF (``main`` = bleu;
Chinese targets use tokenize='zh', else 13a), plus ROUGE-L P/R/F as precision/recall/f1.
"""

from __future__ import annotations

import random

from taiyi_core.schema import TranslationRecord

from . import _generation
from .base import Instance, Parsed, check_family, check_lang, choose_template, instance_gold
from .textmetrics import bleu_chrf

NAME = "mt"
FAMILIES = ("translation",)
LANG_NAME = {"en": {"en": "English", "zh": "Chinese"}, "zh": {"en": "英文", "zh": "中文"}}
parse = _generation.parse


def gold(x: TranslationRecord | Instance) -> str:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    return _generation.clean_text(x.target_text, x, "target text")


def render(record: TranslationRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    template = choose_template(NAME, lang, rng)
    source = _generation.clean_text(record.source_text, record, "source text")
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text=source, target_language=LANG_NAME[lang][record.target_lang]),
        target=gold(record), input_text=source,
        meta={"source_lang": record.source_lang, "target_lang": record.target_lang},
    )]  # fmt: skip


def score(
    golds: list[str], preds: list[Parsed], inputs: list[str] | None = None, target_lang: str | None = None
) -> dict:
    out = _generation.score(golds, preds, inputs)
    out.update(bleu_chrf(golds, [p.value or "" for p in preds], target_lang))
    out["main"] = "bleu"
    return out
