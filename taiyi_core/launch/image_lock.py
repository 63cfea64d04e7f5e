"""The image's lock and the labels a built image carries: what ``taiyi doctor`` compares.

``containers/requirements.lock`` is read with ``packaging``'s requirement grammar (pip's own
``--require-hashes`` enforces the lock inside the image build, but offline it cannot judge a lock:
it looks every pin up in the index before it checks a hash). The build-time checks of the
definition file live in ``containers/check.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = REPO_ROOT / "containers" / "requirements.lock"

# Labels written by the definition file's %post and compared with the lock by image_labels_match_lock.
LABEL_LOCK_SHA = "org.taiyi.lock.sha256"
LABEL_VERSION_PREFIX = "org.taiyi.version."
LABEL_COMMIT = "org.taiyi.git_commit"

_HASH = re.compile(r"--hash[= ](\S+)")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class LockEntry:
    name: str  # canonical (PEP 503) name
    version: str
    hashes: tuple[str, ...]
    line: int


@dataclass
class Lock:
    path: str
    entries: dict[str, LockEntry]
    problems: list[str]  # format problems found while reading (unpinned, no hash, duplicate, ...)
    sha256: str

    def version(self, name: str) -> str | None:
        entry = self.entries.get(canonicalize_name(name))
        return entry.version if entry else None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; drop comments and blank lines. Returns (first line no, text)."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not buf:
            start = no
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            buf.append(stripped[:-1])
            continue
        buf.append(stripped)
        joined = " ".join(part.strip() for part in buf).strip()
        buf = []
        if joined:
            out.append((start, joined))
    if buf and " ".join(buf).strip():
        out.append((start, " ".join(part.strip() for part in buf).strip()))
    return out


def read_lock(path: Path | str) -> Lock:
    """Parse a pip requirements lock (``name==version --hash=sha256:...`` entries).

    Every line is read, so one bad entry does not hide the next (pip's own parser stops at the first).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    entries: dict[str, LockEntry] = {}
    problems: list[str] = []
    for no, line in _logical_lines(text):
        where = f"{path}:{no}"
        hashes = tuple(_HASH.findall(line))
        spec = _HASH.sub("", line).strip()
        if spec.startswith("-"):
            problems.append(f"{where}: option {spec.split()[0]!r} is not allowed in the lock (pins only)")
            continue
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            problems.append(f"{where}: not a requirement: {spec!r} ({exc})")
            continue
        name = canonicalize_name(req.name)
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"{where}: {req.name} is not pinned exactly with '==' (got {spec!r})")
            continue
        if not hashes:
            problems.append(f"{where}: {req.name}=={specs[0].version} has no --hash=sha256:... entries")
        for h in hashes:
            if not _SHA256.match(h):
                problems.append(f"{where}: {req.name}: hash {h!r} is not sha256:<64 hex digits>")
        if name in entries:
            problems.append(f"{where}: {req.name} is pinned twice (first on line {entries[name].line})")
            continue
        entries[name] = LockEntry(name, specs[0].version, hashes, no)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return Lock(str(path), entries, problems, sha)


def as_lock(lock: Lock | Path | str) -> Lock:
    return lock if isinstance(lock, Lock) else read_lock(lock)


def labels_from_inspect(doc: dict[str, Any]) -> dict[str, str]:
    """Labels from ``apptainer inspect --json IMAGE`` output ({"data": {"attributes": {"labels": ...}}})."""
    try:
        labels = doc["data"]["attributes"]["labels"]
    except (KeyError, TypeError):
        raise ValueError(
            "not `apptainer inspect --json` output: expected data.attributes.labels "
            f"(top-level keys: {sorted(doc) if isinstance(doc, dict) else type(doc).__name__})"
        ) from None
    if not isinstance(labels, dict):
        raise ValueError("data.attributes.labels is not a mapping")
    return {str(k): str(v) for k, v in labels.items()}


def image_labels_match_lock(labels: dict[str, str], lock: Lock | Path | str = LOCK_FILE) -> list[str]:
    """Differences between a built image (its labels) and the lock in this checkout."""
    lock = as_lock(lock)
    findings = []
    sha = labels.get(LABEL_LOCK_SHA)
    if sha is None:
        findings.append(f"image has no {LABEL_LOCK_SHA} label: not built from containers/taiyi.def?")
    elif sha != lock.sha256:
        findings.append(
            f"image was built from another lock (image {sha[:12]}, {lock.path} {lock.sha256[:12]}): rebuild"
        )
    versions = {
        k[len(LABEL_VERSION_PREFIX) :]: v for k, v in labels.items() if k.startswith(LABEL_VERSION_PREFIX)
    }
    if not versions:
        findings.append(f"image has no {LABEL_VERSION_PREFIX}* labels")
    for name, version in sorted(versions.items()):
        pinned = lock.version(name)
        if pinned is None:
            findings.append(f"{name}: image has {version}, the lock does not pin it")
        elif pinned != version:
            findings.append(f"{name}: image has {version}, the lock pins {pinned}")
    if labels.get(LABEL_COMMIT) in (None, "", "unknown"):
        findings.append(f"image has no git commit label ({LABEL_COMMIT}): build it with containers/build.sh")
    return findings
