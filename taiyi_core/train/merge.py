"""Merge a LoRA adapter into its (unquantised) base model and save a servable model folder."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from taiyi_core.atomic import atomic_path, write_json
from taiyi_core.config import ModelSpec
from taiyi_core.models.qwen_v1_convert import RECORD as CONVERTED_RECORD

_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def merge(spec: ModelSpec, adapter: Path, out: Path, *, dtype: str = "auto") -> dict[str, Any]:
    """Load the base in full precision (not 4-bit: merging into quantised weights loses precision),
    apply the adapter, ``merge_and_unload``, save model + tokenizer atomically to ``out``."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taiyi_core.models.remote_code import guard_model, guard_tokenizer, remote_code_errors

    if not (adapter / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter}: no adapter to merge (train the stage first)")
    if dtype == "auto":
        dtype = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    t0 = time.time()
    guard_model(spec.name_or_path, trust_remote_code=spec.trust_remote_code, revision=spec.revision)
    with remote_code_errors(spec.name_or_path, trust_remote_code=spec.trust_remote_code):
        base = AutoModelForCausalLM.from_pretrained(
            spec.name_or_path,
            trust_remote_code=spec.trust_remote_code,
            revision=spec.revision,
            dtype=getattr(torch, _DTYPES[dtype]),
        )
    model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    model.config.use_cache = True
    tokenizer_src = (
        adapter if (adapter / "tokenizer_config.json").is_file() else (spec.tokenizer or spec.name_or_path)
    )
    guard_tokenizer(str(tokenizer_src), trust_remote_code=spec.trust_remote_code)
    with remote_code_errors(str(tokenizer_src), trust_remote_code=spec.trust_remote_code):
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_src, trust_remote_code=spec.trust_remote_code)
    converted = Path(spec.name_or_path) / CONVERTED_RECORD
    with atomic_path(out) as tmp:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        if converted.is_file():  # keeps the Qwen-v1 lineage (evaluation's taiyi1 prompt format) visible
            shutil.copyfile(converted, Path(tmp) / CONVERTED_RECORD)
    summary = {
        "base": spec.name_or_path,
        "adapter": str(adapter),
        "merged": str(out),
        "dtype": dtype,
        "seconds": time.time() - t0,
    }
    write_json(out / "merge.json", summary)
    return summary
