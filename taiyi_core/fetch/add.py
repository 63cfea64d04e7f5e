"""`taiyi data add NAME PATH`: put a release the user downloaded (behind a login or a DUA) into place.

PATH is the archive or folder as downloaded. Where the catalog names the file (``download.files`` with
the same file name), its sha256, members and strip apply; otherwise an archive is unpacked whole. The
same safety rules as a fetch hold (no member outside the target, size limit), then the entry's
conversions run, and the result must match at least one of the readers' globs before anything is
moved into ``data/raw/<name>/``. The outcome says which globs are still unmatched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from taiyi_core.catalog import Dataset
from taiyi_core.catalog.download import DEFAULT_MAX_UNPACKED, RemoteFile
from taiyi_core.catalog.rawcheck import check_dataset
from taiyi_core.digest import file_sha256
from taiyi_core.fetch import archive, convert, record
from taiyi_core.fetch.engine import WORK_DIR, Outcome, _outcome_after, move_into_place
from taiyi_core.fetch.errors import ChecksumMismatch, FetchError

_SUFFIXES = (  # longest first
    (".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tar.xz", "tar.xz"),
    (".tar", "tar"), (".zip", "zip"), (".gz", "gz"),
)


def archive_kind(path: Path) -> str | None:
    name = path.name.lower()
    return next((kind for suffix, kind in _SUFFIXES if name.endswith(suffix)), None)


def _spec_for(ds: Dataset, path: Path) -> RemoteFile | None:
    files = ds.download.files if ds.download else []
    return next((f for f in files if f.file_name == path.name), None)


def add_dataset(ds: Dataset, path: Path, raw_dir: Path) -> Outcome:
    if not path.exists():
        raise FetchError(f"{ds.name}: {path} does not exist")
    staging = raw_dir / WORK_DIR / ds.name / "staging" / ds.name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        written, files_rec = _unpack_into(ds, path, staging)
        written = _lift_single_folder(ds, staging, written)
        written += convert.run_steps(ds.name, ds.download.convert if ds.download else [], staging)
        _require_some_match(ds, path, staging)
        record.write(staging, ds, files_rec, None, written, how="add")
        move_into_place(staging, raw_dir / ds.name)
    finally:
        shutil.rmtree(raw_dir / WORK_DIR / ds.name, ignore_errors=True)
    return _outcome_after(ds, raw_dir, written, "fetched")


def _unpack_into(ds: Dataset, path: Path, staging: Path) -> tuple[list[str], dict]:
    if path.is_dir():
        return archive.copy_tree(path, staging), {}
    spec = _spec_for(ds, path)
    got = file_sha256(path)
    if spec is not None and spec.sha256 and got != spec.sha256:
        raise ChecksumMismatch(f"{ds.name}: {path}", spec.sha256, got, "the catalog")
    files_rec = {str(path): {"sha256": got, "size": path.stat().st_size, "checksum": "recorded by add"}}
    kind = (spec.unpack if spec is not None else None) or archive_kind(path)
    if kind is None:
        rel = (spec.to if spec is not None else None) or path.name
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, staging / rel)
        return [rel], files_rec
    sub = staging / ((spec.to if spec is not None else None) or "")
    members, strip = (spec.members, spec.strip) if spec is not None else ([], 0)
    limit = (spec.max_unpacked if spec is not None else None) or DEFAULT_MAX_UNPACKED
    out = archive.unpack(path, kind, sub, members=members, strip=strip, max_bytes=limit)
    return out, files_rec


def _lift_single_folder(ds: Dataset, staging: Path, written: list[str]) -> list[str]:
    """A download that wraps everything in one folder (``CMeEE-V2/...``) where the globs expect the files at
    the top: lift the folder's content up one level."""
    entries = list(staging.iterdir())
    if len(entries) != 1 or not entries[0].is_dir() or _matches_any(ds, staging):
        return written
    inner = entries[0]
    for child in list(inner.iterdir()):
        child.rename(staging / child.name)
    inner.rmdir()
    return [w.split("/", 1)[1] if w.startswith(inner.name + "/") else w for w in written]


def _matches_any(ds: Dataset, staging: Path) -> bool:
    check = check_dataset(ds, staging.parent)  # staging is <work>/<name>: checked like <raw>/<name>
    return any(s.files for s in check.splits)


def _require_some_match(ds: Dataset, path: Path, staging: Path) -> None:
    """Refuse a PATH in which none of the readers' globs matches anything (the wrong download)."""
    if not _matches_any(ds, staging):
        wanted = "; ".join(f"{s}: {', '.join(g)}" for s, g in ds.files.items())
        raise FetchError(f"{ds.name}: {path} does not look like this dataset: none of the files the readers "
                         f"expect was found in it (expected {wanted})")
