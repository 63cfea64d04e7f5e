"""The `taiyi` command line: help, dry runs that touch nothing, doctor, runs listing."""

from __future__ import annotations

import json
import subprocess
import sys


def taiyi(*args: str, env_runs=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "taiyi_core.cli", *args], capture_output=True, text=True,
                          env=env_runs)


def test_help_lists_the_commands():
    out = taiyi("--help")
    assert out.returncode == 0
    for command in ("submit", "resubmit", "demo", "doctor", "runs"):
        assert command in out.stdout


def test_dry_run_shows_the_chain_and_writes_nothing(runs_root, tmp_path):
    # the plan checks what a submission checks: without raw data the data step would be refused, and
    # without the converted model (models/qwen-7b-native) the training and eval steps
    out = taiyi("submit", "all", "--profile", "devcluster", "--preset", "taiyi1", "--run", "x", "--dry-run")
    assert out.returncode == 2 and "key 'data.raw_dir': folder" in out.stderr, out.stderr
    assert out.stderr.count("key 'model.name_or_path'") == 1, out.stderr  # once, not once per step
    assert list(runs_root.iterdir()) == []
    model = tmp_path / "qwen-7b-native"  # where `taiyi model convert` would have written it
    model.mkdir()
    (model / "config.json").write_text("{}")
    out = taiyi(
        "submit", "all", "--profile", "devcluster", "--preset", "taiyi1", "--run", "x", "--dry-run",
        "data.raw_dir=tests/fixtures/demo_raw", f"model.name_or_path={model}",
    )
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "data -> curate -> stage1 -> stage2 -> eval -> report" in text
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip()
            for line in out.stdout.splitlines() if line.count("│") >= 4}
    assert rows["stage2"] == "stage1" and rows["curate"] == "data" and rows["data"] == "-"
    assert "taiyi_core.train.jobs:train_stage" in text and "partition=debug" in text
    assert list(runs_root.iterdir()) == []  # no run folder, no manifest, no frozen preset


def test_gpu_request_beyond_the_profile_is_refused(runs_root, tmp_path):
    preset = tmp_path / "gpu.yaml"
    preset.write_text("name: g\nmodel: {name_or_path: m}\nresources:\n  stage1: {gpus_per_node: 8}\n")
    profile = tmp_path / "cpu.yaml"
    profile.write_text("name: cpu\nexecutor: slurm\nmax_gpus_per_node: 0\n")
    out = taiyi("submit", "stage1", "--profile", str(profile), "--preset", str(preset), "--run", "y", "-n")
    assert out.returncode == 2
    assert "asks for 8 GPUs per node, the cluster has 0" in out.stderr


def test_doctor_json_for_the_local_profile():
    out = taiyi("doctor", "--profile", "local", "--json")
    checks = json.loads(out.stdout)
    by_name = {c["name"]: c for c in checks}
    assert by_name["python"]["status"] == "pass"
    assert by_name["package submitit"]["status"] == "pass"
    assert by_name["container"]["status"] == "skip"
    assert out.returncode == (1 if any(c["status"] == "fail" for c in checks) else 0)


def test_runs_list_and_delete(runs_root):
    (runs_root / "r1").mkdir()
    out = taiyi("runs", "list", "--json")
    assert [r["run"] for r in json.loads(out.stdout)] == ["r1"]
    assert taiyi("runs", "delete", "r1").returncode == 2  # needs --yes
    assert taiyi("runs", "delete", "r1", "--yes").returncode == 0
    assert not (runs_root / "r1").exists()
