"""What every format reader shares: the quarantine record, errors with context, robust text loading,
incremental JSON parsing and the entity re-slicing check.

Traps handled here once for all readers:
- a UTF-8 BOM is a character: with ``encoding="utf-8"`` it would shift every offset, so the default
  is ``utf-8-sig``; GBK/GB18030 files must be named explicitly (wrong encodings quarantine the file);
- files are decoded from bytes, never opened in universal-newline mode, so ``\\r\\n`` is kept where a
  format's offsets count it (BRAT, BioC);
- ``json.load`` silently keeps the last of duplicate object keys and loses everything on a truncated
  file; ``iter_json_array`` / ``iter_json_object`` parse record by record with line numbers instead;
- one huge record (a 50 MB line) once needed ~9.6 GB in tokenisation: a record over ``max_record_chars``
  (every reader's option) is quarantined with its length as it is read;
- a symlink in the raw folder may point anywhere: given ``allowed_roots``, ``Reader.read`` quarantines
  each input (or file inside an input folder) that resolves outside them, naming link and target.
"""

from __future__ import annotations

import abc
import json
import os
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticSerializationError

from taiyi_core.schema import Entity, Normalization, Source, Span

RAW_LIMIT = 500
#: a record larger than this (characters of its JSON form) is quarantined at read time: ~40x the longest
#: full-text BioC document of the samples, ~400 MB in tokenisation at the ~190 bytes/char measured
MAX_RECORD_CHARS = 2_000_000
#: a file whose lines hold undecodable bytes at most this often has stray bytes (a latin-1 "é" in a UTF-8
#: file): only the records holding one quarantine; more, and the file is in another encoding (quarantined
#: whole, naming the option 'encoding')
STRAY_BYTES_MAX = 0.01


class Quarantined(BaseModel):
    """A raw record that could not become a unified record, and why."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    split: str
    file: str
    line: int | None = None
    record_id: str | None = None
    reason: str
    raw: str = ""


class ReaderError(ValueError):
    """A problem that stops reading (missing file, bad options), named with its context."""

    def __init__(
        self,
        message: str,
        *,
        dataset: str | None = None,
        file: str | Path | None = None,
        line: int | None = None,
        record: str | None = None,
    ) -> None:
        self.dataset, self.file, self.line, self.record = dataset, file, line, record
        where = [
            f"dataset {dataset}" if dataset else "",
            f"file {file}" if file else "",
            f"line {line}" if line is not None else "",
            f"record {record}" if record else "",
        ]
        prefix = ", ".join(w for w in where if w)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ReaderOptions(BaseModel):
    """Base of every reader's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    max_record_chars: int = Field(MAX_RECORD_CHARS, ge=1)  # larger records quarantine with their length


class SkipRecord(Exception):
    """Raised inside a reader's per-record code; the caller turns it into a Quarantined."""


def _writable(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes kept by surrogateescape) as '?': writable UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def truncate(raw: str, limit: int = RAW_LIMIT) -> str:
    return raw if len(raw) <= limit else raw[:limit] + f"... [{len(raw) - limit} more chars]"


