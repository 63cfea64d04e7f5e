"""BioC JSON reader (BioRED ``*.BioC.JSON``, PubTator Central / PubTator3 exports, bioc JSON lines).

Same hierarchy as BioC XML with lowercase keys: ``{"source", "date", "key", "infons", "documents":
[{"id", "infons", "passages": [{"offset", "infons", "text", "sentences", "annotations": [{"id",
"infons", "text", "locations": [{"offset", "length"}]}], "relations"}], "relations": [{"id", "infons",
"nodes": [{"refid", "role"}]}]}]}``. ``layout``: ``collection`` (that object; ``documents_key`` names
the list, e.g. ``PubTator3`` for the PubTator3 API), ``array`` (a JSON array of documents) or
``jsonl`` (one document per line, as ``bioc.biocjson.iterwriter`` and PubTator Central write).

Each document is checked and completed here, then built with ``bioc.biocjson.parse_doc``. Why not
``bioc.biocjson.load``: ``json.load`` loses every document of a truncated file and keeps only the last
of duplicate keys, and ``parse_doc`` raises a bare ``KeyError`` for a passage without ``sentences`` or
``relations`` (PubTator exports omit them) and for a collection without ``key``. Documents are parsed
one by one with their line numbers instead; ids may be numbers (PubTator3) and infon values numbers
or ``null``. A stray undecodable byte (``STRAY_BYTES_MAX``) quarantines the document holding it; more,
and the file is quarantined whole (option ``encoding``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from bioc.biocjson.decoder import parse_doc

from taiyi_core.formats.base import (
    Ctx,
    JsonItem,
    Reader,
    SkipRecord,
    iter_json_array,
    iter_jsonl,
    line_of,
    require,
    skip_ws,
    undecodable,
)
from taiyi_core.formats.bioc_common import BiocOptions, to_record

_DECODER = json.JSONDecoder()


class BiocJsonOptions(BiocOptions):
    layout: Literal["collection", "array", "jsonl"] = "collection"
    documents_key: str = "documents"
    encoding: str = "utf-8-sig"


class BiocJsonReader(Reader):
    name = "bioc_json"
    Options = BiocJsonOptions
    raw_kind = "json"

    def _read(self, paths: list[Path], opts: BiocJsonOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            if text is None:
                continue
            items = {
                "collection": lambda t: iter_collection(t, opts.documents_key),
                "array": iter_json_array,
                "jsonl": iter_jsonl,
            }[opts.layout](text)
            for item in items:
                doc_id = _doc_id(item.value)
                if item.error:
                    yield ctx.quarantine(path, item.error, line=item.line, record_id=doc_id, raw=item.raw)
                    continue
                if bad := undecodable(item.raw):  # array/jsonl items are checked by base; collection here
                    why = f"byte {bad} in this document does not decode (reader option 'encoding')"
                    yield ctx.quarantine(path, why, line=item.line, record_id=doc_id, raw=item.raw)
                    continue
                try:
                    doc = parse_doc(_complete(item.value))
                    yield to_record(doc, opts, ctx, ctx.source(path, item.line, doc_id))
                except SkipRecord as exc:
                    yield ctx.quarantine(path, str(exc), line=item.line, record_id=doc_id, raw=item.raw)


def _doc_id(value: Any) -> str | None:
    if (
        isinstance(value, dict)
        and isinstance(value.get("id"), str | int)
        and not isinstance(value["id"], bool)
    ):
        return str(value["id"])
    return None


def iter_collection(text: str, documents_key: str = "documents") -> Iterator[JsonItem]:
    """The documents of a BioC JSON collection one by one; a broken document ends the walk."""
    pos = skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "{":
        found = repr(text[pos]) if pos < len(text) else "an empty file"
        yield JsonItem(0, line_of(text, pos), None, error=f"expected a BioC collection object, found {found}")
        return
    pos = skip_ws(text, pos + 1)
    index = 0
    found_documents = False
    while pos < len(text) and text[pos] != "}":
        try:
            key, pos = _DECODER.raw_decode(text, pos)
            pos = skip_ws(text, pos)
            if text[pos : pos + 1] != ":":
                raise json.JSONDecodeError("expected ':'", text, pos)
            pos = skip_ws(text, pos + 1)
            if key != documents_key:
                _, pos = _DECODER.raw_decode(text, pos)
            else:
                found_documents = True
                if text[pos : pos + 1] != "[":
                    raise json.JSONDecodeError(f"{documents_key!r} is not a list", text, pos)
                pos = skip_ws(text, pos + 1)
                while pos < len(text) and text[pos] != "]":
                    start = pos
                    value, pos = _DECODER.raw_decode(text, pos)
                    yield JsonItem(index, line_of(text, start), None, value, raw=text[start:pos])
                    index += 1
                    pos = skip_ws(text, pos)
                    if text[pos : pos + 1] == ",":
                        pos = skip_ws(text, pos + 1)
                    elif text[pos : pos + 1] != "]":
                        raise json.JSONDecodeError("expected ',' or ']' after a document", text, pos)
                pos += 1
            pos = skip_ws(text, pos)
            if text[pos : pos + 1] == ",":
                pos = skip_ws(text, pos + 1)
            elif text[pos : pos + 1] != "}":
                raise json.JSONDecodeError("expected ',' or '}'", text, pos)
        except json.JSONDecodeError as exc:
            yield JsonItem(
                index,
                exc.lineno,
                None,
                error=f"invalid or truncated JSON: {exc.msg} (line {exc.lineno} col {exc.colno}); "
                "rest of file not read",
                raw=text[exc.pos : exc.pos + 300],
            )
            return
    if pos >= len(text):
        yield JsonItem(
            index, line_of(text, pos), None, error="truncated JSON: collection object never closed"
        )
    elif not found_documents:
        yield JsonItem(index, 1, None, error=f"collection has no {documents_key!r} list")


def _complete(doc: Any) -> dict:
    """Check one document's required keys and add the optional ones ``parse_doc`` insists on."""
    require(doc, "id", (str, int), "document")
    out: dict[str, Any] = {
        "id": str(doc["id"]),
        "infons": _infons(doc.get("infons"), "document"),
        "passages": [],
        "annotations": [_annotation(a, "document") for a in _list(doc, "annotations", "document")],
        "relations": [_relation(r, "document") for r in _list(doc, "relations", "document")],
    }
    for n, passage in enumerate(require(doc, "passages", list, "document")):
        where = f"passage {n}"
        offset = require(passage, "offset", int, where)
        completed: dict[str, Any] = {
            "offset": offset,
            "infons": _infons(passage.get("infons"), where),
            "sentences": [],
            "annotations": [_annotation(a, where) for a in _list(passage, "annotations", where)],
            "relations": [_relation(r, where) for r in _list(passage, "relations", where)],
        }
        if passage.get("text") is not None:
            completed["text"] = require(passage, "text", str, where)
        for m, sentence in enumerate(_list(passage, "sentences", where)):
            swhere = f"{where} sentence {m}"
            completed["sentences"].append(
                {
                    "offset": require(sentence, "offset", int, swhere),
                    "infons": _infons(sentence.get("infons"), swhere),
                    "text": sentence.get("text") if isinstance(sentence.get("text"), str) else "",
                    "annotations": [_annotation(a, swhere) for a in _list(sentence, "annotations", swhere)],
                    "relations": [_relation(r, swhere) for r in _list(sentence, "relations", swhere)],
                }
            )
        out["passages"].append(completed)
    return out


