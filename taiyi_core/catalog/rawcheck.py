"""Check raw files under data/raw/<name>/ against a catalog entry: present, missing or malformed.

Present means every split's required globs match at least one file. Malformed means the files exist
but fail a cheap sniff test (empty, undecodable, wrong top-level JSON type, missing header columns,
not XML, not PubTator ...). Only the head of each file is read (whole files only when small), and at
most ``MAX_FILES_SNIFFED`` files per glob, so a check over all 140 datasets stays fast.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from taiyi_core.catalog import Dataset
from taiyi_core.catalog.download import FETCH_RECORD

Status = Literal["present", "missing", "malformed"]

HEAD_BYTES = 64 * 1024
FULL_PARSE_LIMIT = 4 * 1024 * 1024  # JSON/XML files up to this size are parsed whole
MAX_FILES_SNIFFED = 25

_PUBTATOR_LINE = re.compile(r"^[^|\t]+\|[ta]\|")
_BRAT_LINE = re.compile(r"^([TREAMN]\d+\w*|\*|#\d*)\t")  # Verspoor 2013: T2_cancer, R16_m


@dataclass
class SplitCheck:
    split: str
    files: list[str] = field(default_factory=list)  # matched paths, relative to the dataset folder
    missing: list[str] = field(default_factory=list)  # required globs that matched nothing


@dataclass
class DatasetCheck:
    name: str
    folder: Path
    status: Status
    splits: list[SplitCheck]
    problems: list[str] = field(default_factory=list)  # "file: reason" for malformed files

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "folder": str(self.folder),
            "status": self.status,
            "splits": {s.split: {"files": len(s.files), "missing_globs": s.missing} for s in self.splits},
            "problems": self.problems,
        }


def check_dataset(ds: Dataset, raw_dir: Path) -> DatasetCheck:
    folder = raw_dir / ds.name
    splits: list[SplitCheck] = []
    primary: list[Path] = []  # files matched by each split's first glob: sniffed with the reader's rules
    auxiliary: list[Path] = []  # the others (split lists, side tables): sniffed as plain text
    for split in ds.files:
        sc = SplitCheck(split)
        required = ds.raw_globs(split)
        if split in ds.split_lists:  # the split's document-id list is required too
            required = [*required, [ds.split_lists[split]]]
        for i, alternatives in enumerate(required):
            matched = _match(folder, alternatives) if folder.is_dir() else []
            if not matched:
                sc.missing.append("|".join(alternatives))
                continue
            sc.files.extend(str(p.relative_to(folder)) for p in matched)
            (primary if i == 0 else auxiliary).extend(matched[:MAX_FILES_SNIFFED])
        splits.append(sc)
    if any(s.missing for s in splits):
        return DatasetCheck(ds.name, folder, "missing", splits)
    problems = []
    encoding = ds.reader_options.get("encoding", "utf-8")
    checks = [(p, lambda p: sniff(p, ds)) for p in dict.fromkeys(primary)]
    checks += [(p, lambda p: _sniff_text(p, encoding)) for p in dict.fromkeys(auxiliary) if p not in primary]
    for path, test in checks:
        try:
            reason = test(path)
        except Exception as exc:  # a sniff must report, never crash the whole check
            reason = f"could not be checked: {type(exc).__name__}: {exc}"
        if reason:
            problems.append(f"{path.relative_to(folder)}: {reason}")
    return DatasetCheck(ds.name, folder, "malformed" if problems else "present", splits, problems)


def _match(folder: Path, alternatives: list[str]) -> list[Path]:
    for pattern in alternatives:
        found = sorted(p for p in folder.glob(pattern) if p.is_file() and p.name != FETCH_RECORD)
        if found:
            return found
    return []


def sniff(path: Path, ds: Dataset) -> str | None:
    """Why ``path`` does not look like what ``ds.reader`` reads, or None when it looks fine.

    The reader says what its files look like (``raw_kind``, ``raw_json_layouts``, ``raw_json_key``);
    a few suffixes are sniffed as what they name whatever the reader.
    """
    from taiyi_core.formats import get_reader

    reader = get_reader(ds.reader)
    opts = ds.reader_options
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
    if suffix == ".xlsx":
        return _sniff_xlsx(path, opts)
    if suffix in (".ann", ".a1", ".a2", ".rel"):
        return _sniff_brat(path)
    if reader.raw_kind == "brat" and suffix == ".txt":
        return _sniff_brat_document(path, opts.get("suffixes") or [".ann"], opts.get("annotations_in", "."))
    encoding = opts.get("encoding", "utf-8")
    if suffix == ".xml":
        return _sniff_xml(path)
    if suffix in (".json", ".jsonl") or reader.raw_kind == "json":
        layouts = reader.raw_json_layouts(opts, suffix)
        return _sniff_json(path, layouts, encoding, need_key=reader.raw_json_key)
    sniffers = {
        "pubtator": lambda: _sniff_pubtator(path, encoding),
        "tabular": lambda: _sniff_tabular(path, opts, encoding),
        "conll": lambda: _sniff_conll(path, encoding),
        "xml": lambda: _sniff_xml(path),
    }
    return sniffers.get(reader.raw_kind, lambda: _sniff_text(path, encoding))()


def _read_head(path: Path, limit: int = HEAD_BYTES) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read(limit)


def _decode_head(path: Path, encoding: str) -> tuple[str | None, str | None]:
    """(text, None) for the decoded head of the file, or (None, reason)."""
    try:
        if path.stat().st_size == 0:
            return None, "empty file"
        raw = _read_head(path)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if not raw.strip():
        return None, "empty file (whitespace only)"
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        text = decoder.decode(raw, final=len(raw) < HEAD_BYTES)
    except LookupError:
        return None, f"unknown encoding {encoding!r} in reader_options"
    except UnicodeDecodeError as exc:
        return None, f"not decodable as {encoding} (byte {exc.start})"
    return text.lstrip("\ufeff"), None


def _sniff_text(path: Path, encoding: str) -> str | None:
    return _decode_head(path, encoding)[1]


def _first_lines(text: str, n: int) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()][:n]


def _sniff_json(path: Path, kinds: tuple[str, ...], encoding: str, need_key: str | None = None) -> str | None:
    text, reason = _decode_head(path, encoding)
    if reason:
        return reason
    assert text is not None
    first = text.lstrip()[:1]
    names = {"[": "array", "{": "object"}
    if "jsonl" in kinds and first == "{":
        line = text.lstrip().splitlines()[0]
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if line == text.lstrip() and path.stat().st_size > HEAD_BYTES:
                return None  # the first line is longer than the head we read: cannot judge cheaply
            obj = None
        if isinstance(obj, dict):
            if need_key and need_key not in obj:
                return f"first JSON line has no {need_key!r} key"
            return None
        if "object" not in kinds:
            return "expected JSON Lines (one object per line); the first line is not a JSON object"
    found = names.get(first)
    if found is None:
        return f"not JSON (starts with {text.lstrip()[:20]!r})"
    if found not in kinds:
        return f"wrong top-level JSON type: {found}, expected {' or '.join(kinds)}"
    if path.stat().st_size <= FULL_PARSE_LIMIT and path.suffix.lower() != ".gz":
        try:
            json.loads(path.read_text(encoding=encoding))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return f"invalid JSON: {exc}"
    return None


def _sniff_xml(path: Path) -> str | None:
    text, reason = _decode_head(path, "utf-8")
    if reason:
        return reason
    assert text is not None
    if not text.lstrip().startswith("<"):
        return f"not XML (starts with {text.lstrip()[:20]!r})"
    if path.stat().st_size <= FULL_PARSE_LIMIT and path.suffix.lower() != ".gz":
        from lxml import etree

        try:
            etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            return f"invalid XML: {exc}"
    return None


def _sniff_pubtator(path: Path, encoding: str) -> str | None:
    text, reason = _decode_head(path, encoding)
    if reason:
        return reason
    assert text is not None
    first = _first_lines(text, 1)[0]
    if not _PUBTATOR_LINE.match(first):
        return f"not PubTator: first line should be 'PMID|t|title', got {first[:40]!r}"
    return None


def _sniff_conll(path: Path, encoding: str) -> str | None:
    text, reason = _decode_head(path, encoding)
    if reason:
        return reason
    assert text is not None
    for line in _first_lines(text, 20):
        if line.startswith(("-DOCSTART-", "###", "#")):
            continue
        if len(line.split()) < 2:
            return f"not CoNLL: expected 'token<TAB>tag' lines, got {line[:40]!r}"
        return None
    return None


def _sniff_brat(path: Path, txt: Path | None = None) -> str | None:
    """An annotation file; ``txt`` is its document when it is not beside it (option annotations_in)."""
    txt = txt or path.with_suffix(".txt")
    if not txt.is_file():
        return f"no matching text file {txt.name}"
    reason = _sniff_text(txt, "utf-8")
    if reason:
        return f"{txt.name}: {reason}"
    if path.stat().st_size == 0:
        return None  # documents without annotations are legal
    text, reason = _decode_head(path, "utf-8")
    if reason:
        return reason
    assert text is not None
    for line in _first_lines(text, 50):
        if not _BRAT_LINE.match(line):
            return f"not brat standoff: unexpected line {line[:40]!r}"
    return None


def _sniff_brat_document(txt: Path, suffixes: list[str], annotations_in: str = ".") -> str | None:
    """A brat/BioNLP-ST document: its text decodes and the annotation files beside it look like standoff.

    Only the first suffix is required: BioNLP-ST test releases hold back the ``.a2`` files.
    """
    reason = _sniff_text(txt, "utf-8") if txt.stat().st_size else None
    if reason:
        return reason
    for n, suffix in enumerate(suffixes):
        ann = (txt.parent / annotations_in / txt.name).with_suffix(suffix)
        if not ann.is_file():
            if n == 0:
                return f"no matching annotation file {ann.name}"
            continue
        reason = _sniff_brat(ann, txt)
        if reason:
            return f"{ann.name}: {reason}"
    return None


def _expected_columns(opts: dict) -> list[str]:
    """Header names the tabular mapping reads (``fields``, ``meta_fields``, ``id_field``, ``answer_text``)."""
    if not opts.get("header", True):
        return []
    cols = [*(opts.get("fields") or {}).values(), *(opts.get("meta_fields") or {}).values(),
            opts.get("id_field"), opts.get("answer_text")]
    return list(dict.fromkeys(c for c in cols if isinstance(c, str)))


def _sniff_tabular(path: Path, opts: dict, encoding: str) -> str | None:
    text, reason = _decode_head(path, encoding)
    if reason:
        return reason
    assert text is not None
    kind = opts.get("kind", "auto")
    tsv = kind == "tsv" or (kind == "auto" and path.suffix.lower() == ".tsv")
    sep = "\t" if tsv else ","
    header = text.splitlines()[0]
    fields = [f.strip().strip('"') for f in header.split(sep)]
    missing = [c for c in _expected_columns(opts) if c not in fields]
    if missing:
        return f"missing header column(s) {missing} (header: {fields[:10]})"
    if len(fields) < 2:
        return f"expected {sep!r}-separated columns, got {header[:40]!r}"
    return None


def _sniff_xlsx(path: Path, opts: dict) -> str | None:
    if path.stat().st_size == 0:
        return "empty file"
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
        rows = wb.worksheets[0].iter_rows(max_row=1, values_only=True)
        header = [str(v).strip() for v in next(rows, ()) if v is not None]
        wb.close()
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        return f"not a readable XLSX workbook: {type(exc).__name__}: {exc}"
    missing = [c for c in _expected_columns(opts) if c not in header]
    if missing:
        return f"missing header column(s) {missing} (header: {header[:10]})"
    return None


def download_hint(ds: Dataset, raw_dir: Path) -> list[str]:
    """Human instructions: where to get the data and exactly where to put it."""
    access = {"public": "public download", "registration": "needs an account / registration",
              "dua": "needs a signed data-use agreement (DUA)"}[ds.access]
    dl = ds.download
    if ds.access == "public" and dl is not None and dl.fetchable:
        steps = f" (downloads the pinned files, then converts: {', '.join(c.step for c in dl.convert)})" \
            if dl.convert else " (downloads the pinned files)"
        lines = [f"fetch it: taiyi data fetch {ds.name}{steps}; licence: {ds.licence}"]
    else:
        lines = [f"get it from {ds.url} ({access}; licence: {ds.licence})"]
        if dl is not None and dl.by_hand and ds.access == "public":
            lines.append(f"not fetched automatically: {dl.by_hand}")
        lines.append(f"then: taiyi data add {ds.name} PATH (checks, unpacks, converts what you downloaded)")
    if ds.prepare:
        lines.append(f"then: {ds.prepare}")
    for split in ds.files:
        for alternatives in ds.raw_globs(split):
            shown = " or ".join(_place(raw_dir / ds.name, a) for a in alternatives)
            lines.append(f"{split}: {shown}")
    return lines


def _place(folder: Path, pattern: str) -> str:
    if pattern.startswith("**/"):
        return f"{folder / pattern[3:]} (directly or in any subfolder)"
    return str(folder / pattern)
