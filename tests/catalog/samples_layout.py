"""Reading a real sample (../shared/samples) through its catalog entry, the way ``taiyi data prepare`` does.

The sample is laid out in a temporary raw folder under the file names of the release (symlinks, made at
test time only; a sample already named as the release keeps its name), then the entry's globs, split
lists, reader and reader options pick and read it exactly as the data step does. ``tally`` counts what
came out; the tests compare that with counts written by hand from the sample files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from taiyi_core.data.catalog_view import DatasetView, view
from taiyi_core.data.prepare import _listed
from taiyi_core.formats import Quarantined, get_reader
from tests.conftest import SHARED_SAMPLES


def lay_out(raw_root: Path, dataset: str, layout: dict[str, str], samples: Path) -> Path:
    """``raw_root/<dataset>/<release path>`` -> ``samples/<sample path>``: a file is linked, a folder is
    made for real and its files linked one by one (so a conversion can write beside them)."""
    folder = raw_root / dataset
    for release_path, sample_path in layout.items():
        target = samples / sample_path
        if not (samples / Path(sample_path).parts[0]).is_dir():
            # a sample folder added to ../shared/samples after the first batches (bc2gm) may be absent
            # from an older copy of ../shared: skip, naming it, rather than fail on a missing input
            pytest.skip(f"{dataset}: sample folder {samples / Path(sample_path).parts[0]} is absent")
        assert target.exists(), f"{dataset}: sample {target} is missing"
        pairs = [(folder / release_path, target)]
        if target.is_dir():
            pairs = [
                (folder / release_path / f.relative_to(target), f) for f in target.rglob("*") if f.is_file()
            ]
        for link, source in pairs:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source.resolve())
    return folder


def convert(entry: Any, folder: Path) -> list[str]:
    """The entry's ``download.convert`` steps, run by the code ``taiyi data fetch`` runs."""
    from taiyi_core.fetch.convert import run_steps

    steps = entry.download.convert if entry.download is not None else []
    return run_steps(entry.name, steps, folder) if steps else []


@dataclass
class Tally:
    """What one split produced: the counts a test compares with its independent count."""

    read: int = 0
    records: int = 0
    quarantined: int = 0
    mentions: int = 0
    relations: int = 0
    events: int = 0
    labels: Counter = field(default_factory=Counter)  # label (text/pairs) or answer (qa) -> records
    reasons: list[str] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("items", "reasons")}


def read_split(entry: Any, raw_root: Path, split: str) -> Tally:
    """Read one split of ``entry`` from ``raw_root`` as prepare_item does (globs, id lists, reader)."""
    v: DatasetView = view(entry)
    files = v.split_files(raw_root, split)
    assert files, f"{v.name}: split {split!r}: the catalog globs {v.files.get(split)} match nothing"
    ids = v.split_ids(raw_root, split)
    lang = v.language if v.language in ("en", "zh") else "en"
    out = Tally()
    # the links point into ../shared/samples: allowed as the data step allows a TAIYI_RAW_ALLOW root
    roots = [raw_root, SHARED_SAMPLES]
    stream = get_reader(v.reader).read(
        files, v.reader_options, dataset=v.name, split=split, lang=lang, allowed_roots=roots
    )
    for obj in stream:
        if ids is not None and not _listed(obj, ids):
            continue
        out.read += 1
        if isinstance(obj, Quarantined):
            out.quarantined += 1
            out.reasons.append(f"{obj.file}:{obj.line} {obj.record_id}: {obj.reason}")
            continue
        out.records += 1
        out.items.append(obj)
        out.mentions += len(getattr(obj, "entities", []))
        out.relations += len(getattr(obj, "relations", []))
        out.events += len(getattr(obj, "events", []))
        if obj.family == "text":
            out.labels.update(obj.labels)
        elif obj.family == "pairs":
            out.labels[obj.label] += 1
    return out
