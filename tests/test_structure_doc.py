"""docs/structure.md stays true: every repository path it names exists, every class it names is defined."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "structure.md").read_text(encoding="utf-8")
TOP = ("taiyi_core/", "jobs/", "slurm/", "containers/", "tests/", "bench/")
# outputs the doc names that a fresh clone does not have yet
GENERATED = {"containers/taiyi.sif", "bench/out/"}  # `make container`; bench/gpu.sh and other benches


def _named_paths() -> list[str]:
    return sorted({p for p in re.findall(r"`([^`\s]+)`", DOC) if p.startswith(TOP)})


def test_every_named_path_exists():
    paths = _named_paths()
    assert len(paths) > 20, paths
    missing = []
    for p in paths:
        if p in GENERATED:
            continue
        pattern = re.sub(r"<[^>]+>", "*", p).rstrip("/")
        if not any(REPO.glob(pattern)):
            missing.append(p)
    assert missing == [], f"docs/structure.md names paths that do not exist: {missing}"


def test_every_named_class_is_defined():
    rows = [line for line in DOC.splitlines() if line.startswith("| `")]
    names = {n for row in rows for n in re.findall(r"`([A-Z][A-Za-z]+)`", row.split("|")[1])}
    assert {"Preset", "Profile", "Launcher", "Reader", "RunDir", "RunStatus"} <= names
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "taiyi_core").rglob("*.py"))
    undefined = sorted(n for n in names if not re.search(rf"^class {n}\b", source, re.M))
    assert undefined == [], f"docs/structure.md names classes that are not defined: {undefined}"
