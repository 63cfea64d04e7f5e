"""Open (single-turn) QA: the question in, the answer text out; scored with ROUGE (see _generation).

Gold is the first answer string (stripped), or ``long_answer`` when there is none.
"""

from __future__ import annotations

import random

from taiyi_core.schema import QARecord

from . import _generation
from .base import Instance, check_family, check_lang, choose_template, instance_gold
from .metrics import normalize_ws

NAME = "qa"
FAMILIES = ("qa",)
parse = _generation.parse
score = _generation.score


def gold(x: QARecord | Instance) -> str:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    answer = x.answer[0] if x.answer else x.long_answer
    return _generation.clean_text(answer, x, "answer")


def render(record: QARecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    template = choose_template(NAME, lang, rng)
    question = normalize_ws(record.question)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(question=question), target=gold(record), input_text=question,
    )]  # fmt: skip
