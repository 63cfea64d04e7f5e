"""CSV / TSV / XLSX reader with a field mapping (see mapping.py): GAD/EU-ADR (TSV, fold train files
without a header), BIOSSES, cMedQA (CSV), Chinese-medical-dialogue-data (GB18030 CSV), CHIP-CTC
``category.xlsx``, MedMCQA CSV exports, and any flat table.

``fields`` name columns by header (``header: true``) or by 0-based index. Traps: GAD fold train
files lack the header their test files have (set ``header`` per split); Chinese CSVs are often
GBK/GB18030 (``encoding``); a UTF-8 BOM would otherwise glue itself to the first column name; a row
with too few columns quarantines (line number = physical line, multi-line quoted cells counted); an
unclosed or stray quote quarantines its record and reading resumes on the next line (the csv module
would otherwise swallow every later row into one cell).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from taiyi_core.formats.base import Ctx, Reader, SkipRecord, undecodable
from taiyi_core.formats.mapping import MappingOptions, build_record, lookup


class TabularOptions(MappingOptions):
    kind: Literal["csv", "tsv", "xlsx", "auto"] = "auto"
    header: bool = True
    encoding: str = "utf-8-sig"
    sheet: str | None = None  # xlsx sheet name (default: the first)
    quoting: bool = True  # false: '"' is an ordinary character (EHR-Rel cells contain a lone '"')


class TabularReader(Reader):
    name = "tabular"
    Options = TabularOptions
    raw_kind = "tabular"

    def _read(self, paths: list[Path], opts: TabularOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            kind = (
                opts.kind
                if opts.kind != "auto"
                else {".tsv": "tsv", ".xlsx": "xlsx"}.get(path.suffix.lower(), "csv")
            )
            text = None
            if kind != "xlsx":
                text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)  # a stray byte: its row
                if text is None:
                    continue
            try:
                rows = list(
                    _xlsx_rows(path, opts.sheet) if text is None else _text_rows(text, kind, opts.quoting)
                )
            except (csv.Error, ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:  # xlsx = a zip
                yield ctx.quarantine(path, f"unreadable {kind} file: {type(exc).__name__}: {exc}")
                continue
            header: list[str] | None = None
            if opts.header and rows:
                line, first = rows.pop(0)
                if isinstance(first, BadRow):
                    yield ctx.quarantine(path, f"header: {first.reason}", line=line, raw=first.raw)
                    continue
                header = [str(c).strip() for c in first]
            for index, (line, cells) in enumerate(rows):
                if isinstance(cells, BadRow):
                    yield ctx.quarantine(
                        path, cells.reason, line=line, record_id=f"{path.stem}-{index}", raw=cells.raw
                    )
                    continue
                if not any(str(c).strip() for c in cells):
                    continue
                if bad := undecodable("".join(map(str, cells))):
                    reason = f"byte {bad} in this row is not valid {opts.encoding} (reader option 'encoding')"
                    raw = "\t".join(map(str, cells))
                    yield ctx.quarantine(path, reason, line=line, record_id=f"{path.stem}-{index}", raw=raw)
                    continue
                row: Any = dict(zip(header, cells, strict=False)) if header else list(cells)
                rid = f"{path.stem}-{index}"
                try:
                    if header and len(cells) < len(header):
                        raise SkipRecord(f"row has {len(cells)} columns, header has {len(header)}")
                    if opts.id_field is not None:
                        rid = str(lookup(row, opts.id_field))
                    ctx.claim_id(rid)
                    yield build_record(row, opts, ctx.common(path, line, rid))
                except SkipRecord as exc:
                    yield ctx.quarantine(
                        path, str(exc), line=line, record_id=rid, raw="\t".join(map(str, cells))
                    )


@dataclass(frozen=True)
class BadRow:
    """A record the csv module refuses (an unclosed quote, a stray quote): quarantined, reading goes on."""

    reason: str
    raw: str


def _text_rows(text: str, kind: str, quoting: bool = True) -> Iterator[tuple[int, list[str] | BadRow]]:
    """Rows with the line each starts on. Parsed strictly, so that an unclosed quote does not swallow
    the rest of the file into one cell: the record where the error starts is a ``BadRow`` and parsing
    resumes on the next line."""
    parts = text.split("\n")  # physical lines as csv counts them (not str.splitlines)
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    first = 0  # index into lines where the current parse starts
    while first < len(lines):
        reader = csv.reader(
            io.StringIO("".join(lines[first:]), newline=""),
            delimiter="\t" if kind == "tsv" else ",",
            quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
            strict=True,
        )
        start = 1  # line (within this parse) where the next record starts
        try:
            for cells in reader:
                yield first + start, cells
                start = reader.line_num + 1
            return
        except csv.Error as exc:
            bad = first + start - 1
            yield (
                bad + 1,
                BadRow(
                    f"line {bad + 1}: bad quoting in this record ({exc}); the lines after it "
                    "are read again as new records",
                    lines[bad].rstrip("\r\n"),
                ),
            )
            first = bad + 1


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, ["" if v is None else v for v in values]
    finally:
        book.close()
