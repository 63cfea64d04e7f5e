"""adapter_config.json is the same file for identical trainings: target_modules in sorted order.

peft resolves ``all-linear`` to a set; its order follows string hashing, which differs between
processes. Two processes with different hash seeds must write the same config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from transformers import AutoModelForCausalLM
from taiyi_core.train.config import TrainSettings
from taiyi_core.train.trainer import attach_lora
model = attach_lora(AutoModelForCausalLM.from_pretrained(sys.argv[1]), TrainSettings(), None)
model.peft_config["default"].save_pretrained(sys.argv[2])
"""


def test_target_modules_order_does_not_depend_on_the_process(tiny_model, tmp_path):
    written = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"cfg{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = subprocess.run(
            [sys.executable, "-c", CODE, str(tiny_model), str(out)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        written.append((out / "adapter_config.json").read_text())
    targets = json.loads(written[0])["target_modules"]
    assert len(targets) > 1 and targets == sorted(targets)
    assert written[0] == written[1] == written[2]
