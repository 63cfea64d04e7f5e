"""Errors of a fetch: each names the dataset or file and what was expected."""

from __future__ import annotations


class FetchError(Exception):
    """A download, unpack or conversion failed; the message says which file and why."""


class ChecksumMismatch(FetchError):
    def __init__(self, what: str, expected: str, got: str, source: str) -> None:
        super().__init__(f"{what}: sha256 mismatch: expected {expected} ({source}), got {got}; "
                         "nothing was put in place")
        self.expected, self.got = expected, got


class UnsafeArchive(FetchError):
    """An archive member would land outside the target, is a link out, or the archive expands too far."""
