"""Line-aligned parallel text (one file per language per split) joined into one TSV per split."""

from __future__ import annotations

from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError


@conversion("paste_parallel")
def paste_parallel(folder: Path, pairs: dict[str, list[str]], encoding: str = "utf-8") -> list[str]:
    """``pairs``: output TSV -> [first-column glob, second-column glob] (``paste a b > out``).

    Both files must have the same number of lines; a TAB inside a line would shift the columns, so it
    is refused with the file and line.
    """
    written = []
    for out, (first, second) in pairs.items():
        columns = []
        for pattern in (first, second):
            found = sorted(folder.glob(pattern))
            if len(found) != 1:
                raise FetchError(f"{pattern!r} matches {len(found)} files under {folder} (expected one)")
            columns.append((found[0], found[0].read_text(encoding=encoding).splitlines()))
        (a_path, a), (b_path, b) = columns
        if len(a) != len(b):
            raise FetchError(f"{a_path.name} has {len(a)} lines, {b_path.name} {len(b)}: not line-aligned")
        for path, lines in columns:
            bad = next((i for i, ln in enumerate(lines, 1) if "\t" in ln), None)
            if bad is not None:
                raise FetchError(f"{path.name}, line {bad}: contains a TAB, which would shift the columns")
        write_text(folder / out, "".join(f"{x}\t{y}\n" for x, y in zip(a, b, strict=True)))
        written.append(out)
    return written
