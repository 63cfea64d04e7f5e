"""containers/build.sh: clear failure without Apptainer; the build command it would run."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from taiyi_core.launch.image_lock import REPO_ROOT

BUILD = REPO_ROOT / "containers" / "build.sh"
SYSTEM_PATH = "/usr/bin:/bin"


def fake_runtime(bindir, name: str, version: str) -> None:
    bindir.mkdir(exist_ok=True)
    tool = bindir / name
    tool.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "{name} version {version}" && exit 0\nexit 9\n')
    tool.chmod(0o755)


def run(path: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": path, **env}
    return subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, env=full, cwd="/")


def test_fails_clearly_without_apptainer():
    if shutil.which("apptainer", path=SYSTEM_PATH) or shutil.which("singularity", path=SYSTEM_PATH):
        pytest.skip("Apptainer is installed here")
    res = run(SYSTEM_PATH)
    assert res.returncode == 3
    assert "neither 'apptainer' nor 'singularity' is on PATH" in res.stderr
    assert not (REPO_ROOT / "containers" / "taiyi.sif").exists()


def test_too_old_runtime_is_refused(tmp_path):
    fake_runtime(tmp_path / "bin", "apptainer", "1.1.9")
    res = run(f"{tmp_path / 'bin'}:{SYSTEM_PATH}")
    assert res.returncode == 3 and "too old" in res.stderr


def test_dry_run_command(tmp_path):
    fake_runtime(tmp_path / "bin", "apptainer", "1.3.4")
    res = run(f"{tmp_path / 'bin'}:{os.environ['PATH']}", TAIYI_BUILD_DRY_RUN="1")
    assert res.returncode == 0, res.stderr
    words = res.stdout.split()
    assert words[:3] == ["apptainer", "build", "--force"]
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    stamp = next(w for w in words if w.startswith("GIT_COMMIT="))
    if commit.returncode == 0:
        assert stamp.removeprefix("GIT_COMMIT=").removesuffix("-dirty") == commit.stdout.strip()
    assert ("--fakeroot" in words) is (os.geteuid() != 0)
    has_gpu = shutil.which("nvidia-smi") is not None
    assert ("--notest" in words) is not has_gpu and ("--nv" in words) is has_gpu
    assert words[-2:] == ["containers/taiyi.sif", "containers/taiyi.def"]
