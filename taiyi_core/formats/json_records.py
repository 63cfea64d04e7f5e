"""Generic JSON reader with a field mapping (see mapping.py): PubMedQA (object keyed by PMID),
MedQA (JSONL, ``options`` dict A..E, ``answer_idx`` letter), MedMCQA, BioASQ-style arrays, CMB,
huatuo QA, and any JSON array of flat records.

``layout``: ``array`` (JSON array), ``object`` (JSON object keyed by record id; the key is the id
unless ``id_field`` says otherwise) or ``jsonl``. Traps: ``json.load`` keeps only the last of
duplicate keys (here each entry is parsed on its own, so a repeated PMID is quarantined, not
silently overwritten); PubMedQA's test split is a PMID list, not a position; files often lack a
final newline; a truncated file keeps every complete record before the break.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from taiyi_core.formats.base import (
    Ctx,
    Reader,
    SkipRecord,
    iter_json_array,
    iter_json_object,
    iter_jsonl,
)
from taiyi_core.formats.mapping import MappingOptions, build_record, lookup

_PARSERS = {"array": iter_json_array, "object": iter_json_object, "jsonl": iter_jsonl}


class JsonRecordsOptions(MappingOptions):
    layout: Literal["array", "object", "jsonl"]
    encoding: str = "utf-8-sig"


class JsonRecordsReader(Reader):
    name = "json_records"
    Options = JsonRecordsOptions
    raw_kind = "json"

    def _read(self, paths: list[Path], opts: JsonRecordsOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            if text is None:
                continue
            for item in _PARSERS[opts.layout](text):
                if item.error:
                    yield ctx.quarantine(path, item.error, line=item.line, raw=item.raw)
                    continue
                rid = item.key if item.key is not None else f"{path.stem}-{item.index}"
                try:
                    if opts.id_field is not None:
                        rid = str(lookup(item.value, opts.id_field))
                    ctx.claim_id(rid)
                    if not isinstance(item.value, dict):
                        raise SkipRecord(f"record is {type(item.value).__name__}, expected a JSON object")
                    yield build_record(item.value, opts, ctx.common(path, item.line, rid))
                except SkipRecord as exc:
                    yield ctx.quarantine(path, str(exc), line=item.line, record_id=rid, raw=item.raw)
