"""Input stamps: a data task is skipped when its stamp matches the one stored beside its outputs.

The stamp hashes every input file's name, size and mtime (plus the SHA-256 of files under 1 MiB,
so a touched-but-unchanged small file still matches after a copy), the catalog entry, the data
options, and the source of the code that turns raw files into instructions (data, formats, tasks).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import taiyi_core
from taiyi_core.digest import sha256_tag

SMALL_FILE = 1 << 20
_CODE_DIRS = ("data", "formats", "tasks", "schema.py")


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def file_facts(paths: list[Path]) -> list[dict[str, Any]]:
    facts = []
    for top in paths:
        for p in _files_under(top):
            st = p.stat()
            fact: dict[str, Any] = {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            if st.st_size < SMALL_FILE:
                fact["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
            facts.append(fact)
    return facts


@cache
def code_version() -> str:
    """Hash of the package version and the source files that shape the data."""
    h = hashlib.sha256(getattr(taiyi_core, "__version__", "0").encode())
    root = Path(taiyi_core.__file__).parent
    for name in _CODE_DIRS:
        for p in _files_under(root / name):
            if p.suffix in {".py", ".yaml", ".yml"}:
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def make_stamp(inputs: list[Path], catalog_fingerprint: str, options: dict[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(file_facts(inputs), sort_keys=True).encode())
    h.update(catalog_fingerprint.encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    h.update(code_version().encode())
    return sha256_tag(h, 24)
