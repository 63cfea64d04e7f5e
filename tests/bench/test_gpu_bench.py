"""bench/gpu_bench.py's CPU path (--tiny): the GPU minutes must go to measuring, not debugging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tiny_run_writes_both_training_arms_and_generation(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(REPO / "bench/gpu_bench.py"), "--tiny", "--out", str(tmp_path),
           "--steps", "1", "--warmup", "1"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    arms = {r["arm"]: r for r in report["train"]}
    assert set(arms) == {"padded (baseline)", "packed (ours, sdpa)"}
    for row in arms.values():
        assert row["real_tokens"] > 0 and row["tokens_per_s"] > 0
        assert row["flops_6n"] == 6 * row["params"] * row["real_tokens"]
    # packed rows hold several samples: more real tokens per step than padded single samples
    assert arms["packed (ours, sdpa)"]["real_tokens"] > arms["padded (baseline)"]["real_tokens"]
    gen = {r["arm"]: r for r in report["generation"]}
    assert set(gen) == {"one by one", "batched 16", "batched 64"}
    assert all(r["tokens"] == r["prompts"] * r["new_tokens_each"] for r in gen.values())
    assert "| padded (baseline) |" in (tmp_path / "results.md").read_text()
