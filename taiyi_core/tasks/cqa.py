"""Reading-comprehension QA: context + question in, the answer out; scored with ROUGE.

Gold is the first answer string (stripped), or ``long_answer`` when there is none.
"""

from __future__ import annotations

import random

from taiyi_core.schema import QARecord

from . import _generation, qa
from .base import Instance, RenderError, check_family, check_lang, choose_template, instance_gold
from .metrics import normalize_ws
from .shapes import where

NAME = "cqa"
FAMILIES = ("qa",)
parse = _generation.parse
score = _generation.score


def gold(x: QARecord | Instance) -> str:
    return instance_gold(NAME, parse, x) if isinstance(x, Instance) else qa.gold(x)


def render(record: QARecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    if not record.context.strip():
        raise RenderError(f"{where(record)}: reading-comprehension QA needs a context")
    template = choose_template(NAME, lang, rng)
    context = record.context.strip()
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(context=context, question=normalize_ws(record.question)),
        target=gold(record), input_text=context,
    )]  # fmt: skip
