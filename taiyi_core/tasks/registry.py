"""Every task type, declared once: the catalog, the data options, rendering and scoring derive from here.

Adding a task type: its module ``taiyi_core/tasks/<module>.py`` (NAME, FAMILIES, render, parse, score,
gold), its templates ``taiyi_core/tasks/templates/<name>.yaml`` and one ``TaskType`` line below.
``tests/tasks/test_registry.py`` fails when a module, a template file or this line is missing.

This module imports nothing heavy (the catalog reads it while validating YAML).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class TaskType:
    name: str  # as written in the catalog (tasks:, mix:) and in presets (data.options.stage1.tasks)
    module: str  # taiyi_core.tasks.<module> (``re`` would shadow the standard library inside the package)
    stage: int  # 1: its data enters stage 1 (and 2); 2: only stage 2 (QA, dialogue: Taiyi's second stage)
    category: str  # the category of Taiyi's released instruction data it is exported as
    imported_from: tuple[str, ...] = ()  # released-data categories read back as this task (data/render.py)

    def load(self) -> ModuleType:
        return importlib.import_module(f"{__package__}.{self.module}")

    @property
    def families(self) -> tuple[str, ...]:
        """Unified-record families it renders (the module's FAMILIES)."""
        return tuple(self.load().FAMILIES)


# Order is the order tasks are listed in (catalog messages, the default stage-1 task list).
TASK_TYPES: tuple[TaskType, ...] = (
    TaskType("ner", "ner", 1, "NER", ("NER",)),
    TaskType("re", "re_", 1, "RE", ("RE",)),
    TaskType("ee", "ee", 1, "EE", ("EE",)),
    TaskType("norm", "norm", 1, "NER"),
    TaskType("tc", "tc", 1, "TC", ("TC",)),
    TaskType("sts", "sts", 1, "TP-ss", ("TP-ss", "TP-te")),
    TaskType("mcqa", "mcqa", 2, "QA_choice", ("QA_choice",)),
    TaskType("yesno", "yesno", 2, "QA_choice"),
    TaskType("qa", "qa", 2, "QA_sqa", ("QA_sqa", "COT")),
    TaskType("cqa", "cqa", 2, "QA_cqa", ("QA_cqa",)),
    TaskType("dialogue", "dialogue", 2, "MRD", ("MRD",)),
    TaskType("mt", "mt", 1, "MT-zh2en", ("MT-en2zh", "MT-zh2en")),
    TaskType("t2t", "t2t", 1, "TT-ds", ("TT-ds",)),
    TaskType("report", "report", 1, "ADD", ("ADD",)),
    TaskType("t2s", "t2s", 1, "ADD", ("TT-ts",)),
)

BY_NAME: dict[str, TaskType] = {t.name: t for t in TASK_TYPES}
TASK_NAMES: tuple[str, ...] = tuple(BY_NAME)
STAGE1_TASKS: tuple[str, ...] = tuple(t.name for t in TASK_TYPES if t.stage == 1)
STAGE2_TASKS: frozenset[str] = frozenset(t.name for t in TASK_TYPES if t.stage == 2)
# Taiyi's release categories -> our task names, and ours -> the category each is exported as
CATEGORY_TASK: dict[str, str] = {c: t.name for t in TASK_TYPES for c in t.imported_from}
TASK_CATEGORY: dict[str, str] = {t.name: t.category for t in TASK_TYPES}
