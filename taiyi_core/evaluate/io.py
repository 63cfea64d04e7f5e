"""Eval-set rows in, predictions out.

``data/eval/<dataset>.jsonl`` (written by curate) holds one instance per line:
{"id","dataset","task","lang","prompt","target","input_text"} and, where the task has one, a
``reference`` object: the gold the offset/id-based scoring definitions need (mention offsets,
concept ids, label options; see taiyi_core/tasks/definitions.py).

``eval/<dataset>/predictions.jsonl`` is appended one finished batch at a time (flush + fsync), so a
killed job loses at most the batch in flight. On restart the ids already present are skipped; a
last line cut off mid-write is detected (no newline, or not JSON) and dropped from the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taiyi_core.digest import sha256_tag, update_from_file

REQUIRED = ("id", "dataset", "task", "lang", "prompt", "target")


class EvalDataError(ValueError):
    """An eval file or predictions file is not what the contract says (file and line named)."""


@dataclass(frozen=True)
class EvalRow:
    id: str
    dataset: str
    task: str
    lang: str
    prompt: str
    target: str
    input_text: str = ""
    reference: dict[str, Any] | None = None


def file_hash(path: Path) -> str:
    """Dataset version recorded in metrics.json: sha256 of the eval file's bytes."""
    h = hashlib.sha256()
    update_from_file(h, path)
    return sha256_tag(h)


def read_eval_rows(path: Path, limit: int | None = None) -> list[EvalRow]:
    if not path.is_file():
        raise EvalDataError(f"{path}: eval file not found (written by the curate step)")
    rows: list[EvalRow] = []
    seen: set[str] = set()
    for lineno, obj in _json_lines(path):
        if not isinstance(obj, dict):
            raise EvalDataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in REQUIRED if k not in obj]
        if missing:
            raise EvalDataError(f"{path}:{lineno}: missing key(s) {', '.join(missing)}; expected {REQUIRED}")
        bad = [k for k in (*REQUIRED, "input_text") if k in obj and not isinstance(obj[k], str)]
        if bad:
            raise EvalDataError(f"{path}:{lineno}: key(s) {', '.join(bad)} must be strings")
        if "reference" in obj and not isinstance(obj["reference"], dict):
            raise EvalDataError(f"{path}:{lineno}: key 'reference' must be an object")
        if obj["id"] in seen:
            raise EvalDataError(f"{path}:{lineno}: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        rows.append(EvalRow(**{k: obj[k] for k in (*REQUIRED, "input_text", "reference") if k in obj}))
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise EvalDataError(f"{path}: no instances")
    tasks = {(r.task, r.lang) for r in rows}
    if len({t for t, _ in tasks}) > 1:
        raise EvalDataError(f"{path}: one eval set must have one task, found {sorted(t for t, _ in tasks)}")
    return rows


def read_id_text(path: Path, text_key: str = "text") -> tuple[dict[str, str], list[str]]:
    """File-level scoring input: lines {"id", text_key}; returns (id -> text, duplicate ids)."""
    if not path.is_file():
        raise EvalDataError(f"{path}: file not found")
    out: dict[str, str] = {}
    dups: list[str] = []
    for lineno, obj in _json_lines(path):
        if not isinstance(obj, dict) or "id" not in obj or text_key not in obj:
            raise EvalDataError(f"{path}:{lineno}: expected an object with keys 'id' and {text_key!r}")
        if not isinstance(obj[text_key], str):
            raise EvalDataError(f"{path}:{lineno}: {text_key!r} must be a string")
        key = str(obj["id"])
        if key in out:
            dups.append(key)
        out[key] = obj[text_key]
    return out, dups


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line; a line that is not JSON raises EvalDataError."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            yield lineno, obj


class PredictionStore:
    """Append-only predictions.jsonl that survives being killed mid-write."""

    def __init__(self, path: Path):
        self.path = path
        self.dropped_partial_line = False

    def load(self) -> dict[str, dict[str, Any]]:
        """Rows already written, by id. Repairs a truncated last line in place (truncates the file)."""
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        rows: dict[str, dict[str, Any]] = {}
        good_end = 0
        pos = 0
        lineno = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            lineno += 1
            end = len(data) if nl < 0 else nl + 1
            chunk = data[pos:end]
            try:
                obj = json.loads(chunk.decode("utf-8")) if chunk.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                obj = ...
            last = end >= len(data)
            if obj is ... or (nl < 0 and chunk.strip()):
                if not last:
                    raise EvalDataError(f"{self.path}:{lineno}: corrupt line in the middle of the file")
                self.dropped_partial_line = True
                break
            if isinstance(obj, dict) and "id" in obj:
                rows[str(obj["id"])] = obj
            elif obj is not None:
                raise EvalDataError(f"{self.path}:{lineno}: expected an object with an 'id'")
            good_end = end
            pos = end
        if good_end < len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
        return rows

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if not blob:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
