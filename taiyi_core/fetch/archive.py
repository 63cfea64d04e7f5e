"""Unpack a release archive into a folder, refusing anything that would escape it.

Refused, before a byte is written: members with an absolute path or a ``..`` component, links
(symbolic or hard) whose target leaves the folder, device files, and archives whose members add up to
more than the stated limit. tar members pass Python's ``data`` extraction filter as well; zip members
are checked here (zipfile has no filter) and written with the size they declare, never more. A
``.gz`` holding one file is counted while it is written and stopped at the limit.
"""

from __future__ import annotations

import fnmatch
import gzip
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from taiyi_core.fetch.errors import UnsafeArchive

COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    name: str  # the path inside the archive
    target: str  # the path it is written to, relative to the destination (after strip)


def unpack(archive: Path, kind: str, dest: Path, *, members: list[str], strip: int,
           max_bytes: int) -> list[str]:
    """Unpack ``archive`` into ``dest``; returns the written paths relative to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "zip":
            return _unzip(archive, dest, members, strip, max_bytes)
        if kind == "gz":
            return _gunzip(archive, dest, max_bytes)
        return _untar(archive, dest, members, strip, max_bytes)
    except (zipfile.BadZipFile, tarfile.ReadError, gzip.BadGzipFile, EOFError) as exc:
        raise UnsafeArchive(f"{archive.name}: not a readable {kind} archive: {exc}") from None


def _safe_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"{archive.name}: member {name!r} has an absolute path; refused")
    if ".." in path.parts:
        raise UnsafeArchive(f"{archive.name}: member {name!r} escapes the target folder ('..'); refused")
    return path


def _target(path: PurePosixPath, strip: int, members: list[str]) -> str | None:
    """The member's path after ``strip`` components, or None when it is not kept."""
    parts = path.parts[strip:]
    if not parts:
        return None
    rel = "/".join(parts)
    if members and not any(fnmatch.fnmatchcase(rel, g) for g in members):
        return None
    return rel


def _inside(dest: Path, link_from: str, link_to: str) -> bool:
    """Whether a link at ``link_from`` (relative to dest) pointing at ``link_to`` stays inside ``dest``."""
    if link_to.startswith("/"):
        return False
    root = dest.resolve()
    resolved = (root / PurePosixPath(link_from).parent / link_to).resolve()
    return resolved == root or root in resolved.parents


def _check_total(archive: Path, total: int, max_bytes: int) -> None:
    if total > max_bytes:
        raise UnsafeArchive(f"{archive.name}: members expand to {total:,} bytes, more than the limit of "
                            f"{max_bytes:,} (raise the entry's max_unpacked if this is expected); refused")


def _unzip(archive: Path, dest: Path, members: list[str], strip: int, max_bytes: int) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        total = 0
        for info in zf.infolist():
            path = _safe_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                link_to = zf.read(info).decode("utf-8", "replace")
                if not _inside(dest, str(path), link_to):
                    raise UnsafeArchive(f"{archive.name}: member {info.filename!r} is a symbolic link to "
                                        f"{link_to!r}, outside the target folder; refused")
                continue  # links inside the release are not needed by any reader: not created
            if info.is_dir():
                continue
            target = _target(path, strip, members)
            if target is None:
                continue
            total += info.file_size
            plan.append((info, target))
        _check_total(archive, total, max_bytes)
        written = []
        for info, target in plan:
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, out.open("wb") as dst:
                _copy_limited(src, dst, info.file_size, archive, info.filename)
            written.append(target)
    return written


def _copy_limited(src, dst, limit: int, archive: Path, name: str) -> None:
    copied = 0
    while block := src.read(COPY_CHUNK):
        copied += len(block)
        if copied > limit:
            raise UnsafeArchive(f"{archive.name}: member {name!r} is larger than it declares; refused")
        dst.write(block)


def _untar(archive: Path, dest: Path, members: list[str], strip: int, max_bytes: int) -> list[str]:
    with tarfile.open(archive, "r:*") as tf:
        plan: list[tuple[tarfile.TarInfo, str]] = []
        total = 0
        for info in tf.getmembers():
            path = _safe_name(archive, info.name)
            if info.issym():
                if not _inside(dest, str(path), info.linkname):
                    raise UnsafeArchive(f"{archive.name}: member {info.name!r} is a symbolic link to "
                                        f"{info.linkname!r}, outside the target folder; refused")
                continue  # links are not needed by any reader: not created
            if info.islnk():
                _safe_name(archive, info.linkname)  # a hard link names another member: it may not escape
                continue
            if info.isdir():
                continue
            if not info.isfile():
                raise UnsafeArchive(f"{archive.name}: member {info.name!r} is a device or special file; "
                                    "refused")
            target = _target(path, strip, members)
            if target is None:
                continue
            total += info.size
            plan.append((info, target))
        _check_total(archive, total, max_bytes)
        written = []
        for info, target in plan:
            renamed = info.replace(name=target, deep=False)
            try:
                tarfile.data_filter(renamed, str(dest))
            except tarfile.FilterError as exc:
                raise UnsafeArchive(f"{archive.name}: member {info.name!r} refused by the data filter: "
                                    f"{exc}") from None
            tf.extract(renamed, dest, set_attrs=False, filter="data")
            written.append(target)
    return written


def _gunzip(archive: Path, dest: Path, max_bytes: int) -> list[str]:
    name = archive.name[:-3] if archive.name.endswith(".gz") else archive.name + ".out"
    out = dest / name
    with gzip.open(archive, "rb") as src, out.open("wb") as dst:
        try:
            _copy_limited(src, dst, max_bytes, archive, name)
        except UnsafeArchive:
            dst.close()
            out.unlink(missing_ok=True)
            raise UnsafeArchive(f"{archive.name}: expands to more than the limit of {max_bytes:,} bytes "
                                "(raise the entry's max_unpacked if this is expected); refused") from None
    return [name]


def copy_tree(src: Path, dest: Path) -> list[str]:
    """Copy a user's folder (``taiyi data add``): regular files only, links inside it followed, none out."""
    root = src.resolve()
    written = []
    for path in sorted(src.rglob("*")):
        if path.is_symlink():
            resolved = path.resolve()
            if root not in resolved.parents:
                raise UnsafeArchive(f"{path}: a symbolic link to {resolved}, outside {src}; refused")
        if not path.is_file():
            continue
        rel = path.relative_to(src).as_posix()
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        written.append(rel)
    return written
