"""The generation backends sit behind one interface, with no import circle between them and the loop."""

from __future__ import annotations

import ast
from pathlib import Path

EVALUATE = Path(__file__).resolve().parents[2] / "taiyi_core" / "evaluate"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_backends_import_neither_each_other_nor_the_loop():
    hf, vllm = _imports(EVALUATE / "backends" / "hf.py"), _imports(EVALUATE / "backends" / "vllm.py")
    base = _imports(EVALUATE / "backends" / "base.py")
    for imports in (hf, vllm, base):
        assert "taiyi_core.evaluate.generate" not in imports
    assert "taiyi_core.evaluate.backends.vllm" not in hf
    assert "taiyi_core.evaluate.backends.hf" not in vllm
    # the one formatter and the shared prompting (stop ids, tokenizer) in both
    for imports in (hf, vllm):
        assert "taiyi_core.evaluate.backends.base" in imports
        assert "taiyi_core.evaluate.prompting" in imports


def test_the_loop_needs_only_the_interface():
    imports = _imports(EVALUATE / "generate.py")
    assert {i for i in imports if i.startswith("taiyi_core.evaluate.backends")} == {
        "taiyi_core.evaluate.backends.base"
    }