@dataclass
class Ctx:
    """The dataset/split/lang a read belongs to, plus the ids seen so far (duplicate check)."""

    dataset: str
    split: str
    lang: str
    seen_ids: set[str] = field(default_factory=set)
    refused: frozenset[Path] = frozenset()  # symlinks resolving outside the allowed roots (never read)

    def files_in(self, paths: list[Path], pattern: str) -> list[Path]:
        """``files_in`` without the refused symlinks (Reader.read has quarantined them)."""
        return [f for f in files_in(paths, pattern) if self.allowed(f)]

    def allowed(self, path: Path) -> bool:
        """Not a refused symlink, nor a file reached through a refused linked folder."""
        return not self.refused or not any(Path(path).is_relative_to(r) for r in self.refused)

    def quarantine(
        self,
        file: str | Path,
        reason: str,
        *,
        line: int | None = None,
        record_id: str | None = None,
        raw: Any = "",
    ) -> Quarantined:
        if not isinstance(raw, str):
            try:
                raw = json.dumps(raw, ensure_ascii=False)
            except (TypeError, ValueError):
                raw = repr(raw)
        return Quarantined(
            dataset=self.dataset,
            split=self.split,
            file=_writable(str(file)),  # a file name with undecodable bytes
            line=line,
            record_id=None if record_id is None else _writable(record_id),
            reason=reason,
            # undecodable bytes kept as lone surrogates (read_text_keeping_bad_bytes) cannot be written
            raw=_writable(truncate(raw)),
        )

    def source(self, file: str | Path, line: int | None = None, record: str | None = None) -> Source:
        return Source(file=str(file), line=line, record=record)

    def common(self, file: str | Path, line: int | None, record_id: str) -> dict[str, Any]:
        """The fields every record of this read carries: id, dataset, split, lang and source."""
        return dict(
            id=record_id,
            dataset=self.dataset,
            split=self.split,
            lang=self.lang,
            source=self.source(file, line, record_id),
        )

    def text_of(
        self, path: Path, encoding: str, *, stray_bytes: bool = False
    ) -> Generator[Quarantined, None, str | None]:
        """The decoded file, or None after yielding its Quarantined when it does not decode.

        ``stray_bytes`` (readers of many records per file that check ``undecodable`` per record): a file
        with undecodable bytes on at most ``STRAY_BYTES_MAX`` of its lines is returned with them kept as
        lone surrogates. For readers' generators: ``text = yield from ctx.text_of(path, opts.encoding)``.
        """
        try:
            return read_text(path, encoding)
        except DecodeFailure as exc:
            if stray_bytes:
                text = read_text_keeping_bad_bytes(path, encoding)
                lines = text.split("\n")
                if sum(1 for ln in lines if undecodable(ln)) <= STRAY_BYTES_MAX * len(lines):
                    return text
            yield self.quarantine(path, str(exc), line=exc.line)
            return None

    def claim_id(self, record_id: str) -> None:
        """Record ids must be unique within one read; a repeat raises SkipRecord."""
        if record_id in self.seen_ids:
            raise SkipRecord(f"duplicate record id {record_id!r}")
        self.seen_ids.add(record_id)


class Reader(abc.ABC):
    """One reader per source format. Subclasses set ``name``, ``Options`` and implement ``_read``."""

    name: ClassVar[str]
    Options: ClassVar[type[ReaderOptions]] = ReaderOptions
    #: whether a path may be a directory (readers of per-document folders)
    accepts_dirs: ClassVar[bool] = False
    #: what ``taiyi catalog check`` sniffs a raw file as (catalog/rawcheck.py reads only its head):
    #: text | json | pubtator | tabular | conll | xml | brat. Files named .xml, .json(l), .xlsx or like
    #: BRAT annotations are sniffed by their suffix whatever the reader.
    raw_kind: ClassVar[str] = "text"
    #: a key every JSON record of this format carries (checked on the first records), if any
    raw_json_key: ClassVar[str | None] = None

    def raw_json_layouts(self, options: dict[str, Any], suffix: str) -> tuple[str, ...]:
        """The JSON layouts (array | object | jsonl) a raw file with this suffix may have."""
        layout = options.get("layout")
        if layout in ("array", "object", "jsonl"):
            return (layout,)
        return ("jsonl",) if suffix == ".jsonl" else ("array", "object", "jsonl")

    def parse_options(self, options: dict | None) -> ReaderOptions:
        try:
            opts = self.Options.model_validate(options or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<options>'}: {err['msg']}" for err in exc.errors()
            )
            allowed = ", ".join(sorted(self.Options.model_fields))
            raise ReaderError(
                f"bad options for reader {self.name!r}: {problems} (allowed keys: {allowed})"
            ) from exc
        problem = opts.check() if hasattr(opts, "check") else None
        if problem:
            raise ReaderError(f"bad options for reader {self.name!r}: {problem}")
        return opts

    def read(
        self,
        paths: list[Path],
        options: dict | None,
        *,
        dataset: str,
        split: str,
        lang: str,
        allowed_roots: list[Path] | None = None,
    ) -> Iterator[Any]:
        """Yield unified records and ``Quarantined`` items; raise ReaderError for missing files.

        ``allowed_roots`` (the data step passes the raw folder and TAIYI_RAW_ALLOW): inputs and files in
        input folders that are symlinks resolving outside all of them are quarantined, never read."""
        opts = self.parse_options(options)
        paths = [Path(p) for p in paths]
        for path in paths:
            if not path.exists():
                raise ReaderError("input file does not exist", dataset=dataset, file=path)
            if path.is_dir() and not self.accepts_dirs:
                raise ReaderError(
                    f"reader {self.name!r} expects files, got a directory", dataset=dataset, file=path
                )
        ctx = Ctx(dataset=dataset, split=split, lang=lang)
        links = links_outside(paths, allowed_roots) if allowed_roots is not None else {}
        ctx.refused = frozenset(links)
        refusals = [
            ctx.quarantine(link, f"symlink resolves outside the raw folder to {target}; not read (add its "
                           "folder to TAIYI_RAW_ALLOW, separated by ':', to read it)")
            for link, target in links.items()
        ]  # fmt: skip
        kept = [p for p in paths if p not in ctx.refused]
        return _bounded(self.name, refusals, self._read(kept, opts, ctx), opts.max_record_chars, ctx)

    @abc.abstractmethod
    def _read(self, paths: list[Path], opts: Any, ctx: Ctx) -> Iterator[Any]:
        """Yield records and ``Quarantined`` items for already-checked paths and options."""


