"""What `taiyi data fetch` would do for each dataset: the ``--dry-run`` table and its ``--json`` object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from taiyi_core.catalog import Catalog, Dataset
from taiyi_core.catalog.download import DEFAULT_MAX_UNPACKED
from taiyi_core.fetch import mirrors as mirror_map
from taiyi_core.fetch import record

CHECKSUM_CATALOG = "in the catalog"
CHECKSUM_RECORDED = "recorded in FETCHED.json"
CHECKSUM_TO_RECORD = "to be recorded on first download"


@dataclass
class FilePlan:
    url: str  # as in the catalog
    fetch_url: str  # after mirror rewrites
    size: int | None
    sha256: str | None
    checksum: str  # one of the CHECKSUM_* phrases
    writes: str  # what lands where, relative to data/raw/


@dataclass
class DatasetPlan:
    name: str
    access: str
    licence: str
    fetchable: bool
    source: str  # one line: the pinned source, or "by hand: why"
    folder: str
    files: list[FilePlan] = field(default_factory=list)
    hub: dict[str, Any] | None = None
    convert: list[str] = field(default_factory=list)
    expects: dict[str, list[str]] = field(default_factory=dict)  # split -> globs the readers look for
    size: int | None = None  # bytes to download, when every file's size is known

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def by_hand_reason(ds: Dataset) -> str | None:
    """Why ``ds`` cannot be fetched unattended, or None when it can."""
    if ds.access != "public":
        how = {"registration": "needs an account", "dua": "needs a signed data-use agreement"}[ds.access]
        extra = f" ({ds.download.by_hand})" if ds.download and ds.download.by_hand else ""
        return f"{how}{extra}: download it yourself from {ds.url}, then `taiyi data add {ds.name} PATH`"
    if ds.download is None:
        return (f"no pinned source in the catalog yet: get it from {ds.url}, "
                f"then `taiyi data add {ds.name} PATH`")
    if ds.download.by_hand:
        return f"{ds.download.by_hand}; then `taiyi data add {ds.name} PATH`"
    return None


def plan_dataset(ds: Dataset, raw_dir: Path, mirrors: dict[str, str]) -> DatasetPlan:
    folder = raw_dir / ds.name
    reason = by_hand_reason(ds)
    plan = DatasetPlan(
        name=ds.name, access=ds.access, licence=ds.licence, fetchable=reason is None,
        source=f"by hand: {reason}" if reason else "", folder=str(folder),
        expects={s: list(g) for s, g in ds.files.items()},
    )
    if ds.download is not None:
        plan.convert = [c.step for c in ds.download.convert]
    if reason is not None or ds.download is None:
        return plan
    rec = record.read(folder)
    sources = []
    for f in ds.download.files:
        recorded = record.recorded_sha256(rec, f.url)
        checksum = CHECKSUM_CATALOG if f.sha256 else (CHECKSUM_RECORDED if recorded else CHECKSUM_TO_RECORD)
        if f.unpack:
            keep = f"members {', '.join(f.members)}" if f.members else "all members"
            limit = f.max_unpacked or DEFAULT_MAX_UNPACKED
            writes = (f"unpack {f.unpack} ({keep}{f', strip {f.strip}' if f.strip else ''}; at most "
                      f"{limit:,} bytes) into {ds.name}/{f.to or ''}".rstrip("/") + "/")
        else:
            writes = f"{ds.name}/{f.to or f.file_name}"
        plan.files.append(FilePlan(f.url, mirror_map.rewrite(f.url, mirrors), f.size, f.sha256 or recorded,
                                   checksum, writes))
        sources.append(f.url)
    hub = ds.download.hub
    if hub is not None:
        endpoint = mirror_map.hub_endpoint(mirrors) or "HF_ENDPOINT or https://huggingface.co"
        plan.hub = {"repo": hub.repo, "revision": hub.revision, "repo_type": hub.repo_type,
                    "allow": hub.allow, "to": hub.to, "endpoint": endpoint,
                    "checksum": "verified by huggingface_hub (etag / sha256 of each file)"}
        sources.append(f"hub:{hub.repo}@{hub.revision}")
    plan.source = sources[0] + (f" (+{len(sources) - 1} more)" if len(sources) > 1 else "")
    sizes = [f.size for f in ds.download.files if f.size is not None]
    known = bool(sizes) and len(sizes) == len(ds.download.files)
    plan.size = sum(sizes) if known and hub is None else None
    return plan


def select(cat: Catalog, names: list[str], all_public: bool, eval_sets: bool) -> list[Dataset]:
    """Datasets named, plus every public one (``--all-public``), plus the owners of eval sets."""
    chosen: dict[str, Dataset] = {}
    for name in names:
        ds = cat.get(name)
        chosen[ds.name] = ds
    if all_public:
        chosen.update((ds.name, ds) for ds in cat if ds.access == "public")
    if eval_sets:
        for es in cat.eval_sets():
            ds = cat.get(es.dataset or "")
            chosen[ds.name] = ds
    return list(chosen.values())


def summary(plans: list[DatasetPlan]) -> dict[str, int]:
    files = [f for p in plans for f in p.files]
    return {
        "datasets": len(plans),
        "fetchable": sum(p.fetchable for p in plans),
        "by_hand": sum(not p.fetchable for p in plans),
        "files": len(files),
        "files_with_catalog_checksum": sum(f.checksum == CHECKSUM_CATALOG for f in files),
        "files_with_recorded_checksum": sum(f.checksum == CHECKSUM_RECORDED for f in files),
        "files_checksum_to_record": sum(f.checksum == CHECKSUM_TO_RECORD for f in files),
        "hub_repos": sum(p.hub is not None for p in plans),
    }
