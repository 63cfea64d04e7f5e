"""One home per kind: task types (tasks/registry.py) and readers (formats READERS) are declared once.

These fail when a task or reader is added in only one place: a module without its registry line, a
registry line without its module (or templates), or a copy of the list kept somewhere else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from taiyi_core import catalog
from taiyi_core.data import options, render
from taiyi_core.formats import READERS, Reader
from taiyi_core.schema import FAMILIES
from taiyi_core.tasks import TASKS, get_task
from taiyi_core.tasks.registry import TASK_TYPES

PACKAGE = Path(__file__).resolve().parents[2] / "taiyi_core"


def _module_names_defining(folder: Path, pattern: str) -> set[str]:
    return {p.stem for p in folder.glob("*.py") if re.search(pattern, p.read_text(encoding="utf-8"), re.M)}


def test_every_task_module_is_registered_and_every_entry_has_its_module():
    modules = _module_names_defining(PACKAGE / "tasks", r"^NAME = ")
    assert modules == {t.module for t in TASK_TYPES}


@pytest.mark.parametrize("task", TASK_TYPES, ids=lambda t: t.name)
def test_registry_entry_matches_its_module(task):
    module = get_task(task.name)
    assert task.name == module.NAME
    for attr in ("render", "parse", "score", "gold"):
        assert callable(getattr(module, attr)), f"{task.module}.{attr}"
    assert task.families and set(task.families) <= set(FAMILIES)
    assert (PACKAGE / "tasks" / "templates" / f"{task.name}.yaml").is_file()
    assert task.stage in (1, 2)
    assert task.category in catalog.MIX_CATEGORIES


def test_everything_else_derives_from_the_task_registry():
    names = tuple(t.name for t in TASK_TYPES)
    assert TASKS == catalog.TASK_NAMES == names
    assert {t.name for t in TASK_TYPES if t.stage == 2} == catalog.STAGE2_TASKS
    assert tuple(t.name for t in TASK_TYPES if t.stage == 1) == options.NON_DIALOGUE_TASKS
    assert set(render.TASK_CATEGORY) == set(names)
    assert set(render.CATEGORY_TASK.values()) <= set(names)


def test_every_reader_module_is_registered():
    defined = {}
    for path in (PACKAGE / "formats").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "Reader" for b in node.bases
            ):
                defined[node.name] = path.stem
    registered = {type(r).__name__ for r in READERS.values()}
    assert set(defined) == registered, f"readers defined but not in READERS: {set(defined) - registered}"
    assert tuple(READERS) == catalog.READER_NAMES


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_declares_its_name_and_options(name):
    reader = READERS[name]
    assert isinstance(reader, Reader) and reader.name == name
    assert reader.Options.model_fields is not None


def _string_tuples(path: Path) -> list[set[str]]:
    """Every literal tuple/list/set of strings in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Tuple | ast.List | ast.Set)
            and node.elts
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
        ):
            out.append({e.value for e in node.elts})  # type: ignore[attr-defined]
    return out


def test_no_other_copy_of_the_task_or_reader_list():
    """A list naming most task types (or readers) outside its registry would drift from it."""
    tasks, readers = set(TASKS), set(READERS)
    copies = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "registry.py" and path.parent.name == "tasks":
            continue
        for names in _string_tuples(path):
            if len(names & tasks) >= 8 or len(names & readers) >= 8:
                copies.append(str(path.relative_to(PACKAGE)))
    assert copies == [], f"lists of task types or readers outside their registry: {sorted(set(copies))}"


RAW_KINDS = {"text", "json", "pubtator", "tabular", "conll", "xml", "brat"}


@pytest.mark.parametrize("name", sorted(READERS))
def test_reader_declares_how_its_raw_files_look(name):
    """`taiyi catalog check` asks the reader (catalog/rawcheck.py branches on no reader name)."""
    reader = READERS[name]
    assert reader.raw_kind in RAW_KINDS
    layouts = reader.raw_json_layouts({}, ".json")
    assert layouts and set(layouts) <= {"array", "object", "jsonl"}


def test_rawcheck_names_no_reader():
    source = (PACKAGE / "catalog" / "rawcheck.py").read_text(encoding="utf-8")
    branches = re.findall(r".*\breader\s*(?:==|!=|in|not in)\s*[\"'(].*", source)
    assert branches == [], f"catalog/rawcheck.py branches on reader names: {branches}; ask the reader"


def test_cblue_layouts_are_what_the_reader_reads():
    from taiyi_core.formats.cblue import json_layouts

    assert json_layouts("imcs_ner", ".json") == ("object",)
    assert json_layouts("mdcfnpc", ".json") == ("jsonl",)
    assert json_layouts("cmeie", ".json") == ("array", "jsonl")  # CMeIE v1 files may be JSON lines
    assert json_layouts("cmeee", ".jsonl") == ("jsonl",)  # the reader reads any *.jsonl as JSON lines
    assert json_layouts("cmeee", ".json") == ("array",)
