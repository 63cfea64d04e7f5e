"""Text to text (summaries, title generation): the output text only; scored with ROUGE."""

from __future__ import annotations

import random

from taiyi_core.schema import T2TRecord

from . import _generation
from .base import Instance, RenderError, check_family, check_lang, choose_template, instance_gold
from .shapes import where

NAME = "t2t"
FAMILIES = ("t2t",)
KIND = {"en": {"title": "title", "summary": "summary"}, "zh": {"title": "标题", "summary": "摘要"}}
parse = _generation.parse
score = _generation.score


def gold(x: T2TRecord | Instance) -> str:
    return (
        instance_gold(NAME, parse, x)
        if isinstance(x, Instance)
        else _generation.clean_text(x.output, x, "output")
    )


def render(record: T2TRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    if record.type not in KIND["en"]:
        raise RenderError(
            f"{where(record)}: t2t renders summary/title records, not {record.type!r} (see report, t2s)"
        )
    template = choose_template(NAME, lang, rng)
    text = _generation.clean_text(record.input, record, "input")
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text=text, kind=KIND[lang][record.type]), target=gold(record), input_text=text,
    )]  # fmt: skip
