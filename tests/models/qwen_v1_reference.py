"""Qwen-7B (v1)'s ORIGINAL implementation, run under transformers 5 with the fewest shims possible.

Test-only reference for conversion parity. How it is run (the shims are all listed here):

- The checkpoint folder's own ``configuration_qwen.py`` / ``modeling_qwen.py`` /
  ``qwen_generation_utils.py`` / ``tokenization_qwen.py`` (copied verbatim from the model kit) are
  imported as a package with importlib, not through transformers' dynamic-module loader: that loader
  runs ``check_imports``, which demands ``transformers_stream_generator`` (imported by v1 only
  inside ``chat_stream``; its newest release cannot import under transformers 5). Nothing is stubbed
  for it because nothing imports it.
- 2023-09 revision only: ``modeling_qwen.py`` does ``from kernels.cpp_kernels import
  cache_autogptq_cuda_256`` at import time, which compiles a CUDA extension with nvcc. The module
  is replaced by a stub whose ``cache_autogptq_cuda_256`` is ``None`` while importing; v1 uses
  it only with ``use_cache_quantization`` (False in the config).
- ``PreTrainedModel.get_head_mask`` (removed in transformers 5) is provided on the class: with no
  head mask it returns ``[None] * num_layers``, exactly what transformers 4 returned.
- The model is built with ``QWenLMHeadModel(config)`` and the checkpoint's safetensors are loaded
  with ``load_state_dict(strict=True)`` after construction, so transformers 5's re-run of v1's
  ``_init_weights`` (it re-draws ``attn.c_proj.weight`` in ``from_pretrained``) cannot touch them.
- fp32 on CPU (v1 picks fp32 itself when no GPU is present), eval mode, no KV cache, no flash-attn.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import types
from pathlib import Path
from typing import Any


def _import_package(folder: Path) -> str:
    """Import ``folder`` as a package (its files use relative imports); returns the package name."""
    name = "qwen_v1_ref_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    if name not in sys.modules:
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(folder)]
        sys.modules[name] = pkg
    return name


def _kernel_stub() -> dict[str, types.ModuleType]:
    kernels = types.ModuleType("kernels")
    cpp = types.ModuleType("kernels.cpp_kernels")
    cpp.cache_autogptq_cuda_256 = None  # type: ignore[attr-defined]
    kernels.cpp_kernels = cpp  # type: ignore[attr-defined]
    return {"kernels": kernels, "kernels.cpp_kernels": cpp}


def load_modeling(folder: Path) -> types.ModuleType:
    pkg = _import_package(folder)
    source = (folder / "modeling_qwen.py").read_text(encoding="utf-8")
    stubs = _kernel_stub() if "from kernels.cpp_kernels import" in source else {}
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        modeling = importlib.import_module(f"{pkg}.modeling_qwen")
    finally:
        for key, old in saved.items():
            if old is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = old

    def get_head_mask(self, head_mask, num_hidden_layers, is_attention_chunked=False):
        assert head_mask is None, "the reference supports no head mask"
        return [None] * num_hidden_layers

    modeling.QWenPreTrainedModel.get_head_mask = get_head_mask
    return modeling


def load_reference_model(folder: Path) -> Any:
    """v1's QWenLMHeadModel with the folder's weights, fp32, eval mode."""
    import torch
    from safetensors.torch import load_file

    modeling = load_modeling(folder)
    configuration = importlib.import_module(f"{_import_package(folder)}.configuration_qwen")
    config = configuration.QWenConfig.from_pretrained(str(folder))
    config.use_flash_attn = False
    model = modeling.QWenLMHeadModel(config)
    index = json.loads((folder / "model.safetensors.index.json").read_text(encoding="utf-8"))
    state: dict[str, Any] = {}
    for shard in sorted(set(index["weight_map"].values())):
        state.update(load_file(str(folder / shard)))
    model.load_state_dict(state, strict=True)
    return model.to(torch.float32).eval()


def load_reference_tokenizer(folder: Path) -> Any:
    """v1's own QWenTokenizer class (tiktoken + NFC), from the folder's tokenization_qwen.py."""
    tokenization = importlib.import_module(f"{_import_package(folder)}.tokenization_qwen")
    return tokenization.QWenTokenizer(str(folder / "qwen.tiktoken"))
