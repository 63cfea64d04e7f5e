"""Conversions a release needs before its reader can read it (the catalog's ``download.convert``).

Each conversion is a function ``(folder, **options) -> list of written paths`` registered by name; it
reads what a fetch or ``taiyi data add`` unpacked into ``folder`` (the dataset's staging folder) and
writes the files the entry's ``files`` globs describe. Conversions are deterministic and tested on
fixtures laid out like the real release (tests/data/test_convert.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taiyi_core.catalog.download import ConvertStep
from taiyi_core.fetch.errors import FetchError

Conversion = Callable[..., list[str]]
CONVERSIONS: dict[str, Conversion] = {}


def conversion(name: str) -> Callable[[Conversion], Conversion]:
    def register(fn: Conversion) -> Conversion:
        if name in CONVERSIONS:
            raise ValueError(f"conversion {name!r} registered twice")
        CONVERSIONS[name] = fn
        return fn
    return register


def run_steps(dataset: str, steps: list[ConvertStep], folder: Path) -> list[str]:
    """Run a dataset's conversion steps in order; a failure names the dataset, the step and the cause."""
    _load_builtin()
    written: list[str] = []
    for step in steps:
        try:
            check_options(step)
        except FetchError as exc:
            raise FetchError(f"{dataset}: {exc}") from None
        fn = CONVERSIONS[step.step]
        try:
            written += fn(folder, **step.options)
        except FetchError as exc:
            raise FetchError(f"{dataset}: conversion {step.step}: {exc}") from None
        except (OSError, ValueError, KeyError) as exc:
            raise FetchError(f"{dataset}: conversion {step.step} failed: {type(exc).__name__}: {exc}") \
                from None
    return written


def check_options(step: ConvertStep) -> None:
    """Unknown or missing options of a step, named (the catalog test calls this for every entry)."""
    _load_builtin()
    fn = CONVERSIONS.get(step.step)
    if fn is None:
        raise FetchError(f"unknown conversion {step.step!r} (known: {', '.join(sorted(CONVERSIONS))})")
    params = list(inspect.signature(fn).parameters.values())[1:]
    allowed = {p.name for p in params}
    required = {p.name for p in params if p.default is inspect.Parameter.empty}
    unknown = sorted(set(step.options) - allowed)
    missing = sorted(required - set(step.options))
    if unknown or missing:
        raise FetchError(f"conversion {step.step}: unknown option(s) {unknown}, missing {missing}; "
                         f"allowed: {', '.join(sorted(allowed)) or 'none'}")


def _load_builtin() -> None:
    from taiyi_core.fetch import conversions  # noqa: F401  (registers the built-in conversions)


def options_of(name: str) -> dict[str, Any]:
    _load_builtin()
    return {p.name: p.default for p in list(inspect.signature(CONVERSIONS[name]).parameters.values())[1:]}
