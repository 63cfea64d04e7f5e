"""Atomic file output: write to a temporary name in the same folder, then rename.

A killed job therefore never leaves a half-written file under its final name, and a re-run can
trust that any file it finds is complete. The temporary folder ``.<name>.<random>.tmp`` of a killed
writer is removed by the next write of the same name: when its recorded owner (host and pid) is a
dead process of this host, or when it is older than ``STALE_AFTER_S`` (an owner on another node).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: a temporary folder this old is another writer's leftover even when its owner cannot be checked (a pid
#: on another node): longer than any single write of the suite (a merged 7B model is minutes)
STALE_AFTER_S = 12 * 3600
OWNER_FILE = ".taiyi-owner"  # "host pid" of the writer, inside its temporary folder
_RANDOM = set("abcdefghijklmnopqrstuvwxyz0123456789_")  # what tempfile.mkdtemp puts between prefix/suffix


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _is_stale(tmp: Path, now: float) -> bool:
    try:
        host, pid = (tmp / OWNER_FILE).read_text(encoding="utf-8").split()
        if host == socket.gethostname():
            return not _pid_alive(int(pid))
    except (OSError, ValueError):
        pass  # no readable owner: judged by age alone
    try:
        return now - tmp.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def remove_stale_temps(final: Path) -> list[Path]:
    """Remove the temporary folders of killed writers of ``final``; returns what was removed."""
    prefix, removed, now = f".{final.name}.", [], time.time()
    try:
        entries = list(os.scandir(final.parent))
    except OSError:
        return []
    for entry in entries:
        middle = entry.name[len(prefix) : -len(".tmp")]
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp") and len(middle) == 8
                and set(middle) <= _RANDOM and entry.is_dir(follow_symlinks=False)):  # fmt: skip
            continue
        tmp = Path(entry.path)
        if _is_stale(tmp, now):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path (file or folder) that is renamed onto ``final`` on success."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    (tmp / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}", encoding="utf-8")
    target = tmp / final.name
    try:
        yield target
        if final.is_dir() and not final.is_symlink():
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            target.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(target, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n")


def write_jsonl(path: str | os.PathLike[str], rows: Any) -> int:
    """Write an iterable of JSON-able rows; returns how many were written."""
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n
