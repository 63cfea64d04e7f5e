"""containers/requirements.lock: exact pins with hashes, in line with pyproject.toml and the CUDA build."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from containers import check as cc

PYPROJECT_MIN = """
[project]
name = "x"
version = "0"
dependencies = [{deps}]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_real_lock_reads_clean_and_agrees_with_pyproject():
    lock = cc.read_lock(cc.LOCK_FILE)
    assert lock.problems == []
    assert len(lock.entries) > 50  # the whole closure, not just the top level
    assert cc.check_lock(lock, cc.PYPROJECT) == []
    # Independently of check_lock: every pyproject dependency is pinned, in range.
    deps = tomllib.loads(cc.PYPROJECT.read_text())["project"]["dependencies"]
    for dep in deps:
        req = Requirement(dep)
        pinned = lock.version(req.name)
        assert pinned is not None, dep
        assert req.specifier.contains(pinned, prereleases=True), (dep, pinned)


def test_real_lock_pins_the_tested_stack():
    lock = cc.read_lock(cc.LOCK_FILE)
    expected = {"transformers": "5.24.0", "peft": "0.21.2", "datasets": "5.2.0",
                "accelerate": "1.15.0", "submitit": "1.5.4", "bitsandbytes": "0.50.2"}  # fmt: skip
    assert {name: lock.version(name) for name in expected} == expected
    for entry in lock.entries.values():
        assert entry.hashes and all(h.startswith("sha256:") and len(h) == 71 for h in entry.hashes)
    assert cc.torch_cuda(lock) == (13, 0)  # PyPI's torch wheel depends on cuda-toolkit 13.0.x


def test_requirements_in_and_lock_agree():
    """Every top-level pin in requirements.in is what the lock holds (lock.sh was re-run after edits)."""
    lock = cc.read_lock(cc.LOCK_FILE)
    src = (cc.REPO_ROOT / "containers" / "requirements.in").read_text().splitlines()
    reqs = [Requirement(line) for line in src if line.strip() and not line.startswith("#")]
    assert reqs
    for req in reqs:
        (spec,) = list(req.specifier)
        assert lock.version(req.name) == spec.version, req


def test_lock_format_problems_are_named(tmp_path):
    sha = "sha256:" + "a" * 64
    lock = cc.read_lock(
        write(
            tmp_path / "r.lock",
            f"foo==1.0 \\\n    --hash={sha}\n"
            "bar>=2.0 \\\n    --hash=" + sha + "\n"
            "baz==3.0\n"
            f"Foo==1.1 --hash={sha}\n"
            "--index-url https://example.invalid/simple\n"
            f"qux==1.* --hash={sha}\n"
            "zap==1.0 --hash=md5:abc\n",
        )
    )
    text = "\n".join(lock.problems)
    assert "r.lock:3: bar is not pinned exactly" in text
    assert "r.lock:5: baz==3.0 has no --hash" in text
    assert "r.lock:6: Foo is pinned twice (first on line 1)" in text
    assert "option '--index-url' is not allowed" in text
    assert "qux is not pinned exactly" in text
    assert "hash 'md5:abc' is not sha256" in text
    assert set(lock.entries) == {"foo", "baz", "zap"}


def test_pyproject_disagreement_is_reported(tmp_path):
    sha = "sha256:" + "b" * 64
    lock = write(tmp_path / "r.lock", f"torch==2.3.0 --hash={sha}\nrich==15.0.0 --hash={sha}\n")
    pyproject = write(
        tmp_path / "pyproject.toml",
        PYPROJECT_MIN.format(
            deps='"torch>=2.4", "rich>=13", "pydantic>=2", "tomli; python_version < \'3.11\'"'
        ),
    )
    findings = cc.check_lock(lock, pyproject)
    assert len(findings) == 2, findings
    assert "torch==2.3.0 does not satisfy pyproject.toml's 'torch>=2.4'" in findings[0]
    assert "pydantic (pyproject.toml: 'pydantic>=2') is missing from the lock" in findings[1]
    # tomli is only for Python < 3.11: not needed in the image (3.12)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["torch==2.5.1+cu124"], (12, 4)),
        (["torch==2.7.0+cu128"], (12, 8)),
        (["torch==2.13.0+cpu"], None),
        (["torch==2.13.0", "nvidia-cuda-runtime-cu12==12.8.90"], (12, 8)),
        (["torch==2.13.0", "cuda-toolkit==13.0.3.0"], (13, 0)),
        (["torch==2.13.0"], None),
        (["numpy==2.0.0"], None),
    ],
)
def test_torch_cuda_version(tmp_path, lines, expected):
    sha = "sha256:" + "c" * 64
    lock = cc.read_lock(write(tmp_path / "r.lock", "".join(f"{x} --hash={sha}\n" for x in lines)))
    assert cc.torch_cuda(lock) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("nvidia/cuda:13.0.2-runtime-ubuntu24.04@sha256:" + "0" * 64, (13, 0)),
        ("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", (12, 4)),
        ("pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", (12, 4)),
        ("ubuntu:24.04", None),
    ],
)
def test_base_image_cuda(ref, expected):
    assert cc.base_image_cuda(ref) == expected


def test_bitsandbytes_builds_read_from_installed_wheel():
    from importlib.metadata import version

    installed = version("bitsandbytes")
    builds = cc.bitsandbytes_cuda_builds(installed)
    assert builds and (13, 0) in builds and all(isinstance(b, tuple) for b in builds)
    assert cc.bitsandbytes_cuda_builds("0.0.1") is None  # another version: cannot check here
    assert canonicalize_name("bitsandbytes") in cc.read_lock(cc.LOCK_FILE).entries
