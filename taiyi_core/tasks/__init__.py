"""Task types: one module per task (render + parse + score side by side); see README.md here.

``get_task(name)`` returns the module; every module has NAME, FAMILIES, render, parse, score, gold.
"""

from __future__ import annotations

from types import ModuleType

from .base import Instance, Parsed, RenderError
from .registry import BY_NAME, TASK_NAMES

TASKS: tuple[str, ...] = TASK_NAMES  # declared in registry.py


def get_task(name: str) -> ModuleType:
    """The task module for ``name``; an unknown name raises ValueError listing the known ones."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return BY_NAME[name].load()


__all__ = ["TASKS", "Instance", "Parsed", "RenderError", "get_task"]
