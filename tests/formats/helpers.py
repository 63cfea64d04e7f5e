"""Small helpers shared by the format tests."""

from __future__ import annotations

from pathlib import Path

from taiyi_core.formats import Quarantined, get_reader


def read_all(reader: str, paths, options=None, *, dataset="ds", split="train", lang="en", **read_kwargs):
    """Run a reader and split its output into (records, quarantined); ``read_kwargs`` go to ``read``."""
    out = list(
        get_reader(reader).read(
            [Path(p) for p in paths], options or {}, dataset=dataset, split=split, lang=lang, **read_kwargs
        )
    )
    records = [o for o in out if not isinstance(o, Quarantined)]
    quarantined = [o for o in out if isinstance(o, Quarantined)]
    return records, quarantined


def dump(record) -> dict:
    """A record as a plain dict without the source (goldens compare the content)."""
    data = record.model_dump()
    data.pop("source")
    return data


def assert_reslices(records) -> None:
    """Every entity's spans re-slice to its surface string."""
    for rec in records:
        for ent in rec.entities:
            assert " ".join(rec.text[s:e] for s, e in ent.spans) == ent.text, (rec.id, ent)
