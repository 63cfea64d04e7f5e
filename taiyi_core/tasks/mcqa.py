"""MCQA: target ``Answer: B. <option text>`` (zh ``答案：B. <option text>``).

The prompt lists the options as ``A. text`` lines (the record's context, if any, precedes the
question). Several correct options (CMB multi-answer) render as ``Answer: A. x; C. y``.

Parse is anchored, never "first capital letter anywhere": it looks for an answer marker
(``Answer:``, ``The answer is``, ``答案：``, ``正确答案是`` ...) and reads the option letter right after it
(``B``, ``B.``, ``(B)``, ``B、``); if no letter follows, the rest of the line is kept as option
text. Without a marker, a reply that starts with a letter followed by punctuation or the end
(``B.``, ``(B) ...``, ``B``) is accepted; otherwise the first line is kept as option text with
``ok=False``. Scoring: correct when the predicted letter set equals the gold one; a reply with
no letter is correct when its text equals the gold option text (case/punctuation-insensitive).
Letters win over text when both are present. Empty or unreadable replies are wrong and counted
in ``parse_failures``. Option texts must not contain ``; X.``-like item separators (RenderError).
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass

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
from .metrics import normalize_ws, relaxed_key

NAME = "mcqa"
FAMILIES = ("qa",)
LETTERS = string.ascii_uppercase
PREFIX = {"en": "Answer: ", "zh": "答案："}
ANCHOR = re.compile(
    r"(?:(?:the\s+)?(?:correct\s+|final\s+)?answer(?:\s+is)?|(?:正确|最终)?答案(?:应该)?(?:是|为|选)?)\s*[:：]?\s*",
    re.IGNORECASE,
)
ITEM = re.compile(r"^[(（]?([A-Z])[)）]?(?:[.．、:：)）]\s*|\s+|$)(.*)$", re.DOTALL)
LEAD = re.compile(r"^[(（]?([A-Z])[)）]?(?:[.．、:：)）]\s*|$)(.*)$", re.DOTALL)
ITEM_SPLIT = re.compile(r";\s*(?=[(（]?[A-Z][)）]?[.．、:：)）])")


@dataclass(frozen=True)
class MCAnswer:
    letters: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


def _options(record: QARecord) -> list[str]:
    if not record.choices:
        raise RenderError(f"{shapes.where(record)}: multiple-choice question without choices")
    if len(record.choices) > len(LETTERS):
        raise RenderError(f"{shapes.where(record)}: {len(record.choices)} choices, at most {len(LETTERS)}")
    opts = [shapes.clean_item(c, record, "option", forbid=()) for c in record.choices]
    for o in opts:
        if ITEM_SPLIT.search(o):
            raise RenderError(f"{shapes.where(record)}: option {o!r} contains an item separator like '; B.'")
    return opts


def gold(x: QARecord | Instance) -> MCAnswer:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    opts = _options(x)
    idx = set()
    for ans in x.answer:
        a = normalize_ws(ans)
        if a in opts:
            idx.add(opts.index(a))
        elif len(a) == 1 and a in LETTERS[: len(opts)]:
            idx.add(LETTERS.index(a))
        else:
            raise RenderError(f"{shapes.where(x)}: answer {ans!r} is neither an option text nor a letter")
    if not idx:
        raise RenderError(f"{shapes.where(x)}: no answer")
    order = sorted(idx)
    return MCAnswer(tuple(LETTERS[i] for i in order), tuple(opts[i] for i in order))


def question_text(record: QARecord) -> str:
    """The question (whitespace-normalised), after the record's context on a line of its own if any."""
    question = normalize_ws(record.question)
    if record.context.strip():
        question = f"{record.context.strip()}\n{question}"
    return question


def format_value(value: MCAnswer, lang: str) -> str:
    return PREFIX[lang] + shapes.join_items(
        f"{L}. {t}" for L, t in zip(value.letters, value.texts, strict=True)
    )


def render(record: QARecord, lang: str, rng: random.Random) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    opts = _options(record)
    value = gold(record)
    question = question_text(record)
    template = choose_template(NAME, lang, rng)
    options = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(opts))
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(question=question, options=options), target=format_value(value, lang),
        input_text=question, meta={"choices": opts},
    )]  # fmt: skip


def _read(rest: str, pattern: re.Pattern) -> MCAnswer | None:
    letters, texts = [], []
    for item in ITEM_SPLIT.split(rest):
        m = pattern.match(item.strip())
        if not m:
            return None
        letters.append(m.group(1))
        texts.append(normalize_ws(m.group(2)))
    return MCAnswer(tuple(letters), tuple(texts))


def parse(text: str, lang: str) -> Parsed:
    stripped = text.strip()
    if not stripped:
        return Parsed(MCAnswer(), ok=False, error="empty output")
    fallback = None
    for m in ANCHOR.finditer(stripped):
        rest = stripped[m.end() :].split("\n", 1)[0].strip()
        ans = _read(rest, ITEM)
        if ans is not None:
            return Parsed(ans)
        if rest and fallback is None:
            fallback = MCAnswer(texts=(normalize_ws(rest).rstrip("。."),))
    first = stripped.split("\n", 1)[0].strip()
    ans = _read(first, LEAD)
    if ans is not None:
        return Parsed(ans)
    if fallback is not None:
        return Parsed(fallback)
    return Parsed(MCAnswer(texts=(normalize_ws(first),)), ok=False, error="no answer marker or option letter")


def correct(g: MCAnswer, p: MCAnswer) -> bool:
    if p.letters:
        return set(p.letters) == set(g.letters)
    if p.texts:
        return {relaxed_key(t) for t in p.texts} == {relaxed_key(t) for t in g.texts}
    return False


def score(golds: list[MCAnswer], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    hits = [correct(g, p.value) for g, p in zip(golds, preds, strict=True)]
    by_text = sum(h and not p.value.letters for h, p in zip(hits, preds, strict=True))
    return {
        "n": len(golds),
        "accuracy": sum(hits) / len(hits) if hits else 0.0,
        "parse_failures": parse_failures(preds),
        "correct_by_text": by_text,
    }