def _list(obj: dict, key: str, where: str) -> list:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SkipRecord(f"{where} key {key!r} is {type(value).__name__}, expected a list")
    return value


def _infons(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SkipRecord(f"{where} infons are {type(value).__name__}, expected an object")
    return {
        str(k): v if isinstance(v, str) else json.dumps(v)
        for k, v in value.items()
        if v is not None and not isinstance(v, dict | list)
    }


def _annotation(ann: Any, where: str) -> dict:
    aid = require(ann, "id", (str, int), f"annotation in {where}")
    what = f"annotation {aid}"
    locations = []
    for loc in require(ann, "locations", list, what):
        locations.append(
            {
                "offset": require(loc, "offset", int, f"{what} location"),
                "length": require(loc, "length", int, f"{what} location"),
            }
        )
    text = ann.get("text")
    if text is not None and not isinstance(text, str):
        raise SkipRecord(f"{what} text is {type(text).__name__}, expected a string")
    return {"id": str(aid), "infons": _infons(ann.get("infons"), what), "text": text, "locations": locations}


def _relation(rel: Any, where: str) -> dict:
    rid = require(rel, "id", (str, int), f"relation in {where}")
    nodes = [
        {
            "refid": str(require(node, "refid", (str, int), f"relation {rid} node")),
            "role": str(node.get("role") or ""),
        }
        for node in _list(rel, "nodes", f"relation {rid}")
    ]
    return {"id": str(rid), "infons": _infons(rel.get("infons"), f"relation {rid}"), "nodes": nodes}