def _bounded(
    reader: str, first: list[Quarantined], stream: Iterator[Any], limit: int, ctx: Ctx
) -> Iterator[Any]:
    """``first``, then the reader's stream with every record over ``limit`` characters (as JSON)
    replaced by its Quarantined: memory downstream (rendering, tokenisation) stays bounded."""
    yield from first
    for obj in stream:
        if not isinstance(obj, Quarantined):
            try:
                size = len(obj.model_dump_json())
            except PydanticSerializationError as exc:  # a lone surrogate (an undecodable byte let through)
                yield ctx.quarantine(obj.source.file, f"record cannot be written as UTF-8: {exc}",
                                     line=obj.source.line, record_id=obj.id)  # fmt: skip
                continue
            if size > limit:
                src = obj.source
                obj = ctx.quarantine(
                    src.file, f"record of {size:,} characters exceeds the limit of {limit:,} (reader "
                    f"{reader!r} option max_record_chars)", line=src.line, record_id=obj.id,
                    raw=obj.id,
                )  # fmt: skip
        yield obj


def links_outside(paths: list[Path], roots: list[Path]) -> dict[Path, Path]:
    """Inputs that resolve under none of ``roots`` (a symlink, or a path through a linked folder, as a
    recursive glob follows them), and the symlinks inside input folders (walked without following
    linked folders) that do: path -> resolved target."""
    resolved_roots = [Path(r).resolve() for r in roots]

    def outside(path: Path) -> Path | None:
        target = path.resolve()
        return None if any(target.is_relative_to(r) for r in resolved_roots) else target

    found: dict[Path, Path] = {}
    for path in paths:
        if (target := outside(path)) is not None:
            found[path] = target
            continue
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                for name in (*dirs, *files):
                    entry = Path(folder) / name
                    if entry.is_symlink() and (target := outside(entry)) is not None:
                        found[entry] = target
    return found


def files_in(paths: list[Path], pattern: str) -> list[Path]:
    """Each path that is a file, and the files matching ``pattern`` in each folder (sorted)."""
    return [f for p in paths for f in (sorted(p.glob(pattern)) if p.is_dir() else [p])]


# ---------------------------------------------------------------- text loading


class DecodeFailure(Exception):
    """A file that does not decode with the requested encoding; carries the 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    """Decode a whole file, keeping ``\\r\\n`` as is (offsets of BRAT/BioC count it)."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DecodeFailure(
            f"not valid {encoding} at byte {exc.start} (line {line}); set the reader option "
            f"'encoding' (e.g. gb18030 for GBK files)",
            line,
        ) from exc


