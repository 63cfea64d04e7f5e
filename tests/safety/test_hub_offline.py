"""Jobs run with the Hub offline unless the profile says otherwise; the bitsandbytes kernel probe is quiet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taiyi_core.config import load_profile
from taiyi_core.launch.calls import StepCall

REPO = Path(__file__).resolve().parents[2]


def probe(run, preset, item, **kwargs):
    """A step entry point: what the job process sees (environment, and importing bitsandbytes)."""
    import bitsandbytes  # noqa: F401  (its import is where the Hub probe happens)

    return {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")}


def _run_job(tmp_path: Path, hub_online: bool) -> tuple[dict, str]:
    code = (
        "import json, sys; from taiyi_core.launch.calls import StepCall; "
        f"print(json.dumps(StepCall('tests.safety.test_hub_offline:probe', {str(tmp_path)!r}, "
        f"hub_online={hub_online})()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}  # the job must set them itself
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_job_is_offline_and_the_kernel_probe_is_silent(tmp_path):
    pytest.importorskip("bitsandbytes")
    env, stderr = _run_job(tmp_path, hub_online=False)
    assert env == {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    assert "trust_remote_code" not in stderr and "kernels-community" not in stderr, stderr


def test_profile_can_let_jobs_online():
    assert StepCall("m:f", "/r").hub_online is False
    assert load_profile("local").hub_online is False


def test_online_job_keeps_the_environment(tmp_path, monkeypatch):
    from taiyi_core.hub import job_environment

    for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    assert job_environment(True) == {} and "HF_HUB_OFFLINE" not in os.environ
    assert job_environment(False)["HF_HUB_OFFLINE"] == "1" and os.environ["HF_HUB_OFFLINE"] == "1"
