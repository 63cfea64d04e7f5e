"""A real-shaped tiny Qwen-7B (v1) checkpoint for tests: the real files, random weights, v1 names.

From a model kit (``../shared/models/qwen-7b`` or ``qwen-7b-2023-09``: real config, tokenizer and
remote code, no weights): the real ``config.json`` with only its sizes shrunk (``TINY_SIZES`` of
``taiyi_core.train.tiny``; the vocabulary stays 151,936 so the real ``qwen.tiktoken`` ids fit: the
embedding and head are 2 x 151936 x 32 floats, about 39 MB), every other file copied verbatim, and
random weights saved as sharded safetensors under the real v1 parameter names
(``transformer.wte``, ``transformer.h.N.attn.c_attn``, ..., ``lm_head``). This is what
``taiyi model convert`` sees for the real Qwen-7B or Taiyi-LLM, minus the sizes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from taiyi_core.atomic import atomic_path
from taiyi_core.models.qwen_v1_weights import expected_shapes
from taiyi_core.train.tiny import TINY_SIZES

RECORD = "tiny_qwen_v1.json"
NOT_COPIED = {"config.json", "model.safetensors.index.json"}  # rewritten for the tiny weights


def kit_files(kit_dir: Path, base_kit: Path | None) -> dict[str, Path]:
    """Relative path -> file: the kit's own files, plus the base kit's for names the kit lacks anywhere
    (the 2023-09 kit holds only what differs from HEAD, and keeps its kernels under kernels/)."""
    own = {p.relative_to(kit_dir).as_posix(): p for p in _files(kit_dir)}
    files = dict(own)
    if base_kit is not None:
        names = {Path(rel).name for rel in own}
        for p in _files(base_kit):
            if p.name not in names:
                files.setdefault(p.relative_to(base_kit).as_posix(), p)
    return {rel: p for rel, p in files.items() if rel not in NOT_COPIED}


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def tiny_v1_config(real: dict) -> dict:
    """The real v1 config with its sizes shrunk; v1 stores twice the MLP width in intermediate_size."""
    cfg = dict(real)
    hidden, heads = TINY_SIZES["hidden_size"], TINY_SIZES["num_attention_heads"]
    cfg.update(
        num_hidden_layers=TINY_SIZES["num_hidden_layers"],
        hidden_size=hidden,
        num_attention_heads=heads,
        kv_channels=hidden // heads,
        intermediate_size=2 * TINY_SIZES["intermediate_size"],
    )
    return cfg


def build_tiny_qwen_v1(
    kit_dir: Path,
    out_dir: Path,
    *,
    seed: int = 0,
    base_kit: Path | None = None,
    init_std: float = 0.02,
    weights_format: str = "safetensors",
) -> Path:
    """Write a tiny Qwen-v1 checkpoint to ``out_dir`` (atomically) and return it.

    ``base_kit`` supplies the files ``kit_dir`` lacks (``qwen-7b`` for ``qwen-7b-2023-09``).
    ``init_std``: weights ~ N(0, std), norms ~ 1 + N(0, std), so no tensor is trivially an identity
    (a larger std gives larger logits, for parity tests). ``weights_format``: ``safetensors`` (two
    shards with ``model.safetensors.index.json``, like the release) or ``bin`` (one
    ``pytorch_model.bin``, like older fine-tuned checkpoints).
    """
    import torch

    kit_dir, out_dir = Path(kit_dir), Path(out_dir)
    real = json.loads((kit_dir / "config.json").read_text(encoding="utf-8"))
    cfg = tiny_v1_config(real)
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in expected_shapes(cfg).items():
        noise = torch.randn(shape, generator=gen) * init_std
        state[name] = 1.0 + noise if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) else noise
    with atomic_path(out_dir) as tmp:
        tmp.mkdir(parents=True)
        for rel, path in kit_files(kit_dir, base_kit).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, tmp / rel)
        (tmp / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        if weights_format == "bin":
            torch.save(state, tmp / "pytorch_model.bin")
        elif weights_format == "safetensors":
            _save_two_shards(state, tmp, layers=cfg["num_hidden_layers"])
        else:
            raise ValueError(f"weights_format {weights_format!r}: expected safetensors or bin")
        base = str(base_kit) if base_kit else None
        record: dict[str, Any] = {"kit": str(kit_dir), "base_kit": base, "seed": seed}
        record.update(init_std=init_std, sizes={k: cfg[k] for k in TINY_SIZES})
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return out_dir


def _save_two_shards(state: dict, folder: Path, *, layers: int) -> None:
    """First half of the layers (and the embedding) in shard 1, the rest and the head in shard 2."""
    from safetensors.torch import save_file

    def shard_of(name: str) -> int:
        if name.startswith("transformer.h."):
            return 1 if int(name.split(".")[2]) < max(1, layers // 2) else 2
        return 1 if name == "transformer.wte.weight" else 2

    names = {i: f"model-{i:05d}-of-00002.safetensors" for i in (1, 2)}
    weight_map = {n: names[shard_of(n)] for n in sorted(state)}
    for i, fname in names.items():
        save_file({n: t for n, t in state.items() if shard_of(n) == i}, str(folder / fname), {"format": "pt"})
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
