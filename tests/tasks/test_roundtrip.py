"""The central property: parse(render(x).target).value == gold(x), every task, both languages.

Records are generated with the schema types and deliberately contain Chinese text and the
separators the shapes use (';', ':', ',', '[', ']', '|', '"', full-width punctuation, newlines) and
real hostile names (``Wy-14, 643``). Such names are quoted (shapes.py), never rejected: a RenderError
is allowed only for what has no target at all (an empty mention, a label outside the label set).
Options (types, relation types, labels) are the dataset-level lists a data step passes.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taiyi_core.tasks import RenderError, get_task

from .records import (
    ENTITY_TYPES,
    EVENT_TYPES,
    HOSTILE,
    RELATION_TYPES,
    ROLE_TYPES,
    dialogue_records,
    ent,
    kb,
    kb_records,
    mc_records,
    open_qa_records,
    pair_records,
    t2t_records,
    text_records,
    translation_records,
    yesno_records,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STRATEGIES = {
    "ner": kb_records(),
    "re": kb_records(),
    "ee": kb_records(),
    "norm": kb_records(),
    "tc": text_records(),
    "sts": pair_records(),
    "mcqa": mc_records(),
    "yesno": yesno_records(),
    "qa": open_qa_records(),
    "cqa": open_qa_records(),
    "dialogue": dialogue_records(),
    "mt": translation_records(),
    "t2t": t2t_records("title"),
    "report": t2t_records("report"),
    "t2s": t2t_records("structure"),
}
stats: dict[str, list[int]] = {}
# what a data step passes per task: the dataset's lists (records draw their types from these)
OPTIONS = {
    "ner": {"types": ENTITY_TYPES},
    "re": {"relation_types": RELATION_TYPES},
    "ee": {"event_types": EVENT_TYPES, "role_types": ROLE_TYPES},
}
ALLOWED_REJECTIONS = ("empty", "not in the label set", "no entity with normalisation links")


def options(name: str, record) -> dict:
    if name in ("tc", "sts"):
        return {"labels": list(record.label_set)}
    return OPTIONS.get(name, {})


def gold_options(name: str, opts: dict) -> dict:
    keep = {"ner": ("types",), "re": ("relation_types",), "tc": ("labels",)}.get(name, ())
    return {k: v for k, v in opts.items() if k in keep}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_parse_render_equals_gold(name: str, lang: str) -> None:
    task = get_task(name)
    counts = stats.setdefault(f"{name}-{lang}", [0, 0])

    @SETTINGS
    @given(record=STRATEGIES[name], seed=st.integers(0, 2**16))
    def check(record, seed):
        opts = options(name, record)
        try:
            instances = task.render(record, lang, random.Random(seed), **opts)
        except RenderError as exc:
            counts[1] += 1
            assert str(exc).startswith("dataset 'toy' record"), exc  # names dataset and record
            assert any(why in str(exc) for why in ALLOWED_REJECTIONS) or name in ("sts", "mcqa", "yesno") or (
                name in ("qa", "cqa", "dialogue", "mt", "t2t", "report", "t2s")
            ), f"{name}: a name with separators must be quoted, not rejected: {exc}"
            return
        counts[0] += 1
        assert len(instances) == 1
        inst = instances[0]
        parsed = task.parse(inst.target, lang)
        assert parsed.ok, (inst.target, parsed.error)
        expected = task.gold(record, **gold_options(name, opts))
        assert parsed.value == expected, inst.target
        assert task.gold(inst) == expected
        assert inst.task == name and inst.lang == lang and inst.dataset == "toy"
        assert inst.template_id.startswith(f"{name}.{lang}.")

    check()
    rendered, rejected = counts
    # the property must not be vacuous: a good share of generated records render
    assert rendered >= 10, f"{name}/{lang}: only {rendered} rendered, {rejected} rejected"


@SETTINGS
@given(record=kb_records(), seed=st.integers(0, 2**16), lang=st.sampled_from(["en", "zh"]))
def test_decomposed_ner_and_re_roundtrip(record, seed, lang) -> None:
    for name in ("ner", "re"):
        task = get_task(name)
        opts = OPTIONS[name]
        try:
            instances = task.render(record, lang, random.Random(seed), decompose=True, **opts)
        except RenderError:
            continue
        merged: dict = {}
        for inst in instances:
            one = inst.id.split("::", 1)[1]
            value = task.parse(inst.target, lang).value
            assert value == task.gold(record, only=one, **opts)
            merged.update(value)
        assert merged == task.gold(record, **opts)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", HOSTILE)
def test_names_holding_separators_render_and_parse_back(name: str, lang: str) -> None:
    """Each hostile name as a whole mention, relation argument, event trigger, TC label and NORM
    mention/id: rendered (quoted where needed) and parsed back to exactly the gold."""
    from taiyi_core.schema import TextRecord
    from taiyi_core.tasks.metrics import normalize_ws

    text = f"{name} and aspirin"
    other = "aspirin"
    record = kb(
        text,
        [ent("T1", "Chemical", name, 0, [name, "D1"]), ent("T2", "疾病", other, len(text) - len(other))],
        [
            {"id": "R1", "type": "CID", "head": "T1", "tail": "T2"},
            {"id": "R2", "type": "CID", "head": "T2", "tail": "T1"},
        ],
        [{"id": "E1", "type": "Binding", "trigger": {**ent("T1", "Chemical", name, 0), "id": "E1t"},
          "arguments": [{"role": "Theme", "ref": "T2"}]}],
        lang=lang,
    )
    shown = normalize_ws(name)
    for task_name, expected in (
        ("ner", {"Chemical": [shown], "疾病": [other]}),
        ("re", {"CID": [(shown, other), (other, shown)]}),
        ("ee", [("Binding", shown, (("Theme", other),))]),
        ("norm", {shown: [shown, "D1"]}),
    ):
        task = get_task(task_name)
        [inst] = task.render(record, lang, random.Random(0), **OPTIONS.get(task_name, {}))
        parsed = task.parse(inst.target, lang)
        assert parsed.ok and parsed.value == expected, (task_name, inst.target, parsed)
    labels = [name, "other"]
    tc_record = TextRecord(id="t1", dataset="toy", split="test", lang=lang, source={"file": "f"},
                           text="x", labels=[name], label_set=labels)
    tc = get_task("tc")
    [inst] = tc.render(tc_record, lang, random.Random(0), labels=labels)
    assert tc.parse(inst.target, lang).value == [shown], inst.target
