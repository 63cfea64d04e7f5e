"""One spelling of a content hash in manifests, metrics and stamps: ``sha256:<leading hex digits>``."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_tag(h: hashlib._Hash, length: int = 16) -> str:
    """``sha256:`` and the first ``length`` hex digits of a finished sha256."""
    return "sha256:" + h.hexdigest()[:length]


def update_from_file(h: hashlib._Hash, path: Path) -> None:
    """Feed a file to ``h`` in 1 MiB chunks (eval sets and adapters can be large)."""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)


def file_sha256(path: Path) -> str:
    """The full sha256 hex digest of a file (checksums of downloads and model files), read in chunks."""
    h = hashlib.sha256()
    update_from_file(h, path)
    return h.hexdigest()
