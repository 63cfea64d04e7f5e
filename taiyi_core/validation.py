"""Validation of configuration files: one-line errors naming the file, the key path and what was expected.

The machinery shared by presets, profiles and the sections that other modules define (``train:`` in
taiyi_core.train.config, ``eval:`` in taiyi_core.evaluate.config, ``data.options`` in
taiyi_core.data.options), kept apart from taiyi_core.config so that those modules can be imported
by it without a cycle.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(Exception):
    """A configuration problem, phrased for the user (file, key, what was expected)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


def _explain(err: Mapping[str, Any], model: type[BaseModel]) -> str:
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


def validate(model: type[BaseModel], data: Any, path: Path | str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (+{more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{path}: {_explain(first, model)}{suffix}") from None
