"""Templates as data: validation at load time, seeded choice, the task registry."""

from __future__ import annotations

import random
import re

import pytest

from taiyi_core.tasks import TASKS, base, get_task

from .records import ent, kb

FULL_WIDTH_ONLY = re.compile(r"[\u4e00-\u9fff][:,](?!\d)")  # an ASCII colon/comma right after a Chinese char


@pytest.mark.parametrize("name", TASKS)
def test_every_task_has_module_and_bilingual_templates(name: str) -> None:
    task = get_task(name)
    assert name == task.NAME and task.FAMILIES
    for attr in ("render", "parse", "score", "gold"):
        assert callable(getattr(task, attr)), (name, attr)
    templates = base.load_templates(name)
    for lang in ("en", "zh"):
        assert len(templates[lang]) >= 10
        assert len({t.text for t in templates[lang]}) == len(templates[lang]), "duplicate templates"
    for t in templates["zh"]:
        assert not FULL_WIDTH_ONLY.search(t.text), f"{t.id}: use full-width punctuation in Chinese templates"


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown task 'nerr'; known tasks: ner, re, ee"):
        get_task("nerr")


def _write(tmp_path, body: str):
    (tmp_path / "toy.yaml").write_text(body, encoding="utf-8")


def test_template_validation_names_file_and_index(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(base, "TEMPLATE_DIR", tmp_path)
    base.load_templates.cache_clear()
    en = "\n".join(f'  - "Extract {{types}} from {{text}} #{i}"' for i in range(10))
    zh = "\n".join(f'  - "抽取{{types}}：{{text}}#{i}"' for i in range(9)) + '\n  - "抽取{typo}：{text}"'
    _write(tmp_path, f"placeholders: [text, types]\nen:\n{en}\nzh:\n{zh}\n")
    try:
        with pytest.raises(ValueError, match=r"toy.yaml zh\[9\]: uses placeholders \['text', 'typo'\]"):
            base.load_templates("toy")
        _write(tmp_path, f'placeholders: [text, types]\nen:\n{en}\nzh:\n  - "{{text}}{{types}}"\n')
        with pytest.raises(ValueError, match="'zh' must list at least 10 templates"):
            base.load_templates("toy")
    finally:
        base.load_templates.cache_clear()


def test_same_seed_same_output_and_seeds_vary_templates() -> None:
    ner = get_task("ner")
    rec = kb("Aspirin helps.", [ent("T1", "Chemical", "Aspirin", 0)])
    a = [ner.render(rec, "en", random.Random(7), types=["Chemical"])[0] for _ in range(2)]
    assert a[0] == a[1]
    ids = {ner.render(rec, "zh", random.Random(s), types=["Chemical"])[0].template_id for s in range(40)}
    assert len(ids) >= 8  # choice really depends on the seed


def test_wrong_family_and_language_are_clear_errors() -> None:
    rec = kb("x")
    with pytest.raises(
        TypeError, match="task 'tc' renders families text; record 'd1' of dataset 'toy' is 'kb'"
    ):
        get_task("tc").render(rec, "en", random.Random(0))
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        get_task("ner").render(rec, "fr", random.Random(0), types=["X"])


def test_eval_row_has_contract_keys() -> None:
    inst = get_task("ner").render(
        kb("Aspirin", [ent("T1", "Chemical", "Aspirin", 0)]), "en", random.Random(0), types=["Chemical"]
    )[0]
    assert set(inst.eval_row()) == {"id", "dataset", "task", "lang", "prompt", "target", "input_text"}
