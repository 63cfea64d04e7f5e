"""Presets (jobs/*.yaml) and cluster profiles (slurm/profiles/*.yaml), validated on load.

Every error names the file, the key path and what was expected, in one line, so a typo in a
2-day training preset fails at submission time rather than on the GPU node. A preset's sections
are typed: ``train:`` (taiyi_core.train.config.TrainSettings), ``eval:``
(taiyi_core.evaluate.config.EvalSettings), ``data.options`` (taiyi_core.data.options.DataOptions)
and ``resources:``. How a preset file becomes a Preset (``base:``, ``key=value`` overrides,
relative paths) is taiyi_core.preset_file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from taiyi_core.data.options import DataOptions
from taiyi_core.digest import sha256_tag
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.train.config import TrainSettings
from taiyi_core.validation import ConfigError, Strict, _explain, read_yaml, validate

__all__ = ["ConfigError", "Strict", "_explain", "read_yaml", "validate"]  # re-exported for older imports

REPO_ROOT = Path(__file__).resolve().parents[1]
PRESETS_DIR = REPO_ROOT / "jobs"
PROFILES_DIR = REPO_ROOT / "slurm" / "profiles"


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
    raw_dir: str = "data/raw"  # relative to the working directory (preset_file.py), or absolute
    datasets: list[str] | Literal["all"] = "all"
    seed: int = 42
    tokenizer: str | None = None  # for the report's token counts; defaults to the model's
    options: DataOptions = Field(default_factory=DataOptions)  # curation knobs (data/options.py)
    # folders of user catalog entries (*.yaml, the catalog's schema), besides $TAIYI_CATALOG_PATH
    catalog: list[str] = Field(default_factory=list)


class Preset(Strict):
    name: str
    description: str = ""
    model: ModelSpec
    data: DataSettings = Field(default_factory=DataSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
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


def _resolve(name_or_path: str, folder: Path, kind: str, relative_to: Path | None = None) -> Path:
    """A YAML path (relative to ``relative_to``, default the working directory) or a shipped name."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in {".yaml", ".yml"} or "/" in name_or_path:
        path = candidate if candidate.is_absolute() else (relative_to or Path.cwd()) / candidate
        if not path.is_file():
            raise ConfigError(f"{path}: {kind} file not found")
        return path
    path = folder / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.yaml") if p.name != "pipeline.yaml")
        hint = difflib.get_close_matches(name_or_path, known, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(f"unknown {kind} {name_or_path!r}{extra}; known: {', '.join(known)}")
    return path


def preset_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """The file of a preset given by name (jobs/<name>.yaml) or path (from ``relative_to`` or cwd)."""
    return _resolve(str(name_or_path), PRESETS_DIR, "preset", relative_to)


def load_preset(name_or_path: str | Path, overrides: Sequence[str] = ()) -> Preset:
    """The preset: its ``base:`` chain merged, ``key.path=value`` overrides applied, paths made
    absolute, every section validated; a problem is one ConfigError line naming file and key."""
    from taiyi_core.preset_file import resolved_data

    path = preset_path(name_or_path)
    data = resolved_data(path, overrides)
    where = f"{path} (with {' '.join(overrides)})" if overrides else path
    preset = validate(Preset, data, where)
    _use_catalog_dirs(preset, path)
    return preset


def _use_catalog_dirs(preset: Preset, path: Path) -> None:
    """A preset's ``data.catalog`` folders join ``$TAIYI_CATALOG_PATH`` in the process that loads it
    (and so in its jobs, which load the frozen preset): every catalog lookup then sees them."""
    import os

    from taiyi_core.catalog import CATALOG_PATH_ENV

    for folder in preset.data.catalog:
        if not Path(folder).is_dir():
            raise ConfigError(f"{path}: key 'data.catalog': {folder} is not a folder")
    current = [p for p in os.environ.get(CATALOG_PATH_ENV, "").split(os.pathsep) if p]
    added = [f for f in preset.data.catalog if f not in current]
    if added:
        os.environ[CATALOG_PATH_ENV] = os.pathsep.join([*current, *added])


def load_profile(name_or_path: str | Path) -> Profile:
    path = _resolve(str(name_or_path), PROFILES_DIR, "profile")
    return validate(Profile, read_yaml(path), path)


def config_hash(*parts: BaseModel | dict[str, Any]) -> str:
    """Stable hash of configuration objects, recorded with every submission."""
    h = hashlib.sha256()
    for part in parts:
        data = part.model_dump(mode="json") if isinstance(part, BaseModel) else part
        h.update(json.dumps(data, sort_keys=True, default=str).encode())
    return sha256_tag(h)
