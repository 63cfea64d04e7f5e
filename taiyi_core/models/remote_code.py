"""Remote code only when a preset opts in, and errors that point Qwen-7B (v1) users to the converter.

Called by the loaders (training, merge, evaluation) just before ``from_pretrained``:
``guard_model`` / ``guard_tokenizer`` read the checkpoint's ``config.json`` / ``tokenizer_config.json``
(a local folder, or the Hub cache when offline) and refuse a Qwen-v1 checkpoint with a one-line
``ConfigError``; ``remote_code_errors`` wraps the load itself so a failing remote-code import names
the fix. Qwen-v1's model is refused even with ``trust_remote_code: true`` under transformers 5: it
then crashes on NF4 and, without 4-bit, silently re-draws ``attn.c_proj.weight`` (platform notes),
which would corrupt merges with no error. Its tokenizer (tiktoken) works when a preset opts in.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taiyi_core.config import ConfigError
from taiyi_core.models.qwen_v1_config import is_qwen_v1

CONVERT_HINT = (
    "convert it once with `taiyi model convert SRC DST` (native Qwen2 weights + fast tokenizer, same ids) "
    "and set model.name_or_path: DST, trust_remote_code: false (README: Data and models)"
)
V1_TOKENIZER_CLASS = "QWenTokenizer"


def read_json(name_or_path: str, filename: str, revision: str | None) -> dict[str, Any] | None:
    """A JSON file of a local folder or of the Hub cache; None when not available here."""
    local = Path(name_or_path).expanduser() / filename
    path: Path | None = local if local.is_file() else None
    if path is None:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(name_or_path, filename, revision=revision)
            path = Path(cached) if isinstance(cached, str) else None
        except Exception:  # not a valid repo id, or no cache: nothing to check
            path = None
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _transformers_major() -> int:
    import transformers

    return int(transformers.__version__.split(".")[0])


def guard_model(name_or_path: str, *, trust_remote_code: bool, revision: str | None = None) -> None:
    config = read_json(name_or_path, "config.json", revision)
    if config is None or not is_qwen_v1(config):
        return
    if not trust_remote_code:
        raise ConfigError(
            f"{name_or_path}: a Qwen-7B (v1) checkpoint (remote code, not allowed); {CONVERT_HINT}"
        )
    if _transformers_major() >= 5:
        raise ConfigError(
            f"{name_or_path}: Qwen-7B (v1)'s own code does not run correctly under transformers "
            f"{_transformers_major()} (NF4 load crashes, otherwise attn.c_proj.weight is silently "
            f"re-initialised); {CONVERT_HINT}"
        )


def guard_tokenizer(name_or_path: str, *, trust_remote_code: bool, revision: str | None = None) -> None:
    cfg = read_json(name_or_path, "tokenizer_config.json", revision)
    if cfg is not None and cfg.get("tokenizer_class") == V1_TOKENIZER_CLASS and not trust_remote_code:
        raise ConfigError(
            f"{name_or_path}: a Qwen-7B (v1) tokenizer ({V1_TOKENIZER_CLASS}, remote code, not allowed); "
            f"{CONVERT_HINT}"
        )


@contextlib.contextmanager
def remote_code_errors(name_or_path: str, *, trust_remote_code: bool) -> Iterator[None]:
    """Re-raise a failed remote-code load as a ConfigError that names the converter."""
    try:
        yield
    except Exception as exc:
        if not trust_remote_code or isinstance(exc, ConfigError):
            raise
        raise ConfigError(
            f"{name_or_path}: loading its remote code failed ({type(exc).__name__}: {exc}); "
            f"for a Qwen-7B (v1) checkpoint, {CONVERT_HINT}"
        ) from exc
