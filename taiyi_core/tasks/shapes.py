"""The line shapes the IE/TC targets share: ``key: item; item`` lines and list joining.

Quoting policy: an item (mention, label, argument) or key that contains a separator of its shape is
written in double quotes, a quote inside doubled (``"Wy-14, 643"``, ``"say ""no"" twice"``); everything
else is written bare, so ordinary targets read exactly as Taiyi's. The item separator is ``"; "``;
keys (entity types, relation names, mentions in NORM) are quoted when they hold a colon of either
width. A reader (``read_item``) takes a quoted item only when its closing quote is followed by a
separator or the end, so a bare item that merely starts with a quote still parses. Items are
whitespace-normalised (newlines become spaces). Nothing a record can contain makes a target that
parses differently from its gold (tests/tasks/test_roundtrip.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from .base import Instance, RenderError, choose_template
from .metrics import normalize_ws

SEP = "; "
NONE = {"en": "None", "zh": "无"}  # the whole target when there is nothing to list
COLON = {"en": ": ", "zh": "："}
LIST_SEP = {"en": ", ", "zh": "，"}  # for option lists inside prompts


def where(record: Any) -> str:
    return f"dataset {getattr(record, 'dataset', '?')!r} record {getattr(record, 'id', '?')!r}"


QUOTE = '"'
KEY_STOPS = (":", "：")


def clean_item(value: str, record: Any, what: str, forbid: tuple[str, ...] = ()) -> str:
    """Whitespace-normalise ``value``; RenderError if empty (or containing a ``forbid`` string)."""
    item = normalize_ws(value)
    if not item:
        raise RenderError(f"{where(record)}: empty {what} {value!r}")
    for bad in forbid:
        if bad in item:
            raise RenderError(f"{where(record)}: {what} {item!r} contains {bad!r}")
    return item


def clean_key(value: str, record: Any, what: str) -> str:
    """A whitespace-normalised, non-empty key (``write_key`` quotes one that holds a colon)."""
    key = normalize_ws(value)
    if not key:
        raise RenderError(f"{where(record)}: empty {what} {value!r}")
    return key


def quote(item: str) -> str:
    return QUOTE + item.replace(QUOTE, QUOTE * 2) + QUOTE


def write_item(item: str, stops: tuple[str, ...] = (SEP,), *, also: bool = False) -> str:
    """``item`` bare, or quoted when it holds a stop, starts with a quote, or ``also`` (a shape's own
    reason, e.g. a TC label ending in a full stop that parse would drop)."""
    if also or item.startswith(QUOTE) or any(s in item for s in stops):
        return quote(item)
    return item


def write_key(key: str) -> str:
    return write_item(key, KEY_STOPS, also=key in NONE.values())


def read_item(text: str, pos: int, stops: tuple[str, ...]) -> tuple[str, int]:
    """(item, end) read from ``text[pos:]``: a quoted item when its closing quote is followed by a
    stop or the end of ``text``, else the bare text up to the first stop (or the end)."""
    if text.startswith(QUOTE, pos):
        i, parts = pos + 1, []
        while (j := text.find(QUOTE, i)) >= 0:
            if text.startswith(QUOTE, j + 1):  # a doubled quote is one quote character
                parts.append(text[i : j + 1])
                i = j + 2
                continue
            if j + 1 == len(text) or any(text.startswith(s, j + 1) for s in stops):
                parts.append(text[i:j])
                return "".join(parts), j + 1
            break  # not a quoted item after all: read it bare
    cut = [k for k in (text.find(s, pos) for s in stops) if k >= 0]
    end = min(cut) if cut else len(text)
    return text[pos:end], end


def join_items(items: Iterable[str]) -> str:
    """Items joined as they are (the caller made them unambiguous, e.g. MCQA's ``B. text``)."""
    return SEP.join(items)


def write_items(items: Iterable[str], *, also: Callable[[str], bool] | None = None) -> str:
    """Items joined by ``"; "``, each quoted where needed (``write_item``)."""
    return SEP.join(write_item(x, (SEP,), also=bool(also and also(x))) for x in items)


def split_items(text: str) -> list[str]:
    """Items separated by ``"; "`` (quoted ones unquoted); empty items (a trailing '; ') are dropped."""
    text = normalize_ws(text)
    out, pos = [], 0
    while True:
        item, pos = read_item(text, pos, (SEP,))
        if normalize_ws(item):
            out.append(normalize_ws(item))
        if not text.startswith(SEP, pos):
            return out
        pos += len(SEP)


def split_key(line: str) -> tuple[str, str] | None:
    """``key: rest`` or ``key：rest`` at the first colon of either width after the key (a quoted key
    may hold colons); None if there is none."""
    text = line.lstrip()
    key, end = read_item(text, 0, KEY_STOPS)
    if end >= len(text):
        return None
    key = normalize_ws(key)
    if not key:
        return None
    return key, text[end + 1 :].lstrip(" ")


def is_none(text: str, lang: str) -> bool:
    t = normalize_ws(text).rstrip(".。")
    return t.lower() == "none" or t == "无" or t == NONE.get(lang, "")


def option_list(items: list[str], lang: str) -> str:
    """Options inside a prompt, joined by ``, `` / ``，`` (an option holding that separator quoted)."""
    return LIST_SEP[lang].join(write_item(x, (LIST_SEP[lang],)) for x in items)


def pick(value: dict[str, list], keys: Iterable[str]) -> dict[str, list]:
    """The non-empty lists of ``value`` under ``keys``, in that order."""
    return {k: value[k] for k in keys if value.get(k)}


def per_type_instances(
    task: str,
    record: Any,
    lang: str,
    rng: random.Random,
    found: dict[str, list],
    kinds: list[str],
    *,
    decompose: bool,
    prompt_key: str,
    meta_key: str,
    format_value: Callable[[dict[str, list], str], str],
) -> list[Instance]:
    """NER/RE instances: one asking for all ``kinds``, or with ``decompose`` one per kind (Taiyi's task
    decomposition, id ``<record id>::<kind>``); each target lists what ``found`` holds for its kinds."""
    out = []
    for req in [[k] for k in kinds] if decompose else [kinds]:
        template = choose_template(task, lang, rng)
        out.append(Instance(
            id=record.id if not decompose else f"{record.id}::{req[0]}",
            dataset=record.dataset, task=task, lang=lang, template_id=template.id,
            prompt=template.fill(**{"text": record.text, prompt_key: option_list(req, lang)}),
            target=format_value(pick(found, req), lang), input_text=record.text,
            meta={meta_key: req, "decomposed": decompose},
        ))  # fmt: skip
    return out


def format_fields(fields: dict[str, str], lang: str) -> list[str]:
    """``name: value`` lines (zh ``名称：值``); an empty value leaves the slot blank."""
    return [f"{write_key(k)}{COLON[lang]}{v}".rstrip() for k, v in fields.items()]


def clean_fields(fields: dict[str, str], record: Any) -> dict[str, str]:
    out = {}
    for k, v in fields.items():
        key = clean_key(k, record, "field name")
        if key in out:
            raise RenderError(f"{where(record)}: field {key!r} appears twice after normalisation")
        out[key] = normalize_ws(v)
    return out


def parse_fields(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Fields from ``name: value`` lines, and the lines that were not in that shape."""
    fields: dict[str, str] = {}
    bad = []
    for line in lines:
        if not line.strip():
            continue
        kv = split_key(line)
        if kv is None:
            bad.append(line)
        else:
            fields[kv[0]] = normalize_ws(kv[1])
    return fields, bad
