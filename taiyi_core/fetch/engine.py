"""Fetch datasets end to end: download, verify, unpack, convert, put in place; many at once, bounded.

Per dataset everything is built in ``<raw>/.fetch/<name>/staging/<name>/`` and moved into ``<raw>/<name>/``
only when every file verified and every conversion ran (``FETCHED.json`` last), so a failed dataset
leaves what was there before untouched. Verified downloads wait in ``<raw>/.fetch/<name>/downloads/``
(with the ``.part`` files of interrupted ones) until the dataset is in place, so a rerun resumes
instead of starting over. A failure in one dataset is reported in its outcome; the others go on.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx2

from taiyi_core.catalog import Dataset
from taiyi_core.catalog.download import DEFAULT_MAX_UNPACKED, RemoteFile
from taiyi_core.catalog.rawcheck import check_dataset
from taiyi_core.fetch import archive, convert, http, hub, record
from taiyi_core.fetch import mirrors as mirror_map
from taiyi_core.fetch.errors import FetchError
from taiyi_core.fetch.plan import by_hand_reason

WORK_DIR = ".fetch"  # under the raw dir: staging and resumable downloads (no dataset is named so)
Status = Literal["fetched", "up to date", "incomplete", "failed", "by hand"]
# (dataset, file label, bytes so far, total or None) -> None; called from worker threads
FileProgress = Callable[[str, str, int, int | None], None]


@dataclass
class Outcome:
    name: str
    status: Status
    detail: str = ""
    written: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "split: glob" still unmatched after placement

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "files_written": len(self.written), "missing": self.missing}


@dataclass
class Options:
    raw_dir: Path
    mirrors: dict[str, str] = field(default_factory=dict)
    force: bool = False
    hub_cache: Path | None = None  # None: huggingface_hub's own (HF_HOME / HF_HUB_CACHE)
    progress: FileProgress | None = None


def fetch_many(datasets: list[Dataset], opts: Options, *, jobs: int = 4,
               done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Fetch each dataset, ``jobs`` at a time; outcomes in the order given."""
    with http.new_client() as client, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_guarded, ds, opts, client) for ds in datasets]
        for fut in as_completed(futures):
            if done is not None:
                done(fut.result())
    return [fut.result() for fut in futures]


def _guarded(ds: Dataset, opts: Options, client: httpx2.Client) -> Outcome:
    try:
        return fetch_dataset(ds, opts, client)
    except (FetchError, httpx2.HTTPError) as exc:
        return Outcome(ds.name, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 (one dataset's bug must not stop the others; it is reported)
        return Outcome(ds.name, "failed", f"{type(exc).__name__}: {exc}")


def fetch_dataset(ds: Dataset, opts: Options, client: httpx2.Client) -> Outcome:
    reason = by_hand_reason(ds)
    if reason is not None or ds.download is None:
        return Outcome(ds.name, "by hand", reason or "")
    folder = opts.raw_dir / ds.name
    rec = record.read(folder)
    if not opts.force and rec.get("spec") == record.spec_hash(ds) and rec.get("how") == "fetch":
        check = check_dataset(ds, opts.raw_dir)
        if check.status == "present":
            return Outcome(ds.name, "up to date", f"{record.path(folder)} matches the catalog")
    work = opts.raw_dir / WORK_DIR / ds.name
    downloads, staging = work / "downloads", work / "staging" / ds.name  # checkable like <raw>/<name>
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        files_rec: dict[str, dict[str, Any]] = {}
        written: list[str] = []
        used: list[Path] = []
        for f in ds.download.files:
            got, dl = _fetch_file(ds, f, rec, downloads, opts, client)
            files_rec[f.url] = got
            written += _place_file(ds, f, dl, staging)
            used.append(dl)
        hub_rec = None
        if ds.download.hub is not None:
            repo = ds.download.hub
            hub_files = hub.fetch_repo(repo, staging, endpoint=mirror_map.hub_endpoint(opts.mirrors),
                                       cache_dir=opts.hub_cache)
            written += hub_files
            hub_rec = {"repo": repo.repo, "revision": repo.revision, "files": len(hub_files)}
        written += convert.run_steps(ds.name, ds.download.convert, staging)
        record.write(staging, ds, files_rec, hub_rec, written, how="fetch")
        move_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for dl in used:
        dl.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    return _outcome_after(ds, opts.raw_dir, written, "fetched")


def _fetch_file(ds: Dataset, f: RemoteFile, rec: dict[str, Any], downloads: Path, opts: Options,
                client: httpx2.Client) -> tuple[dict[str, Any], Path]:
    recorded = record.recorded_sha256(rec, f.url)
    expected = f.sha256 or recorded
    source = "the catalog" if f.sha256 else f"recorded in {record.path(opts.raw_dir / ds.name)}"
    label = f.file_name or "download"
    dest = downloads / label

    def report(done: int, total: int | None) -> None:
        if opts.progress is not None:
            opts.progress(ds.name, label, done, total)

    got = http.download(client, mirror_map.rewrite(f.url, opts.mirrors), dest, sha256=expected, size=f.size,
                        checksum_source=source, report=report)
    return {"sha256": got.sha256, "size": got.size, "checksum": "catalog" if f.sha256 else
            ("verified against the record" if recorded else "recorded by this download")}, dest


def _place_file(ds: Dataset, f: RemoteFile, dl: Path, staging: Path) -> list[str]:
    if f.unpack is None:
        rel = f.to or f.file_name
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(dl, target)
        return [rel]
    sub = staging / (f.to or "")
    out = archive.unpack(dl, f.unpack, sub, members=f.members, strip=f.strip,
                         max_bytes=f.max_unpacked or DEFAULT_MAX_UNPACKED)
    if not out:
        raise FetchError(f"{ds.name}: {f.file_name}: no archive member matches {f.members or 'anything'} "
                         f"(strip {f.strip})")
    prefix = f"{f.to}/" if f.to else ""
    return [prefix + p for p in out]


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def move_into_place(staging: Path, folder: Path) -> None:
    """Move the staging tree into ``folder``: one rename when it is new, else file by file, record last."""
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, folder)
        return
    rec = record.path(staging)
    for path in sorted(p for p in staging.rglob("*") if p.is_file() and p != rec):
        target = folder / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    if rec.is_file():
        os.replace(rec, record.path(folder))
    shutil.rmtree(staging, ignore_errors=True)


def _outcome_after(ds: Dataset, raw_dir: Path, written: list[str], status: Status) -> Outcome:
    check = check_dataset(ds, raw_dir)
    missing = [f"{s.split}: {g}" for s in check.splits for g in s.missing]
    if check.status == "missing":
        todo = f"; still by hand: {ds.prepare}" if ds.prepare else ""
        return Outcome(ds.name, "incomplete", "in place, but the readers' globs still miss files "
                       f"({'; '.join(missing)}){todo}", written, missing)
    if check.status == "malformed":
        return Outcome(ds.name, "incomplete", "in place, but malformed: " + "; ".join(check.problems[:3]),
                       written, missing)
    return Outcome(ds.name, status, f"{len(written)} file(s) in {raw_dir / ds.name}", written, missing)
