"""Which weights an evaluation uses: the base model alone, base + a PEFT adapter, or a merged model.

``adapter`` in the eval settings is ``stage2`` / ``stage1`` (the run's trained adapters), ``none``
(the base model), or a path: a folder with ``adapter_config.json`` is an adapter on top of the
preset's base model, a folder with ``config.json`` is a merged full model that replaces it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taiyi_core.config import REPO_ROOT, ConfigError, ModelSpec
from taiyi_core.digest import sha256_tag, update_from_file
from taiyi_core.rundir import RunDir


@dataclass(frozen=True)
class Weights:
    base: str  # hub id or local folder of the (possibly merged) model
    tokenizer: str  # where the tokenizer (and its chat template) is loaded from
    adapter: Path | None  # PEFT adapter folder, or None
    kind: str  # base | stage1 | stage2 | adapter | merged
    trust_remote_code: bool = False
    revision: str | None = None

    @property
    def tokenizer_revision(self) -> str | None:
        """The revision applies to the tokenizer only where it is loaded from the base model."""
        return self.revision if self.tokenizer == self.base else None

    def record(self) -> dict[str, Any]:
        """The model/adapter identity written to metrics.json (and part of the resume fingerprint)."""
        return {
            "model": {"name_or_path": self.base, "revision": self.revision, "merged": self.kind == "merged"},
            "adapter": None
            if self.adapter is None
            else {"kind": self.kind, "path": str(self.adapter), "hash": adapter_hash(self.adapter)},
        }


def local_or_hub(name_or_path: str) -> str:
    """A relative path is taken from the working directory, then the repo root; else a hub id."""
    p = Path(name_or_path).expanduser()
    if p.is_absolute():
        return str(p)
    for base in (Path.cwd(), REPO_ROOT):
        if (base / p).exists():
            return str((base / p).resolve())
    return name_or_path


def adapter_hash(folder: Path) -> str:
    """Hash of the adapter's config and weights: a retrained adapter invalidates earlier metrics."""
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file() and (f.name == "adapter_config.json" or f.name.startswith("adapter_model")):
            h.update(f.name.encode())
            update_from_file(h, f)
    return sha256_tag(h)


def _has_tokenizer(folder: Path) -> bool:
    return (folder / "tokenizer_config.json").is_file()


def resolve_weights(spec: ModelSpec, adapter: str, run: RunDir | None) -> Weights:
    base = local_or_hub(spec.name_or_path)
    tokenizer = local_or_hub(spec.tokenizer) if spec.tokenizer else base
    common: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code, "revision": spec.revision}
    if adapter == "none":
        return Weights(base, tokenizer, None, "base", **common)
    if adapter in ("stage1", "stage2"):
        if run is None:
            raise ConfigError(f"adapter {adapter!r} needs a run directory (or give a path)")
        folder = run.train(int(adapter[-1])) / "adapter"
        if not (folder / "adapter_config.json").is_file():
            raise ConfigError(
                f"adapter {adapter!r}: no trained adapter at {folder} (adapter_config.json missing); "
                f"train {adapter} first, or evaluate with --adapter none / a path"
            )
        tok = str(folder) if _has_tokenizer(folder) else tokenizer
        return Weights(base, tok, folder, adapter, **common)
    folder = Path(local_or_hub(adapter))
    if (folder / "adapter_config.json").is_file():
        tok = str(folder) if _has_tokenizer(folder) else tokenizer
        return Weights(base, tok, folder, "adapter", **common)
    if (folder / "config.json").is_file():
        tok = str(folder) if _has_tokenizer(folder) else tokenizer
        return Weights(str(folder), tok, None, "merged", trust_remote_code=spec.trust_remote_code)
    raise ConfigError(
        f"adapter {adapter!r}: expected stage1, stage2, none, or a folder holding a PEFT adapter "
        "(adapter_config.json) or a merged model (config.json)"
    )


def adapter_base(adapter: Path) -> str:
    """The base model an adapter was trained on (``base_model_name_or_path`` of adapter_config.json)."""
    import json

    cfg_file = adapter / "adapter_config.json"
    if not cfg_file.is_file():
        raise ConfigError(f"adapter {adapter}: no adapter_config.json (expected a PEFT adapter folder)")
    try:
        base = json.loads(cfg_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{cfg_file}: not valid JSON ({exc.msg})") from None
    if not base:
        raise ConfigError(f"{cfg_file}: no base_model_name_or_path; pass the base with --model")
    return local_or_hub(str(base))


def model_spec(
    model: str | None, adapter: str | None, *, revision: str | None = None, trust_remote_code: bool = False
) -> tuple[ModelSpec, str]:
    """(model spec, eval adapter setting) for ``taiyi eval run --model M [--adapter DIR]``.

    Without ``--model`` the base comes from the adapter's adapter_config.json. The model (or the
    base) is checked to be loadable offline before anything else runs.
    """
    if model is None and adapter is None:
        raise ConfigError("give --model PATH_OR_HUB_ID, --adapter DIR, or --run RUN")
    folder = Path(local_or_hub(adapter)) if adapter else None
    if folder is not None and not (folder / "adapter_config.json").is_file():
        raise ConfigError(f"--adapter {adapter}: no adapter_config.json (expected a PEFT adapter folder)")
    base = local_or_hub(model) if model else adapter_base(folder)  # type: ignore[arg-type]
    spec = ModelSpec(name_or_path=base, revision=revision, trust_remote_code=trust_remote_code)
    from huggingface_hub import constants

    from taiyi_core.model_check import require_model

    named = "--model" if model else f"{folder}/adapter_config.json: base_model_name_or_path"
    require_model(spec, None, labels=(named, named), offline=constants.HF_HUB_OFFLINE)
    return spec, str(folder) if folder is not None else "none"
