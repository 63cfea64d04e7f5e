"""``data/raw/<name>/FETCHED.json``: what a fetch wrote and the checksums it saw.

Where the catalog gives no sha256 (GitHub archives, servers whose files we could not hash), the first
download records the hash here and every later fetch verifies against it. Keys are the catalog's URLs
(before any mirror rewrite), so switching mirrors still verifies. The record is written last, once the
dataset is in place: a dataset without it was not fetched completely.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taiyi_core.atomic import write_json
from taiyi_core.catalog import Dataset
from taiyi_core.catalog.download import FETCH_RECORD


def path(folder: Path) -> Path:
    return folder / FETCH_RECORD


def read(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads(path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_sha256(record: dict[str, Any], url: str) -> str | None:
    entry = (record.get("files") or {}).get(url)
    return entry.get("sha256") if isinstance(entry, dict) else None


def spec_hash(ds: Dataset) -> str:
    """Changes when the entry's download block (sources, members, conversions) changes."""
    block = ds.download.model_dump(mode="json") if ds.download else {}
    return hashlib.sha256(json.dumps(block, sort_keys=True).encode()).hexdigest()[:16]


def write(folder: Path, ds: Dataset, files: dict[str, dict[str, Any]], hub: dict[str, Any] | None,
          written: list[str], how: str) -> None:
    write_json(path(folder), {
        "dataset": ds.name,
        "how": how,  # "fetch" or "add"
        "spec": spec_hash(ds),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
        "hub": hub,
        "converted": [c.step for c in ds.download.convert] if ds.download else [],
        "written": sorted(written),
    })
