"""Tables of a Word ``.docx`` (a zip holding ``word/document.xml``) and members of a RAR, read in memory.

Releases that ship their data as Word tables inside a RAR (BIOSSES) are read here without unpacking to
disk: the RAR through libarchive (``libarchive-c`` over the system ``libarchive13``, which reads RAR4
and RAR5), each ``.docx`` with lxml. Cell text is the text of its runs as Word shows it: paragraphs
and line breaks become one space, tabs a space, deleted text (``w:delText``) is left out, no-break
hyphens are ``-`` and soft hyphens vanish; the ends are stripped, inner spacing is kept as released.
"""

from __future__ import annotations

import fnmatch
import io
import zipfile

from lxml import etree

from taiyi_core.fetch.errors import FetchError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_MEMBER_BYTES = 64 << 20  # a release member read into memory; a Word table of pairs is far smaller
RAR4_SIGNATURE = b"Rar!\x1a\x07\x00"
RAR5_SIGNATURE = b"Rar!\x1a\x07\x01\x00"
_SPACE = {f"{W}tab", f"{W}br", f"{W}cr"}


def rar_members(archive_bytes: bytes, name: str, patterns: list[str]) -> dict[str, bytes]:
    """pattern -> the bytes of the one member of the RAR matching it (``name`` is for messages)."""
    try:
        import libarchive  # the binding loads libarchive.so at import: only where a RAR is read
    except (OSError, AttributeError) as exc:  # no libarchive.so: ctypes loads nothing, symbols are missing
        raise FetchError(f"{name}: reading a RAR needs the system libarchive (Debian: apt-get install "
                         f"libarchive13): {exc}") from None

    if archive_bytes.startswith(RAR5_SIGNATURE):
        fmt = "rar5"
    elif archive_bytes.startswith(RAR4_SIGNATURE):
        fmt = "rar"
    else:
        raise FetchError(f"{name}: not a RAR archive (it does not start with the RAR signature 'Rar!')")
    found: dict[str, list[tuple[str, bytes]]] = {p: [] for p in patterns}
    try:
        with libarchive.memory_reader(archive_bytes, format_name=fmt) as entries:
            for entry in entries:
                if not entry.isfile:
                    continue
                wanted = [p for p in patterns if fnmatch.fnmatchcase(entry.pathname, p)]
                if not wanted:
                    continue
                if (entry.size or 0) > MAX_MEMBER_BYTES:
                    raise FetchError(f"{name}: member {entry.pathname!r} is {entry.size:,} bytes, more than "
                                     f"{MAX_MEMBER_BYTES:,}; refused")
                data = b"".join(entry.get_blocks())
                for p in wanted:
                    found[p].append((entry.pathname, data))
    except libarchive.ArchiveError as exc:
        raise FetchError(f"{name}: not a readable RAR archive: {exc}") from None
    out = {}
    for p, hits in found.items():
        if len(hits) != 1:
            raise FetchError(f"{name}: member pattern {p!r} matches {len(hits)} members "
                             f"{[h[0] for h in hits][:5]} (expected one)")
        out[p] = hits[0][1]
    return out


def _cell_text(cell: etree._Element) -> str:
    paragraphs = []
    for p in cell.iter(f"{W}p"):
        parts = []
        for el in p.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}noBreakHyphen"):
            if el.tag == f"{W}t":
                parts.append(el.text or "")
            elif el.tag in _SPACE:
                parts.append(" ")
            else:
                parts.append("-")
        paragraphs.append("".join(parts).replace("\u00ad", ""))
    return " ".join(t for t in paragraphs if t.strip()).strip()


def docx_tables(data: bytes, name: str) -> list[list[list[str]]]:
    """Every top-level table of the document body, as rows of cell texts."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            xml = zf.read("word/document.xml")
    except zipfile.BadZipFile:
        raise FetchError(f"{name}: not a .docx (not a zip archive)") from None
    except KeyError:
        raise FetchError(f"{name}: not a .docx (no word/document.xml inside)") from None
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"{name}: word/document.xml is not well-formed XML: {exc}") from None
    body = root.find(f"{W}body")
    tables = body.findall(f"{W}tbl") if body is not None else []
    return [[[_cell_text(tc) for tc in tr.findall(f"{W}tc")] for tr in tbl.findall(f"{W}tr")]
            for tbl in tables]


def find_table(data: bytes, name: str, header: list[str]) -> list[list[str]]:
    """The body rows (header row dropped) of the one table whose first row is ``header`` (compared
    case- and space-insensitively); a missing table, or a row with another number of cells, is refused."""
    def norm(cells: list[str]) -> list[str]:
        return [" ".join(c.split()).casefold() for c in cells]

    tables = docx_tables(data, name)
    hits = [t for t in tables if t and norm(t[0]) == norm(header)]
    if len(hits) != 1:
        seen = [t[0] for t in tables if t][:3]
        raise FetchError(f"{name}: expected one table with header {header}, found {len(hits)} "
                         f"({len(tables)} table(s); first rows: {seen})")
    rows = hits[0][1:]
    for n, row in enumerate(rows, 2):
        if len(row) != len(header):
            raise FetchError(f"{name}: table row {n} has {len(row)} cells, expected {len(header)}")
    return rows
