"""Can this model be loaded here: a local folder, or a Hub id in the Hugging Face cache, and no remote code
it may not run? The one answer for doctor, ``taiyi train``/``merge``, the submission check and
``taiyi eval run --model``.

Nothing is downloaded (jobs run offline): a model that is neither is a one-line problem naming the
key and the places looked in, found before a GPU job spends its queue time on a traceback. A Qwen-7B
(v1) checkpoint is named with the converter (the rule lives in ``models/remote_code``).
"""

from __future__ import annotations

import os
from pathlib import Path

from taiyi_core.config import ConfigError, ModelSpec

PRESET_KEYS = ("key 'model.name_or_path'", "key 'model.tokenizer'")


def model_problem(
    spec: ModelSpec,
    where: str | None = "preset",
    *,
    labels: tuple[str, str] = PRESET_KEYS,
    offline: bool = True,
) -> str | None:
    """None when ``spec.name_or_path`` (and a separate tokenizer) can be loaded; else one line.

    ``where`` (a preset file or name) and ``labels`` (what names the model and the tokenizer) start the
    line; ``offline=False`` lets a Hub id that is not cached pass (the loader will download it).
    """
    tokenizer = spec.tokenizer or spec.name_or_path
    for label, value, files in (
        (labels[0], spec.name_or_path, ("config.json",)),
        (labels[1], spec.tokenizer, ("tokenizer_config.json", "config.json")),
    ):
        if value is None:
            continue
        problem = _where_problem(value, files, spec.revision, offline)
        if problem:
            return _line(where, label, f"{value!r} {problem}")
    from taiyi_core.models.remote_code import guard_model, guard_tokenizer

    trust, revision = spec.trust_remote_code, spec.revision
    try:
        guard_model(spec.name_or_path, trust_remote_code=trust, revision=revision)
    except ConfigError as exc:
        return _line(where, labels[0], str(exc))
    try:
        guard_tokenizer(tokenizer, trust_remote_code=trust, revision=revision)
    except ConfigError as exc:
        return _line(where, labels[1] if spec.tokenizer else labels[0], str(exc))
    problem = _auto_map_problem(spec)
    return _line(where, labels[0], f"{spec.name_or_path!r} {problem}") if problem else None


def require_model(
    spec: ModelSpec,
    where: str | None = "preset",
    *,
    labels: tuple[str, str] = PRESET_KEYS,
    offline: bool = True,
) -> None:
    """``model_problem`` as a ConfigError (one line), for callers that stop on it."""
    problem = model_problem(spec, where, labels=labels, offline=offline)
    if problem:
        raise ConfigError(problem)


def _line(where: str | None, label: str, text: str) -> str:
    return f"{where}: {label}: {text}" if where else f"{label}: {text}"


def _where_problem(value: str, files: tuple[str, ...], revision: str | None, offline: bool) -> str | None:
    """None when ``value`` is a folder, or a cached Hub id, holding one of ``files``."""
    wanted = " or ".join(files)
    path = Path(value).expanduser()
    if path.is_dir():
        if any((path / f).is_file() for f in files):
            return None
        return f"is a folder without {wanted} ({path.resolve()}; not a transformers checkpoint)"
    if value.startswith(("/", "./", "../", "~")) or value.count("/") > 1:
        return (
            f"not found: no such folder, nor a hub id (owner/name); expected a folder with {wanted} "
            f"(looked in {path.resolve()})"
        )
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    try:
        if any(isinstance(try_to_load_from_cache(value, f, revision=revision), str) for f in files):
            return None
    except ValueError as exc:  # HFValidationError: not of the form owner/name
        return f"not found: no such folder ({path.resolve()}), nor a hub id (owner/name: {exc})"
    if not offline:
        return None  # the loader downloads it
    home = os.environ.get("HF_HOME", "~/.cache/huggingface")
    rev = f" --revision {revision}" if revision else ""
    return (
        f"not found: expected a folder with {wanted} (looked in {path.resolve()}) or a Hub id already "
        f"in the Hugging Face cache ({HF_HUB_CACHE}; HF_HOME={home}), and jobs run offline: "
        f"`hf download {value}{rev}` where there is network, or give a local folder; Qwen-7B v1: "
        "`hf download Qwen/Qwen-7B --local-dir DIR`, then `taiyi model convert DIR DST` "
        "(README: Data and models)"
    )


def _auto_map_problem(spec: ModelSpec) -> str | None:
    """A checkpoint shipping its own code (``auto_map``) runs only where the preset or flag allows it."""
    from taiyi_core.models.remote_code import read_json

    config = read_json(spec.name_or_path, "config.json", spec.revision)
    if spec.trust_remote_code or not config or not config.get("auto_map"):
        return None
    return (
        f"needs its own remote code ({', '.join(sorted(config['auto_map']))}): allow it "
        "(model.trust_remote_code: true; taiyi eval run: --trust-remote-code), "
        "or convert it to a native checkpoint"
    )
