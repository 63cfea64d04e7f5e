"""Multi-turn dialogue: turns must alternate user/assistant, starting with the user and ending with
the assistant. A template wraps the first user turn only; ``turns`` holds every (user, assistant)
pair, ``prompt`` the first (templated) user turn and ``target`` the last assistant reply, which is
what evaluation generates (given the earlier turns) and scores with ROUGE.
"""

from __future__ import annotations

import random

from taiyi_core.schema import DialogueRecord

from . import _generation
from .base import Instance, RenderError, check_family, check_lang, choose_template, instance_gold
from .shapes import where

NAME = "dialogue"
FAMILIES = ("dialogue",)
parse = _generation.parse
score = _generation.score


def _pairs(record: DialogueRecord) -> list[tuple[str, str]]:
    turns = record.turns
    roles = [t.role for t in turns]
    if not turns or len(turns) % 2 or roles != ["user", "assistant"] * (len(turns) // 2):
        raise RenderError(f"{where(record)}: turns must alternate user/assistant, got roles {roles}")
    return [
        (_generation.clean_text(turns[i].text, record, f"turn {i}"),
         _generation.clean_text(turns[i + 1].text, record, f"turn {i + 1}"))
        for i in range(0, len(turns), 2)
    ]  # fmt: skip


def gold(x: DialogueRecord | Instance) -> str:
    return instance_gold(NAME, parse, x) if isinstance(x, Instance) else _pairs(x)[-1][1]


def render(record: DialogueRecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    pairs = _pairs(record)
    template = choose_template(NAME, lang, rng)
    first = template.fill(text=pairs[0][0])
    turns = [(first, pairs[0][1]), *pairs[1:]]
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=first, target=turns[-1][1], input_text="\n".join(u for u, _ in pairs), turns=turns,
        meta={"num_turns": len(turns)},
    )]  # fmt: skip