def read_text_keeping_bad_bytes(path: Path, encoding: str = "utf-8-sig") -> str:
    """Decode a whole file; bytes that do not decode become lone surrogates (``surrogateescape``) so a
    reader of many-record files can quarantine only the records that hold one (see ``undecodable``)."""
    return path.read_bytes().decode(encoding, errors="surrogateescape")


def undecodable(text: str) -> str | None:
    """The first undecodable byte of ``text`` as ``0xNN`` (from ``read_text_keeping_bad_bytes``), or None."""
    found = _BAD_BYTE.search(text)  # a regex: this runs on every line of million-line files
    return f"0x{ord(found.group(0)) - 0xDC00:02x}" if found else None


_BAD_BYTE = re.compile("[\udc80-\udcff]")


def split_lines(text: str) -> list[str]:
    """Lines without their terminator (``\\n`` or ``\\r\\n``); a final newline adds no empty line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


# ---------------------------------------------------------------- incremental JSON

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def skip_ws(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON white space."""
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def line_of(text: str, pos: int) -> int:
    """The 1-based line of position ``pos``."""
    return text.count("\n", 0, pos) + 1


@dataclass
class JsonItem:
    index: int
    line: int
    key: str | None
    value: Any = None
    error: str | None = None  # set when this item (and everything after it) could not be parsed
    raw: str = ""


def iter_json_array(text: str) -> Iterator[JsonItem]:
    """Parse a JSON array element by element; a truncated or broken tail yields one error item."""
    return _iter_container(text, "array", "[", "]")


def iter_json_object(text: str) -> Iterator[JsonItem]:
    """Parse a JSON object keyed by id entry by entry (duplicate keys are kept, not overwritten)."""
    return _iter_container(text, "object", "{", "}")


def _object_key(text: str, pos: int) -> tuple[str, int]:
    """Parse ``"key" :`` at ``pos``; the key and the position of its value."""
    key, end = _DECODER.raw_decode(text, pos)
    if not isinstance(key, str):
        raise json.JSONDecodeError("object key must be a string", text, pos)
    end = skip_ws(text, end)
    if end >= len(text) or text[end] != ":":
        raise json.JSONDecodeError("expected ':'", text, end)
    return key, skip_ws(text, end + 1)


def _iter_container(text: str, what: str, opening: str, closing: str) -> Iterator[JsonItem]:
    pos = skip_ws(text, 0)
    if pos >= len(text):
        yield JsonItem(0, 1, None, error=f"empty file (expected a JSON {what})")
        return
    if text[pos] != opening:
        yield JsonItem(
            0,
            line_of(text, pos),
            None,
            error=f"expected a JSON {what}, found {text[pos]!r}",
            raw=text[pos : pos + 200],
        )
        return
    pos = skip_ws(text, pos + 1)
    index = 0
    if pos < len(text) and text[pos] == closing:
        return
    while True:
        start = pos
        key = None
        try:
            if opening == "{":
                key, pos = _object_key(text, pos)
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            resume = _next_element(text, start, exc.pos)
            yield JsonItem(
                index,
                exc.lineno,
                None,
                error=f"invalid JSON: {exc.msg} (line {exc.lineno} col {exc.colno}); "
                + ("reading resumes at the next element" if resume else "rest of file not read"),
                raw=text[start : start + 300],
            )
            if resume is None:
                return
            index, pos = index + 1, resume
            continue
        except RecursionError:  # nesting deeper than Python's JSON decoder can follow
            yield JsonItem(index, line_of(text, start), None, error="JSON nested too deeply to parse; "
                           "rest of file not read", raw=text[start : start + 300])
            return
        yield _checked(JsonItem(index, line_of(text, start), key, value, raw=text[start:pos]))
        index += 1
        pos = skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == closing:
            rest = text[pos + 1 :].strip()
            if rest:
                yield JsonItem(
                    index,
                    line_of(text, pos + 1),
                    None,
                    error=f"trailing data after the JSON {what}",
                    raw=rest[:200],
                )
            return
        yield JsonItem(
            index,
            line_of(text, pos),
            None,
            error=f"truncated JSON {what} (missing ',' or '{closing}'); rest of file not read",
            raw=text[pos : pos + 200],
        )
        return


