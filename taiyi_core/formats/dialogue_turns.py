"""Turn lists of the ``dialogue`` mapping family: source turns -> alternating user/assistant ``Turn``s.

Source dialogues come as a list of strings (roles alternate, starting with ``first_role``), a list of
``{speaker, text}`` objects (``speaker_key``/``text_key``; ``roles`` maps each speaker value to
user/assistant, an unmapped speaker quarantines the dialogue), or several fields read in turn.
Real dialogues break strict alternation: a patient sends two messages in a row, the doctor greets
first, the patient ends with "thanks". Consecutive turns of one role are merged (joined with the
mapping's ``join``); leading assistant turns and trailing user turns are dropped and counted in
``meta["dropped_turns"]``, so that every record is user, assistant, ..., assistant as the dialogue
task requires. A dialogue with no user/assistant exchange left quarantines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taiyi_core.formats.base import SkipRecord
from taiyi_core.schema import Turn

ROLES = ("user", "assistant")


def source_turns(
    items: Any,
    *,
    speaker_key: str | None,
    text_key: str | None,
    roles: Mapping[str, str],
    first_role: str,
) -> list[tuple[str, str]]:
    """(role, text) for each item of a source turn list."""
    if not isinstance(items, list):
        raise SkipRecord(f"turns field is {type(items).__name__}, expected a list")
    out: list[tuple[str, str]] = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, str):
            role = ROLES[(ROLES.index(first_role) + n - 1) % 2]
            out.append((role, item))
            continue
        if not isinstance(item, dict) or speaker_key is None or text_key is None:
            raise SkipRecord(
                f"turn {n} is {type(item).__name__}; object turns need the options speaker_key and text_key"
            )
        if speaker_key not in item or text_key not in item:
            raise SkipRecord(f"turn {n} lacks key {speaker_key!r} or {text_key!r} (has {sorted(item)})")
        speaker, text = str(item[speaker_key]), item[text_key]
        if speaker not in roles:
            raise SkipRecord(f"turn {n}: speaker {speaker!r} not in roles {sorted(roles)}")
        if not isinstance(text, str):
            raise SkipRecord(f"turn {n}: {text_key!r} is {type(text).__name__}, expected text")
        out.append((roles[speaker], text))
    return out


def alternate(turns: list[tuple[str, str]], join: str) -> tuple[list[Turn], int]:
    """Merge same-role runs, drop leading assistant / trailing user turns; (turns, dropped count)."""
    merged: list[list[str]] = []
    for role, text in turns:
        text = text.strip()
        if not text:
            continue
        if merged and merged[-1][0] == role:
            merged[-1][1] += join + text
        else:
            merged.append([role, text])
    dropped = 0
    while merged and merged[0][0] != "user":
        merged.pop(0)
        dropped += 1
    while merged and merged[-1][0] != "assistant":
        merged.pop()
        dropped += 1
    if not merged:
        raise SkipRecord("dialogue has no user turn followed by an assistant turn")
    return [Turn(role=role, text=text) for role, text in merged], dropped
