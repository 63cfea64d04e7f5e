"""A demo run prepared once per test module (the bundled demo raw data, the demo preset)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from taiyi_core.config import Preset, load_preset
from taiyi_core.data import jobs
from taiyi_core.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]
DEMO_RAW = REPO / "tests" / "fixtures" / "demo_raw"


def demo_preset(raw_dir: Path | None = None, **options) -> Preset:
    p = load_preset("demo")
    data = p.data.model_copy(
        update={"raw_dir": str(raw_dir or DEMO_RAW), "options": {**p.data.options.model_dump(), **options}}
    )
    return p.model_copy(update={"data": data})


def prepare_all(run: RunDir, preset: Preset) -> list[dict]:
    return [jobs.prepare_dataset(run, preset, item) for item in jobs.datasets_to_prepare(preset)]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[RunDir, Preset, dict]:
    run = RunDir(tmp_path_factory.mktemp("demo") / "run")
    preset = demo_preset()
    prepare_all(run, preset)
    report = jobs.curate(run, preset)
    return run, preset, report


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(DEMO_RAW, dst)
    return dst
