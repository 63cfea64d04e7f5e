"""CSV / TSV / XLSX reader with a field mapping (see mapping.py): GAD/EU-ADR (TSV, fold train files
without a header), BIOSSES, cMedQA (CSV), Chinese-medical-dialogue-data (GB18030 CSV), CHIP-CTC
``category.xlsx``, MedMCQA CSV exports, and any flat table.

``fields`` name columns by header (``header: true``) or by 0-based index. Traps: GAD fold train
files lack the header their test files have (set ``header`` per split); Chinese CSVs are often
GBK/GB18030 (``encoding``); a UTF-8 BOM would otherwise glue itself to the first column name; a row
with too few columns quarantines (line number = physical line, multi-line quoted cells counted).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from taiyi_core.formats.base import Ctx, DecodeFailure, Reader, SkipRecord, read_text
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

    def _read(self, paths: list[Path], opts: TabularOptions, ctx: Ctx) -> Iterator:
        for path in paths:
            kind = (
                opts.kind
                if opts.kind != "auto"
                else {".tsv": "tsv", ".xlsx": "xlsx"}.get(path.suffix.lower(), "csv")
            )
            try:
                rows = list(
                    _xlsx_rows(path, opts.sheet)
                    if kind == "xlsx"
                    else _text_rows(path, kind, opts.encoding, opts.quoting)
                )
            except DecodeFailure as exc:
                yield ctx.quarantine(path, str(exc), line=exc.line)
                continue
            except (csv.Error, ValueError, KeyError, OSError) as exc:
                yield ctx.quarantine(path, f"unreadable {kind} file: {exc}")
                continue
            header: list[str] | None = None
            if opts.header and rows:
                header = [str(c).strip() for c in rows.pop(0)[1]]
            for index, (line, cells) in enumerate(rows):
                if not any(str(c).strip() for c in cells):
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


def _text_rows(path: Path, kind: str, encoding: str, quoting: bool = True) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(
        io.StringIO(read_text(path, encoding), newline=""),
        delimiter="\t" if kind == "tsv" else ",",
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
    )
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, ["" if v is None else v for v in values]
    finally:
        book.close()
