"""Event extraction: one line per event, ``Type: (Trigger: w, Role: x, Role: y)``.

zh lines read ``类型：(触发词: w, Role: x)``. (Taiyi's repo example closes with a mismatched ``]``;
parse accepts ``]`` too, render writes ``)``.) Events are ordered by trigger position; arguments
keep their annotation order; an argument that points at another event is written as that event's
trigger text. Exact duplicate events are dropped. The event and role types shown are the DATASET's
(``event_types=`` required, ``role_types=``: catalog or the data step's inventory), never the
record's. A trigger or argument text holding ``, `` (or starting with ``"``) is written in double
quotes, quotes doubled (shapes.py); roles must not contain ``:``/``, `` (RenderError). No event renders
``None`` / ``无``.

Scoring (set semantics per instance): headline micro P/R/F1 over (type, trigger) — trigger
identification + classification; ``argument_*`` over (type, trigger, role, argument);
``event_exact_*`` over whole events (type, trigger and the full argument set).
"""

from __future__ import annotations

import random
import re
from typing import Any

from taiyi_core.schema import KBRecord

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
from .metrics import micro_prf_sets, normalize_ws

NAME = "ee"
FAMILIES = ("kb",)
TRIGGER = {"en": "Trigger", "zh": "触发词"}
TRIGGER_WORDS = ("trigger", "触发词")
BODY = re.compile(r"^[(（\[](.*)[)）\]]$")
Event = tuple[str, str, tuple[tuple[str, str], ...]]


def _text(value: str, record: KBRecord, what: str) -> str:
    return shapes.clean_item(value, record, what)


def _write(value: str) -> str:
    return shapes.write_item(value, (", ",))


def gold(x: KBRecord | Instance, *, event_names: dict[str, str] | None = None) -> list[Event]:
    if isinstance(x, Instance):
        return instance_gold(NAME, parse, x)
    names = event_names or {}
    surface = {e.id: e.text for e in x.entities} | {ev.id: ev.trigger.text for ev in x.events}
    events = []
    for ev in sorted(x.events, key=lambda e: min((s[0] for s in e.trigger.spans), default=0)):
        args = []
        for arg in ev.arguments:
            role = normalize_ws(arg.role)
            if not role or ":" in role or "：" in role or ", " in role or role.lower() in TRIGGER_WORDS:
                raise RenderError(f"{shapes.where(x)}: event {ev.id!r} has an unusable role {arg.role!r}")
            if arg.ref not in surface:
                raise RenderError(f"{shapes.where(x)}: event {ev.id!r} argument {arg.ref!r} matches nothing")
            args.append((role, _text(surface[arg.ref], x, f"argument of event {ev.id!r}")))
        etype = shapes.clean_key(names.get(ev.type, ev.type), x, "event type")
        item = (etype, _text(ev.trigger.text, x, f"trigger of event {ev.id!r}"), tuple(args))
        if item not in events:
            events.append(item)
    return events


def format_value(events: list[Event], lang: str) -> str:
    lines = []
    for etype, trigger, args in events:
        parts = [f"{TRIGGER[lang]}: {_write(trigger)}", *(f"{r}: {_write(a)}" for r, a in args)]
        lines.append(f"{shapes.write_key(etype)}{shapes.COLON[lang]}({', '.join(parts)})")
    return "\n".join(lines) if lines else shapes.NONE[lang]


def render(
    record: KBRecord,
    lang: str,
    rng: random.Random,
    *,
    event_types: list[str] | None = None,
    role_types: list[str] | None = None,
    event_names: dict[str, str] | None = None,
) -> list[Instance]:
    check_lang(lang)
    check_family(NAME, FAMILIES, record)
    events = gold(record, event_names=event_names)
    if not event_types:
        raise RenderError(
            f"{shapes.where(record)}: no event type list (pass event_types=: the dataset's, not the record's)"
        )
    names = event_names or {}
    types = list(dict.fromkeys(normalize_ws(names.get(t, t)) for t in event_types))
    roles = list(role_types or [])
    unknown = sorted({e[0] for e in events} - set(types))
    if unknown:
        raise RenderError(f"{shapes.where(record)}: event types {unknown} are not in the type list {types}")
    template = choose_template(NAME, lang, rng)
    return [Instance(
        id=record.id, dataset=record.dataset, task=NAME, lang=lang, template_id=template.id,
        prompt=template.fill(text=record.text, event_types=shapes.option_list(types, lang),
                             role_types=shapes.option_list(roles, lang) or shapes.NONE[lang]),
        target=format_value(events, lang), input_text=record.text,
        meta={"event_types": types, "role_types": roles},
    )]  # fmt: skip


def _event(line: str) -> Event | None:
    kv = shapes.split_key(line)
    m = BODY.match(kv[1].strip()) if kv else None
    if kv is None or not m:
        return None
    inner, pos, parts = m.group(1), 0, []
    while True:
        cut = [k for k in (inner.find(": ", pos), inner.find("：", pos)) if k >= 0]
        if not cut:
            return None
        k = min(cut)
        role = normalize_ws(inner[pos:k])
        value, pos = shapes.read_item(inner, k + (2 if inner.startswith(": ", k) else 1), (", ",))
        parts.append((role, normalize_ws(value)))
        if pos >= len(inner):
            break
        pos += 2  # read_item stopped at ", "
    if normalize_ws(parts[0][0]).lower() not in TRIGGER_WORDS:
        return None
    return (kv[0], parts[0][1], tuple(parts[1:]))


def parse(text: str, lang: str) -> Parsed:
    stripped = text.strip()
    if not stripped:
        return Parsed([], ok=False, error="empty output")
    if shapes.is_none(stripped, lang):
        return Parsed([])
    events: list[Event] = []
    bad = []
    for line in stripped.splitlines():
        if not line.strip():
            continue
        ev = _event(line)
        if ev is None:
            bad.append(line)
        elif ev not in events:
            events.append(ev)
    return Parsed(
        events, ok=not bad, error=f"lines not 'Type: (Trigger: w, Role: x)': {bad[:3]}" if bad else ""
    )


def score(golds: list[list[Event]], preds: list[Parsed], inputs: list[str] | None = None) -> dict:
    check_lengths(golds, preds, inputs)
    pv = [p.value or [] for p in preds]
    out: dict[str, Any] = {"n": len(golds), "main": "f1", "parse_failures": parse_failures(preds)}
    out.update(
        micro_prf_sets([[(t, w) for t, w, _ in g] for g in golds], [[(t, w) for t, w, _ in p] for p in pv])
    )
    arg = micro_prf_sets(
        [[(t, w, r, a) for t, w, args in g for r, a in args] for g in golds],
        [[(t, w, r, a) for t, w, args in p for r, a in args] for p in pv],
    )
    out.update({f"argument_{k}": arg[k] for k in ("precision", "recall", "f1")})
    exact = micro_prf_sets(
        [[(t, w, frozenset(args)) for t, w, args in g] for g in golds],
        [[(t, w, frozenset(args)) for t, w, args in p] for p in pv],
    )
    out.update({f"event_exact_{k}": exact[k] for k in ("precision", "recall", "f1")})
    return out
