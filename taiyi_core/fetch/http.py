"""One URL to one file, resumable and verified.

The bytes go to ``<file>.part``; a sidecar ``<file>.part.json`` keeps the URL, the expected size and
the server's validator (ETag / Last-Modified). A later attempt with the same URL asks for the rest
(``Range`` + ``If-Range``); a server that answers 200 instead starts the file over. Only a file whose
size and sha256 check out is renamed into place (``os.replace``), so a partial file is never taken for
a complete one; a checksum mismatch deletes the partial file and raises, naming both hashes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2

from taiyi_core.digest import file_sha256
from taiyi_core.fetch.errors import ChecksumMismatch, FetchError

RETRIES = 4  # connection drops resumed within one fetch before giving up
TIMEOUT = httpx2.Timeout(30.0, connect=15.0)
Report = Callable[[int, int | None], None]  # (bytes of the file on disk so far, total size if known)


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str
    size: int
    resumed_from: int  # bytes already on disk when the last attempt started (0: a fresh download)


def new_client() -> httpx2.Client:
    """A client honouring the usual proxy variables (``HTTPS_PROXY``, ``NO_PROXY``)."""
    return httpx2.Client(timeout=TIMEOUT, follow_redirects=True, trust_env=True,
                         headers={"User-Agent": "taiyi-suite-fetch/1"})


def download(
    client: httpx2.Client,
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    checksum_source: str = "catalog",
    report: Report | None = None,
    retries: int = RETRIES,
) -> Fetched:
    """Download ``url`` to ``dest`` (resuming a ``.part`` left by an earlier attempt) and verify it."""
    if dest.is_file() and sha256 is not None and file_sha256(dest) == sha256:
        return Fetched(dest, sha256, dest.stat().st_size, dest.stat().st_size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    sidecar = dest.with_name(dest.name + ".part.json")
    attempt = 0
    while True:
        try:
            resumed = _transfer(client, url, part, sidecar, size, report)
            break
        except (httpx2.TransportError, _Truncated) as exc:
            attempt += 1
            if attempt > retries:
                raise FetchError(f"{url}: {_describe(exc)} (gave up after {retries} resumed attempts; "
                                 f"the partial file {part} is kept for the next run)") from None
            time.sleep(min(0.2 * 2**attempt, 5.0))
    got = file_sha256(part)
    total = part.stat().st_size
    if size is not None and total != size:
        _discard(part, sidecar)
        raise FetchError(f"{dest.name}: {total} bytes downloaded from {url}, expected {size}; "
                         "nothing was put in place")
    if sha256 is not None and got != sha256:
        _discard(part, sidecar)
        raise ChecksumMismatch(f"{dest.name} (from {url})", sha256, got, checksum_source)
    os.replace(part, dest)
    sidecar.unlink(missing_ok=True)
    return Fetched(dest, got, total, resumed)


class _Truncated(Exception):
    """The connection closed before the announced length arrived."""


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _discard(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _read_sidecar(sidecar: Path) -> dict:
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _transfer(client: httpx2.Client, url: str, part: Path, sidecar: Path, size: int | None,
              report: Report | None) -> int:
    """One attempt: append to ``part`` from where it stops (or start over). Returns the resumed offset."""
    meta = _read_sidecar(sidecar)
    offset = part.stat().st_size if part.is_file() and meta.get("url") == url else 0
    if offset == 0:
        _discard(part)
    headers = {"Accept-Encoding": "identity"}  # the bytes as published: their size and sha256
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 416 and offset and size is not None and offset == size:
            return offset  # already complete: the caller verifies it
        if resp.status_code not in (200, 206):
            raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}")
        if resp.status_code == 200 or not _range_matches(resp, offset):
            offset = 0  # the server sent the whole file (no range support, or it changed)
        expected = _expected_total(resp, offset, size)
        sidecar.write_text(json.dumps({"url": url, "size": expected, "etag": resp.headers.get("etag"),
                                       "last_modified": resp.headers.get("last-modified")}), encoding="utf-8")
        if report is not None:
            report(offset, expected)
        written = offset
        with part.open("ab" if offset else "wb") as fh:
            for block in resp.iter_raw():  # as received (a buffered chunk would be lost on a drop), undecoded
                fh.write(block)
                written += len(block)
                if report is not None:
                    report(written, expected)
            fh.flush()
            os.fsync(fh.fileno())
    if expected is not None and written < expected:
        raise _Truncated(f"connection closed after {written} of {expected} bytes")
    return offset


def _range_matches(resp: httpx2.Response, offset: int) -> bool:
    content_range = resp.headers.get("content-range", "")  # "bytes 100-999/1000"
    return content_range.startswith(f"bytes {offset}-")


def _expected_total(resp: httpx2.Response, offset: int, size: int | None) -> int | None:
    content_range = resp.headers.get("content-range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = resp.headers.get("content-length")
    if length and length.isdigit():
        return offset + int(length)
    return size
