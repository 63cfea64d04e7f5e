"""One run lifecycle for scheduled and in-process steps: the first step of any kind freezes the preset.

``runs/<run>/preset.yaml`` is the resolved preset (``base:`` merged, overrides applied, paths
absolute, every default written out), so the run's recipe cannot change under it: a later step
given a preset (or overrides) that resolves differently is refused, naming the first key that
differs; a later step given none reuses the frozen one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from taiyi_core.atomic import write_text
from taiyi_core.config import Preset, load_preset, preset_path
from taiyi_core.rundir import RunDir
from taiyi_core.validation import ConfigError


@dataclass(frozen=True)
class RunPreset:
    preset: Preset
    source: str  # what the user named (a preset name or file), or the frozen file
    overrides: tuple[str, ...]
    frozen: bool  # the run already had this preset frozen
    file: Path  # the file it was read from (for messages): the frozen one, or the user's


def frozen_text(preset: Preset, source: str, overrides: Sequence[str]) -> str:
    header = [f"# frozen by taiyi from {source}"]
    if overrides:
        header.append(f"# overrides: {' '.join(overrides)}")
    body = yaml.safe_dump(preset.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body


def first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    """The first key path where two dumped presets differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            found = first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
            if found:
                return found
        return None
    return None if a == b else f"{prefix}: {a!r} (frozen) vs {b!r}"


def resolve(run: RunDir, preset: str | Path | None, overrides: Sequence[str] = ()) -> RunPreset:
    """The preset a step of ``run`` uses; nothing is written (``freeze`` does that)."""
    overrides = tuple(overrides)
    if run.preset.is_file():
        frozen = load_preset(run.preset)
        if preset is None and not overrides:
            return RunPreset(frozen, str(run.preset), (), True, run.preset)
        wanted = load_preset(preset if preset is not None else run.preset, overrides)
        diff = first_difference(frozen.model_dump(mode="json"), wanted.model_dump(mode="json"))
        if diff:
            raise ConfigError(
                f"run {run.name!r} was started with a different preset ({run.preset}; {diff}); "
                f"use a new run name, or delete {run.root} to start over"
            )
        return RunPreset(frozen, str(run.preset), overrides, True, run.preset)
    if preset is None:
        raise ConfigError(f"run {run.name!r} has no frozen preset ({run.preset} not found): pass --preset")
    return RunPreset(load_preset(preset, overrides), str(preset), overrides, False, preset_path(preset))


def freeze(run: RunDir, resolved: RunPreset) -> Path:
    """Write the run's preset.yaml when this is the run's first step (atomically)."""
    if not resolved.frozen and not run.preset.exists():
        run.ensure()
        write_text(run.preset, frozen_text(resolved.preset, resolved.source, resolved.overrides))
    return run.preset


def step_preset(run: RunDir, preset: str | Path | None, overrides: Sequence[str] = ()) -> Preset:
    """For an in-process step: resolve, then freeze on the run's first step."""
    resolved = resolve(run, preset, overrides)
    freeze(run, resolved)
    return resolved.preset
