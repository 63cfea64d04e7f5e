"""`taiyi model convert SRC DST`: a Qwen-7B (v1) checkpoint -> native Qwen2 checkpoint + fast tokenizer.

Qwen-v1 ships its own modelling code, which does not run under transformers 5 (see README "Models").
Its decoder is exactly transformers' Qwen2 with multi-head attention, so the checkpoint is converted
once and everything downstream (QLoRA, packing, merge, evaluation, vLLM) uses native code. DST gets
``config.json``, ``generation_config.json``, safetensors weights (one shard per input shard, with an
index when sharded), ``tokenizer.json`` + ``tokenizer_config.json`` with identical token ids, the
source's LICENSE/NOTICE, and ``CONVERTED.json``: the source, sha256 of every input file and what
happened to every config field. Equal to v1 up to ``seq_length`` tokens (v1's logn attention and
dynamic NTK only act beyond it).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from taiyi_core.atomic import atomic_path, write_json
from taiyi_core.digest import file_sha256
from taiyi_core.models.qwen_v1_config import (
    DROPPED,
    HF_BOOKKEEPING,
    RENAMED,
    REQUIRED,
    ConvertError,
    check_qwen_v1,
    native_config,
    native_generation_config,
)
from taiyi_core.models.qwen_v1_tokenizer import SPECIAL_START_ID, require_tiktoken, write_fast_tokenizer
from taiyi_core.models.qwen_v1_weights import (
    convert_shard,
    expected_shapes,
    missing_names,
    read_shard,
    weight_files,
)

RECORD = "CONVERTED.json"
LICENSE_FILES = ("LICENSE", "NOTICE")
SNAPSHOT = re.compile(r"^[0-9a-f]{40}$")  # a Hub cache folder: .../snapshots/<commit>/


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConvertError(f"{path}: not valid JSON ({exc})") from exc


def field_record(v1: dict[str, Any]) -> dict[str, Any]:
    """What happened to each source config field (written to CONVERTED.json)."""
    out: dict[str, Any] = {}
    for key, value in v1.items():
        if key in RENAMED:
            how = f"-> {RENAMED[key]}"
        elif key in REQUIRED:
            how = f"checked == {REQUIRED[key]!r} (the native model computes the same)"
        elif key in DROPPED:
            how = DROPPED[key]
        else:
            how = "Hugging Face bookkeeping, not architecture" if key in HF_BOOKKEEPING else "?"
        out[key] = {"value": value, "how": how}
    return out


def check_source(src: Path) -> dict[str, Any]:
    """The source's v1 config, or a one-line error naming the file/key that rules it out."""
    if not src.is_dir():
        raise ConvertError(f"{src}: not a folder (give the downloaded Qwen-7B / Taiyi-LLM checkpoint folder)")
    cfg_path = src / "config.json"
    if not cfg_path.is_file():
        raise ConvertError(f"{src}: no config.json (not a transformers checkpoint)")
    v1 = read_json(cfg_path)
    check_qwen_v1(v1, str(cfg_path))
    require_tiktoken(src)
    return v1


def convert(src: Path, dst: Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Convert ``src`` (Qwen-v1) into ``dst`` (native Qwen2), atomically; returns the CONVERTED record."""
    from safetensors.torch import save_file
    from transformers import GenerationConfig, Qwen2Config

    src, dst = Path(src).resolve(), Path(dst).resolve()
    t0 = time.time()
    v1 = check_source(src)
    if dst == src or src in dst.parents:
        raise ConvertError(f"{dst}: the destination must not be inside the source {src}")
    if dst.exists() and any(dst.iterdir()) and not overwrite:
        raise ConvertError(f"{dst}: exists and is not empty (pass --overwrite to replace it)")
    gen_src = read_json(src / "generation_config.json") if (src / "generation_config.json").is_file() else {}
    gen, gen_dropped = native_generation_config(gen_src)
    eos = gen.get("eos_token_id", SPECIAL_START_ID)
    eos_id = eos[0] if isinstance(eos, list) else eos
    pad_id = gen.get("pad_token_id", eos_id)
    files = weight_files(src)
    shapes = expected_shapes(v1)
    tied = bool(v1.get("tie_word_embeddings", False))
    seen: set[str] = set()
    dtypes: set[str] = set()
    weight_map: dict[str, str] = {}
    total = 0
    with atomic_path(dst) as tmp:
        tmp.mkdir(parents=True)
        for i, path in enumerate(files, 1):
            state = read_shard(path)
            out = convert_shard(state, shapes, path, tied)
            seen.update(n for n in state if n in shapes)
            dtypes.update(str(t.dtype).removeprefix("torch.") for t in out.values())
            name = f"model-{i:05d}-of-{len(files):05d}.safetensors" if len(files) > 1 else "model.safetensors"
            save_file(out, str(tmp / name), metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(out, name))
            total += sum(t.numel() * t.element_size() for t in out.values())
            del state, out
        missing = missing_names(seen, shapes, tied)
        if missing:
            more = f" (+{len(missing) - 8} more)" if len(missing) > 8 else ""
            raise ConvertError(f"{src}: weights missing for {missing[:8]}{more}")
        if len(dtypes) != 1:
            raise ConvertError(f"{src}: weights mix dtypes {sorted(dtypes)}")
        dtype = dtypes.pop()
        if len(files) > 1:
            write_json(
                tmp / "model.safetensors.index.json",
                {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
            )
        cfg = native_config(v1, eos_id=eos_id, pad_id=pad_id, dtype=dtype, where=str(src / "config.json"))
        Qwen2Config(**{k: v for k, v in cfg.items() if k != "model_type"}).save_pretrained(str(tmp))
        GenerationConfig(**gen).save_pretrained(str(tmp))
        tok = write_fast_tokenizer(src, tmp, model_max_length=cfg["max_position_embeddings"])
        for name in LICENSE_FILES:
            if (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
        inputs = sorted(p for p in src.iterdir() if p.is_file())
        record = {
            "converted_by": "taiyi model convert (taiyi_core.models.qwen_v1_convert)",
            "source": str(src),
            "source_revision": src.name if SNAPSHOT.match(src.name) else None,
            "source_files_sha256": {p.name: file_sha256(p) for p in inputs},
            "architecture": "QWenLMHeadModel (remote code) -> Qwen2ForCausalLM (native)",
            "exact_up_to_tokens": cfg["max_position_embeddings"],
            "config_fields": field_record(v1),
            "generation_config": {"source": gen_src, "dropped": gen_dropped},
            "weights": {
                "input_files": [p.name for p in files],
                "tensors_in": len(seen),
                "tensors_out": len(weight_map),
                "dtype": dtype,
                "bytes": total,
            },
            "tokenizer": tok,
            "seconds": round(time.time() - t0, 1),
        }
        write_json(tmp / RECORD, record)
    return record
