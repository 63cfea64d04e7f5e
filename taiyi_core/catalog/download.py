"""The ``download:`` block of a catalog entry: where `taiyi data fetch` gets a dataset's files.

Facts only (URLs at a pinned commit or version, sha256, sizes, archive members, Hub revisions, the
conversion steps to run); the code that acts on them lives in ``taiyi_core.fetch``. A public dataset
that cannot be fetched unattended (Google Drive, a form, a site without stable links) says why in
``by_hand``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# What `taiyi data fetch` writes beside the data (recorded checksums); never read as data.
FETCH_RECORD = "FETCHED.json"
ARCHIVE_KINDS = ("zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "gz")
# Archives may not expand past this unless an entry states its own limit (``max_unpacked``).
DEFAULT_MAX_UNPACKED = 20 * 1024**3

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _relative(path: str, key: str) -> str:
    if not path.strip() or path.startswith("/") or ".." in path.split("/") or "\\" in path:
        raise ValueError(f"{key} {path!r} must be a relative path inside data/raw/<name>/")
    return path


class RemoteFile(_Model):
    """One file to download: a plain file written to ``to``, or an archive unpacked into ``to``."""

    url: str = Field(pattern=r"^https?://")
    sha256: str | None = None  # None: recorded in FETCHED.json by the first download, verified after
    size: int | None = Field(default=None, gt=0)  # bytes of the download (not of what it unpacks to)
    to: str | None = None  # plain file: its path (default: the URL's file name); archive: the folder
    unpack: Literal["zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "gz"] | None = None
    members: list[str] = Field(default_factory=list)  # archive member globs to keep (after strip)
    strip: int = Field(default=0, ge=0)  # leading path components dropped from archive members
    max_unpacked: int | None = Field(default=None, gt=0)  # refuse archives expanding past this

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v):
            raise ValueError(f"sha256 {v!r} must be 64 lowercase hex digits")
        return v

    @field_validator("to")
    @classmethod
    def _to(cls, v: str | None) -> str | None:
        return None if v is None else _relative(v, "to")

    @model_validator(mode="after")
    def _archive_only(self) -> RemoteFile:
        if self.unpack is None and (self.members or self.strip or self.max_unpacked):
            raise ValueError("members/strip/max_unpacked apply to archives only (set 'unpack')")
        return self

    @property
    def file_name(self) -> str:
        """The URL's last path component (query and fragment removed)."""
        return self.url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class HubRepo(_Model):
    """A Hugging Face Hub repository at a pinned revision (fetched through huggingface_hub)."""

    repo: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
    revision: str  # a commit sha: branches move
    repo_type: Literal["dataset", "model"] = "dataset"
    allow: list[str] = Field(default_factory=list)  # file globs to download (empty: the whole repo)
    to: str = "."  # folder under data/raw/<name>/

    @field_validator("revision")
    @classmethod
    def _pinned(cls, v: str) -> str:
        if not _COMMIT.match(v):
            raise ValueError(f"revision {v!r} must be a 40-hex commit sha (a branch or tag can move)")
        return v

    @field_validator("to")
    @classmethod
    def _to(cls, v: str) -> str:
        return v if v == "." else _relative(v, "to")


class ConvertStep(_Model):
    """A conversion the release needs before its reader can read it (``taiyi_core.fetch.convert``)."""

    step: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    options: dict[str, Any] = Field(default_factory=dict)


class Download(_Model):
    """Pinned sources of one dataset, or why it must be got by hand."""

    files: list[RemoteFile] = Field(default_factory=list)
    hub: HubRepo | None = None
    convert: list[ConvertStep] = Field(default_factory=list)
    by_hand: str | None = None  # why `fetch` cannot get it (the user runs `taiyi data add`)

    @model_validator(mode="after")
    def _one_way(self) -> Download:
        fetchable = bool(self.files) or self.hub is not None
        if fetchable == (self.by_hand is not None):
            raise ValueError("give pinned sources ('files' and/or 'hub') or 'by_hand' (why not), not both")
        targets = [f.to or f.file_name for f in self.files if f.unpack is None]
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        if dupes:
            raise ValueError(f"two files are written to {dupes}")
        return self

    @property
    def fetchable(self) -> bool:
        return self.by_hand is None
