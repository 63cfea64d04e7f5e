"""Released Taiyi instruction data (Firefly JSONL, ``Taiyi_Instruction_Data_Example.jsonl``):
``{"conversation_id", "category", "dataset", "language", "conversation": [{"human", "assistant"}]}``.

Each line becomes a DialogueRecord (one user/assistant pair per turn). ``category`` (NER, RE, MRD,
QA_choice, ...), the source ``dataset`` key and the raw ``language`` are kept in ``meta``; the
record's ``lang`` is ``language`` when it is ``en``/``zh`` and the reader's ``lang`` otherwise (MT
rows say ``en-zh``/``zh-en``). Traps: ids are ints and repeat across files; an empty turn quarantines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    iter_jsonl,
    require,
)
from taiyi_core.schema import DialogueRecord, Turn


class FireflyOptions(ReaderOptions):
    encoding: str = "utf-8-sig"
    categories: list[str] | None = None  # allowed categories; others quarantine


class FireflyJsonlReader(Reader):
    name = "firefly_jsonl"
    Options = FireflyOptions
    raw_kind = "json"
    raw_json_key = "conversation"

    def raw_json_layouts(self, options: dict[str, Any], suffix: str) -> tuple[str, ...]:
        return ("jsonl",)

    def _read(self, paths: list[Path], opts: FireflyOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)  # a stray byte: its line
            if text is None:
                continue
            for item in iter_jsonl(text):
                if item.error:
                    yield ctx.quarantine(path, item.error, line=item.line, raw=item.raw)
                    continue
                obj = item.value
                rid = (
                    str(obj.get("conversation_id"))
                    if isinstance(obj, dict) and "conversation_id" in obj
                    else None
                )
                try:
                    rid = rid or f"{path.stem}-{item.index}"
                    category = check_label(require(obj, "category", str), opts.categories, "category")
                    turns: list[Turn] = []
                    for n, turn in enumerate(require(obj, "conversation", list), start=1):
                        human = require(turn, "human", str, f"turn {n}")
                        assistant = require(turn, "assistant", str, f"turn {n}")
                        if not human.strip() or not assistant.strip():
                            raise SkipRecord(f"turn {n} has an empty human or assistant text")
                        turns += [Turn(role="user", text=human), Turn(role="assistant", text=assistant)]
                    if not turns:
                        raise SkipRecord("empty conversation")
                    language = str(obj.get("language", ""))
                    ctx.claim_id(rid)
                    yield DialogueRecord(
                        id=rid,
                        dataset=ctx.dataset,
                        split=ctx.split,
                        lang=language if language in ("en", "zh") else ctx.lang,
                        source=ctx.source(path, item.line, rid),
                        turns=turns,
                        meta={
                            "category": category,
                            "source_dataset": str(obj.get("dataset", "")),
                            "language": language,
                        },
                    )
                except SkipRecord as exc:
                    yield ctx.quarantine(path, str(exc), line=item.line, record_id=rid, raw=item.raw)