def _next_element(text: str, start: int, error_at: int) -> int | None:
    """Where the element after a broken one starts in a pretty-printed array or object: the next line
    after the error that starts with the broken element's own indentation and its first character
    (CBLUE's ``\n  {``). None when the file is not laid out one element per indented block."""
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if line_start == 0 or indent.strip() or start >= len(text):
        return None
    marker = "\n" + indent + text[start]
    found = text.find(marker, max(error_at, start + 1))
    return None if found < 0 else found + len(marker) - 1


def _checked(item: JsonItem) -> JsonItem:
    """An element holding an undecodable byte (text from ``Ctx.text_of(stray_bytes=True)``) is an error."""
    bad = undecodable(item.raw)
    if bad:
        return JsonItem(item.index, item.line, item.key, error=f"byte {bad} in this element does not decode "
                        "(reader option 'encoding')", raw=item.raw)  # fmt: skip
    return item


def iter_jsonl(text: str) -> Iterator[JsonItem]:
    """One JSON value per line; blank lines are skipped, a bad line is one error item."""
    index = 0
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield JsonItem(
                index, lineno, None, error=f"invalid JSON line: {exc.msg} (col {exc.colno})", raw=line
            )
        except RecursionError:
            yield JsonItem(index, lineno, None, error="JSON line nested too deeply to parse", raw=line)
        else:
            yield _checked(JsonItem(index, lineno, None, value, raw=line))
        index += 1


# ---------------------------------------------------------------- entities


def check_spans(text: str, spans: Iterable[Span], surface: str | None, *, what: str = "entity") -> str:
    """Re-slice ``spans`` from ``text`` and compare with the stated surface string.

    Returns the slice (fragments joined by one space, as in BRAT/BigBIO). Raises SkipRecord naming the
    problem when a span is empty, reversed or outside the text, or when the slice differs from
    ``surface`` (``None`` = the format states no surface string). Never shifts offsets to make it fit.
    """
    pieces = []
    for start, end in spans:
        if not (0 <= start < end <= len(text)):
            raise SkipRecord(f"{what} span ({start}, {end}) outside the text (length {len(text)}) or empty")
        pieces.append(text[start:end])
    if not pieces:
        raise SkipRecord(f"{what} has no spans")
    sliced = " ".join(pieces)
    if surface is not None and sliced != surface and "".join(pieces) != surface:
        raise SkipRecord(
            f"{what} surface mismatch at {list(spans)}: text has {sliced!r}, annotation says {surface!r}"
        )
    return sliced


def make_entity(
    text: str,
    eid: str,
    etype: str,
    spans: list[Span],
    surface: str | None,
    normalized: list[Normalization] | None = None,
    attributes: dict[str, str] | None = None,
) -> Entity:
    sliced = check_spans(text, spans, surface, what=f"entity {eid}")
    return Entity(
        id=eid,
        type=etype,
        text=sliced,
        spans=[tuple(s) for s in spans],
        normalized=normalized or [],
        attributes=attributes or {},
    )


def check_label(label: str, label_set: list[str] | None, what: str = "label") -> str:
    if label_set and label not in label_set:
        raise SkipRecord(f"unknown {what} {label!r} (expected one of {label_set})")
    return label


def require(obj: Any, key: str, kind: type | tuple[type, ...] | None = None, where: str = "record") -> Any:
    """``obj[key]`` or SkipRecord naming the missing/ill-typed key."""
    if not isinstance(obj, dict):
        raise SkipRecord(f"{where} is {type(obj).__name__}, expected a JSON object")
    if key not in obj:
        raise SkipRecord(f"{where} lacks key {key!r} (has {sorted(obj)})")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SkipRecord(f"{where} key {key!r} is {type(value).__name__}, expected {names}")
    return value
