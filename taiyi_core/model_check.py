"""Is the preset's model where the jobs will look for it: a local folder, or in the Hugging Face cache?

Nothing is downloaded (jobs run offline): a model that is neither is a one-line problem naming the
key and both places looked in, found before a GPU job spends its queue time on a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from taiyi_core.config import ModelSpec


def model_problem(spec: ModelSpec, where: str = "preset") -> str | None:
    """None when ``spec.name_or_path`` (and a separate tokenizer) can be loaded offline."""
    for key, value in (("model.name_or_path", spec.name_or_path), ("model.tokenizer", spec.tokenizer)):
        if value is None:
            continue
        problem = _one(value, spec.revision)
        if problem:
            return f"{where}: key {key!r}: {value!r} {problem}"
    return None


def _one(value: str, revision: str | None) -> str | None:
    path = Path(value).expanduser()
    if path.is_dir():
        return (
            None
            if (path / "config.json").is_file() or (path / "tokenizer_config.json").is_file()
            else (f"is a folder without config.json or tokenizer_config.json ({path.resolve()})")
        )
    if value.startswith(("/", "./", "../", "~")) or value.count("/") > 1:
        return f"not found: expected a folder with config.json (looked in {path.resolve()})"
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    try:
        found = try_to_load_from_cache(value, "config.json", revision=revision)
        if not isinstance(found, str):
            found = try_to_load_from_cache(value, "tokenizer_config.json", revision=revision)
    except ValueError as exc:  # not a valid repo id
        return f"is neither a folder ({path.resolve()}) nor a Hub id ({exc})"
    if isinstance(found, str):
        return None
    home = os.environ.get("HF_HOME", "~/.cache/huggingface")
    return (
        f"not found: expected a folder with config.json (looked in {path.resolve()}) or a Hub id already "
        f"in the Hugging Face cache ({HF_HUB_CACHE}; HF_HOME={home}): `hf download {value}` where there is "
        f"network; Qwen-7B v1: `hf download Qwen/Qwen-7B --local-dir DIR`, then `taiyi model convert DIR "
        f"DST` (README: Data and models)"
    )
