"""Qwen-7B (v1) tensor names -> native Qwen2 names, shard by shard.

The facts (checked against v1's modelling code): the fused ``attn.c_attn`` holds q, k, v stacked on
the output axis, with bias; ``attn.c_proj`` has no bias; the MLP computes ``w1(x) * silu(w2(x))``
then ``c_proj``, so ``w2`` is Qwen2's gate and ``w1`` its up projection; ``ln_1``/``ln_2``/``ln_f``
are RMSNorms. Input: ``model.safetensors`` / ``pytorch_model.bin``, single or sharded with an index.
Each input shard becomes one output safetensors shard, so memory stays at one shard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taiyi_core.models.qwen_v1_config import ConvertError

LAYER = re.compile(r"^transformer\.h\.(\d+)\.(.+)$")

# v1 name (layer-relative for transformer.h.N.*) -> Qwen2 name; c_attn is split in three.
TOP_LEVEL = {
    "transformer.wte.weight": "model.embed_tokens.weight",
    "transformer.ln_f.weight": "model.norm.weight",
    "lm_head.weight": "lm_head.weight",
}
IN_LAYER = {
    "ln_1.weight": "input_layernorm.weight",
    "attn.c_proj.weight": "self_attn.o_proj.weight",
    "ln_2.weight": "post_attention_layernorm.weight",
    "mlp.w1.weight": "mlp.up_proj.weight",
    "mlp.w2.weight": "mlp.gate_proj.weight",
    "mlp.c_proj.weight": "mlp.down_proj.weight",
}
FUSED_QKV = {"attn.c_attn.weight": "weight", "attn.c_attn.bias": "bias"}
# Buffers older v1 code saved with the weights; recomputed by the native model.
BUFFERS = re.compile(r"^transformer\.h\.\d+\.attn\.(masked_bias|bias)$|\.rotary_emb\.inv_freq$")

# Where the weights are, in the order they are looked for: (index file, single file).
LAYOUTS = (
    ("model.safetensors.index.json", "model.safetensors"),
    ("pytorch_model.bin.index.json", "pytorch_model.bin"),
)


def weight_files(src: Path) -> list[Path]:
    """The checkpoint's weight files, from its index when sharded."""
    for index, single in LAYOUTS:
        if (src / index).is_file():
            weight_map = json.loads((src / index).read_text(encoding="utf-8")).get("weight_map") or {}
            files = sorted(set(weight_map.values()))
            missing = [f for f in files if not (src / f).is_file()]
            if missing:
                raise ConvertError(f"{src / index}: names shard(s) {missing} that are not in {src}")
            return [src / f for f in files]
        if (src / single).is_file():
            return [src / single]
    raise ConvertError(f"{src}: no weights (looked for {', '.join(n for pair in LAYOUTS for n in pair)})")


def read_shard(path: Path) -> dict[str, Any]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    return torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)


def expected_shapes(cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """v1 tensor name -> shape, from the v1 config (every layer)."""
    h, v, ff = int(cfg["hidden_size"]), int(cfg["vocab_size"]), int(cfg["intermediate_size"]) // 2
    per_layer = {
        "ln_1.weight": (h,),
        "attn.c_attn.weight": (3 * h, h),
        "attn.c_attn.bias": (3 * h,),
        "attn.c_proj.weight": (h, h),
        "ln_2.weight": (h,),
        "mlp.w1.weight": (ff, h),
        "mlp.w2.weight": (ff, h),
        "mlp.c_proj.weight": (h, ff),
    }
    shapes = {"transformer.wte.weight": (v, h), "transformer.ln_f.weight": (h,), "lm_head.weight": (v, h)}
    for i in range(int(cfg["num_hidden_layers"])):
        shapes.update({f"transformer.h.{i}.{k}": s for k, s in per_layer.items()})
    return shapes


def rename(name: str, tensor: Any) -> Iterator[tuple[str, Any]]:
    """The native (name, tensor) pairs for one v1 tensor (three for the fused q/k/v)."""
    if name in TOP_LEVEL:
        yield TOP_LEVEL[name], tensor
        return
    m = LAYER.match(name)
    assert m, name  # callers pass only names from expected_shapes
    prefix, rest = f"model.layers.{m.group(1)}", m.group(2)
    if rest in IN_LAYER:
        yield f"{prefix}.{IN_LAYER[rest]}", tensor
        return
    q, k, v = tensor.chunk(3, dim=0)
    kind = FUSED_QKV[rest]
    for proj, part in (("q_proj", q), ("k_proj", k), ("v_proj", v)):
        yield f"{prefix}.self_attn.{proj}.{kind}", part.contiguous()


def convert_shard(
    state: dict[str, Any], shapes: dict[str, tuple[int, ...]], where: Path, tied: bool
) -> dict[str, Any]:
    """Rename one shard's tensors; unexpected names and shape mismatches stop with a listing."""
    unexpected = sorted(n for n in state if n not in shapes and not BUFFERS.search(n))
    if unexpected:
        more = f" (+{len(unexpected) - 8} more)" if len(unexpected) > 8 else ""
        raise ConvertError(f"{where}: unexpected Qwen-v1 weight names {unexpected[:8]}{more}")
    wrong = [
        f"{n} {tuple(t.shape)} (expected {shapes[n]})"
        for n, t in state.items()
        if n in shapes and tuple(t.shape) != shapes[n]
    ]
    if wrong:
        raise ConvertError(f"{where}: shape mismatch against config.json: {'; '.join(wrong[:8])}")
    out: dict[str, Any] = {}
    for name, tensor in state.items():
        if name in shapes and not (tied and name == "lm_head.weight"):
            out.update(rename(name, tensor))
    return out


def missing_names(seen: set[str], shapes: dict[str, tuple[int, ...]], tied: bool) -> list[str]:
    return sorted(n for n in shapes if n not in seen and not (tied and n == "lm_head.weight"))
