"""From a preset file to the data a Preset is validated from: ``base:``, overrides, paths.

- ``base: other`` (a preset name, or a path relative to this file) is read first and this file's
  keys are merged over it: mappings key by key, anything else (lists, values) replaced whole.
- ``key.path=value`` overrides (``train.lr=1e-4``, ``eval.datasets=[a,b]``) are applied last; the
  value is YAML (so lists and numbers work) and the key path is checked like any other key.
- Paths: a relative path is taken from the working directory, never from where the suite is
  installed; ``{preset_dir}/...`` means the folder of the file that says it. Paths are made
  absolute, so the frozen preset a run's jobs read means the same on every node.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from taiyi_core.validation import ConfigError, read_yaml

PRESET_DIR = "{preset_dir}"
# keys holding a filesystem path (always), or a path or a Hub id / keyword (only when it names a path)
ALWAYS_PATHS = (("data", "raw_dir"),)
MAYBE_PATHS = (("model", "name_or_path"), ("model", "tokenizer"), ("data", "tokenizer"), ("eval", "adapter"))
PATH_LISTS = (("data", "catalog"),)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged onto ``base``: nested mappings key by key, other values replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _walk(data: dict[str, Any], keys: tuple[str, ...]) -> tuple[dict[str, Any], str] | None:
    """(the mapping holding the last key, that key) when every parent is a mapping."""
    node: Any = data
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return (node, keys[-1]) if isinstance(node, dict) else None


def _expand_preset_dir(data: dict[str, Any], path: Path) -> None:
    """``{preset_dir}`` in this file's own path values becomes its folder (before merging)."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PRESET_DIR):
            return str(path.parent.resolve()) + value[len(PRESET_DIR) :]
        return value

    for keys in (*ALWAYS_PATHS, *MAYBE_PATHS):
        found = _walk(data, keys)
        if found and found[1] in found[0]:
            found[0][found[1]] = fix(found[0][found[1]])
    for keys in PATH_LISTS:
        found = _walk(data, keys)
        if found and isinstance(found[0].get(found[1]), list):
            found[0][found[1]] = [fix(v) for v in found[0][found[1]]]


def _is_path(value: str, key: tuple[str, ...]) -> bool:
    if value.startswith(("/", "~", "./", "../")):
        return True
    if key == ("eval", "adapter"):  # stage1 | stage2 | none, or a folder
        return "/" in value
    return Path(value).exists()  # a local folder wins over a Hub id of the same name


def _absolute_paths(data: dict[str, Any]) -> None:
    cwd = Path.cwd()
    for keys in (*ALWAYS_PATHS, *MAYBE_PATHS):
        found = _walk(data, keys)
        if not found or not isinstance(found[0].get(found[1]), str):
            continue
        holder, key = found
        if keys in ALWAYS_PATHS or _is_path(holder[key], keys):
            holder[key] = str((cwd / Path(holder[key]).expanduser()).resolve())
    for keys in PATH_LISTS:
        found = _walk(data, keys)
        if found and isinstance(found[0].get(found[1]), list):
            found[0][found[1]] = [
                str((cwd / Path(v).expanduser()).resolve()) if isinstance(v, str) else v
                for v in found[0][found[1]]
            ]


def read_with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's mapping merged over its ``base:`` chain (cycles refused)."""
    from taiyi_core.config import preset_path

    data = read_yaml(path)
    _expand_preset_dir(data, path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: key 'base': expected the name or path of another preset, got {base!r}")
    try:
        base_path = preset_path(base, relative_to=path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: key 'base': {exc}") from None
    chain = (*seen, path.resolve())
    if base_path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, base_path))
        raise ConfigError(f"{path}: key 'base': presets extend each other in a circle ({names})")
    return merge(read_with_base(base_path, chain), data)


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    key, sep, value = text.partition("=")
    keys = tuple(k.strip() for k in key.split("."))
    if not sep or not all(keys):
        raise ConfigError(f"override {text!r}: expected key.path=value (e.g. train.lr=1e-4)")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: the value is not valid YAML ({exc})") from None
    return keys, parsed


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node: Any = out
        for i, key in enumerate(keys[:-1]):
            key_here = _existing_key(node, key)
            nxt = node.setdefault(key_here, {})
            if not isinstance(nxt, dict):
                where = ".".join(keys[: i + 1])
                raise ConfigError(f"override {text!r}: key {where!r} holds a value, not a mapping")
            node = nxt
        node[_existing_key(node, keys[-1])] = value
    return out


def _existing_key(node: dict[Any, Any], key: str) -> Any:
    """``stages.2``: YAML read the stage number as an int; the override names it as text."""
    if key not in node and key.isdigit() and int(key) in node:
        return int(key)
    return key


def overridden(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A preset mapping built in code (``taiyi eval run --model``) with overrides applied, paths absolute."""
    out = apply_overrides(data, overrides)
    _absolute_paths(out)
    return out


def resolved_data(path: Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """What the Preset model validates: base chain merged, overrides applied, paths absolute."""
    base = read_with_base(path)
    try:
        data = apply_overrides(base, overrides)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    _absolute_paths(data)
    return data
