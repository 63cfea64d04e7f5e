"""Presets (jobs/*.yaml) and cluster profiles (slurm/profiles/*.yaml), validated on load.

Every error names the file, the key path and what was expected, in one line, so a typo in a
2-day training preset fails at submission time rather than on the GPU node.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parents[1]
PRESETS_DIR = REPO_ROOT / "jobs"
PROFILES_DIR = REPO_ROOT / "slurm" / "profiles"


class ConfigError(Exception):
    """A configuration problem, phrased for the user (file, key, what was expected)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- resources


class Resources(Strict):
    """What one job of a step asks SLURM for."""

    nodes: int = Field(1, ge=1)
    tasks_per_node: int = Field(1, ge=1)  # one task per GPU for distributed steps
    gpus_per_node: int = Field(0, ge=0)
    cpus_per_task: int = Field(1, ge=1)
    mem_gb: float = Field(4, gt=0)
    timeout_min: int = Field(60, ge=1)
    array_parallelism: int = Field(16, ge=1)


class ResourcesOverride(Strict):
    nodes: int | None = Field(None, ge=1)
    tasks_per_node: int | None = Field(None, ge=1)
    gpus_per_node: int | None = Field(None, ge=0)
    cpus_per_task: int | None = Field(None, ge=1)
    mem_gb: float | None = Field(None, gt=0)
    timeout_min: int | None = Field(None, ge=1)
    array_parallelism: int | None = Field(None, ge=1)

    def apply(self, base: Resources) -> Resources:
        return base.model_copy(update=self.model_dump(exclude_none=True))


# --------------------------------------------------------------------------- presets


class ModelSpec(Strict):
    name_or_path: str  # hub id (downloaded by the user beforehand) or a local folder
    trust_remote_code: bool = False  # only when the preset opts in (Qwen-7B ships its own code)
    revision: str | None = None
    tokenizer: str | None = None  # defaults to name_or_path


class DataSettings(Strict):
    raw_dir: str = "data/raw"  # relative to the repo root, or absolute
    datasets: list[str] | Literal["all"] = "all"
    seed: int = 42
    tokenizer: str | None = None  # for the report's token counts; defaults to the model's
    options: dict[str, Any] = Field(default_factory=dict)  # curation knobs; validated by the data step


class Preset(Strict):
    name: str
    description: str = ""
    model: ModelSpec
    data: DataSettings = Field(default_factory=DataSettings)
    # Stage, evaluation and ablation sections are validated by their own steps' models
    # (taiyi_core.train.config, taiyi_core.evaluate.config) when those steps run.
    train: dict[str, Any] = Field(default_factory=dict)
    eval: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, Resources] = Field(default_factory=dict)

    def resources_for(self, step: str) -> Resources:
        return self.resources.get(step, Resources())


# --------------------------------------------------------------------------- profiles


class SlurmSettings(Strict):
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    exclusive: bool = False
    gpu_type: str | None = None  # e.g. "a100": asks for gres gpu:a100:N
    setup: list[str] = Field(default_factory=list)  # shell lines run before the job (module load ...)
    additional: dict[str, Any] = Field(default_factory=dict)  # any other sbatch option
    signal_delay_s: int = Field(120, ge=0)  # USR2 this long before the time limit (checkpoint + requeue)


class Profile(Strict):
    name: str
    executor: Literal["local", "slurm", "debug"]
    description: str = ""
    slurm: SlurmSettings = Field(default_factory=SlurmSettings)
    container: dict[str, Any] | None = None  # validated by taiyi_core.launch.container.ContainerSpec
    resources: dict[str, ResourcesOverride] = Field(default_factory=dict)
    max_gpus_per_node: int | None = Field(None, ge=0)  # where a cluster has fewer, jobs are refused early
    mirrors: dict[str, str] = Field(default_factory=dict)  # URL prefix -> mirror, for `taiyi data fetch`
    hub_online: bool = False  # jobs get HF_HUB_OFFLINE=1 etc. unless this is true (taiyi_core/hub.py)

    @field_validator("slurm")
    @classmethod
    def _slurm_keys(cls, v: SlurmSettings) -> SlurmSettings:
        return v


# --------------------------------------------------------------------------- loading


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _descend(annotation: Any, part: Any) -> Any:
    """The type found under ``part`` (a field name, dict key or list index) of ``annotation``."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin is list:
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _descend(arg, part)
            if found is not None:
                return found
    return None


def _explain(err: dict[str, Any], model: type[BaseModel]) -> str:
    key = _format_loc(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent: Any = model
        for part in err["loc"][:-1]:
            parent = _descend(parent, part)
        allowed = (
            sorted(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        )
        hint = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
        msg = f"unknown key {key!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        if allowed:
            msg += f"; allowed: {', '.join(allowed)}"
        return msg
    if kind == "missing":
        return f"missing required key {key!r}"
    got = err.get("input")
    shown = json.dumps(got, default=str) if not isinstance(got, dict) else "a mapping"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"key {key!r}: {err['msg'].lower()} (got {shown})"


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def validate(model: type[BaseModel], data: dict[str, Any], path: Path | str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (+{more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{path}: {_explain(first, model)}{suffix}") from None


def _resolve(name_or_path: str, folder: Path, kind: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or "/" in name_or_path:
        return candidate if candidate.is_absolute() or candidate.exists() else REPO_ROOT / candidate
    path = folder / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        hint = difflib.get_close_matches(name_or_path, known, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(f"unknown {kind} {name_or_path!r}{extra}; known: {', '.join(known)}")
    return path


def load_preset(name_or_path: str | Path) -> Preset:
    path = _resolve(str(name_or_path), PRESETS_DIR, "preset")
    return validate(Preset, read_yaml(path), path)


def load_profile(name_or_path: str | Path) -> Profile:
    path = _resolve(str(name_or_path), PROFILES_DIR, "profile")
    return validate(Profile, read_yaml(path), path)


def config_hash(*parts: BaseModel | dict[str, Any]) -> str:
    """Stable hash of configuration objects, recorded with every submission."""
    h = hashlib.sha256()
    for part in parts:
        data = part.model_dump(mode="json") if isinstance(part, BaseModel) else part
        h.update(json.dumps(data, sort_keys=True, default=str).encode())
    return "sha256:" + h.hexdigest()[:16]
