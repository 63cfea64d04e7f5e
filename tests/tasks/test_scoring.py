"""Task-level parse + score behaviour with hand-computed expectations."""

from __future__ import annotations

import random

import pytest

from taiyi_core.tasks import RenderError, get_task
from taiyi_core.tasks.base import Parsed
from taiyi_core.tasks.mcqa import MCAnswer

from .records import ent, kb

ner, re_, tc, sts, mcqa, yesno = (get_task(n) for n in ("ner", "re", "tc", "sts", "mcqa", "yesno"))
TEXT = "Aspirin and aspirin cause ulcer; so does ibuprofen."


def test_ner_gold_order_dedup_and_case_variants() -> None:
    rec = kb(
        TEXT,
        [
            ent("T3", "Chemical", "ibuprofen", 41),
            ent("T1", "Chemical", "Aspirin", 0),
            ent("T2", "Chemical", "aspirin", 12),
            ent("T4", "Disease", "ulcer", 26),
            ent("T5", "Chemical", "Aspirin", 0),
        ],
    )
    assert ner.gold(rec) == {"Chemical": ["Aspirin", "aspirin", "ibuprofen"], "Disease": ["ulcer"]}
    inst = ner.render(rec, "zh", random.Random(0), types=["Disease", "Chemical"])[0]
    assert inst.target == "Disease：ulcer\nChemical：Aspirin; aspirin; ibuprofen"


def test_ner_separator_inside_mention_is_quoted_and_semicolon_and_colon_stay_bare() -> None:
    ok = kb("IL-2;R: a", [ent("T1", "Gene", "IL-2;R: a", 0)])
    inst = ner.render(ok, "en", random.Random(0), types=["Gene"])[0]
    assert inst.target == "Gene: IL-2;R: a" and ner.parse(inst.target, "en").value == {"Gene": ["IL-2;R: a"]}
    sep = kb("x; y", [ent("T1", "Gene", "x; y", 0)])
    inst = ner.render(sep, "en", random.Random(0), types=["Gene"])[0]
    assert inst.target == 'Gene: "x; y"' and ner.parse(inst.target, "en").value == {"Gene": ["x; y"]}
    colon = ner.render(kb("ab", [ent("T1", "a:b", "ab", 0)]), "en", random.Random(0), types=["a:b"])[0]
    assert colon.target == '"a:b": ab' and ner.parse(colon.target, "en").value == {"a:b": ["ab"]}
    with pytest.raises(RenderError, match="no entity type list"):
        ner.render(sep, "en", random.Random(0))  # never the record's own types


def test_ner_empty_record_renders_none_and_scores() -> None:
    rec = kb("nothing here")
    inst = ner.render(rec, "en", random.Random(0), types=["Chemical"])[0]
    assert inst.target == "None" and ner.parse("None", "en") == Parsed({})
    assert ner.parse("", "en").ok is False


def test_ner_score_duplicates_hallucinations_relaxed_chinese() -> None:
    golds = [{"Chemical": ["Aspirin", "ibuprofen"]}, {"疾病": ["肺癌"]}, {}]
    preds = [
        ner.parse("Chemical: Aspirin; Aspirin; warfarin\nDisease: ulcer", "en"),  # dup, 1 halluc, 1 FP
        ner.parse("疾病：肺癌; 肺 癌\n这是多余的一行", "zh"),  # off-shape line -> parse failure
        ner.parse("Chemical: ASPIRIN", "en"),  # FP on an empty gold
    ]
    inputs = [TEXT, "患者有肺癌。", "aspirin"]
    s = ner.score(golds, preds, inputs)
    # sets: inst1 {Aspirin, warfarin, ulcer}: tp1 fp2 fn1; inst2 {肺癌, 肺 癌}: tp1 fp1; inst3 fp1
    assert (s["tp"], s["fp"], s["fn"]) == (2, 4, 1)
    assert s["precision"] == pytest.approx(2 / 6) and s["recall"] == pytest.approx(2 / 3)
    assert s["parse_failures"] == 1 and s["n"] == 3
    # multiset: the second 'Aspirin' is one more FP
    assert s["multiset_precision"] == pytest.approx(2 / 7)
    # grounding: warfarin and '肺 癌' are not in their inputs; 'ASPIRIN' is not either (case-sensitive)
    assert s["ungrounded"] == 3 and s["hallucination_rate"] == pytest.approx(3 / 6)
    assert s["grounded_precision"] == pytest.approx(2 / 3)
    # relaxed: '肺 癌' == '肺癌' (duplicate in relaxed space), case-insensitive
    assert s["relaxed_recall"] == pytest.approx(2 / 3)
    assert s["per_type"]["Disease"]["fp"] == 1 and s["per_type"]["Chemical"]["tp"] == 1
    # Chemical P 1/3 R 1/2 -> F1 0.4; Disease 0; 疾病 P 1/2 R 1 -> 2/3
    assert s["per_type"]["Chemical"]["f1"] == pytest.approx(0.4)
    assert s["macro_f1"] == pytest.approx((0.4 + 0 + 2 / 3) / 3)


def test_re_concept_level_and_zh_shape_and_scores() -> None:
    rec = kb(
        TEXT,
        [
            ent("T1", "Chemical", "Aspirin", 0, ["D001"]),
            ent("T2", "Chemical", "aspirin", 12, ["D001"]),
            ent("T3", "Disease", "ulcer", 26, ["D014"]),
        ],
        [{"id": "R1", "type": "CID", "head": "D001", "tail": "D014", "level": "concept"}],
    )
    assert re_.gold(rec) == {"CID": [("Aspirin", "ulcer")]}
    names = {"CID": "化学物导致疾病"}
    zh = re_.render(rec, "zh", random.Random(0), relation_types=["CID"], relation_names=names)[0]
    assert zh.target == "具有化学物导致疾病关系的实体对如下：[Aspirin, ulcer]"
    en = re_.render(rec, "en", random.Random(0), relation_types=["CID"])[0]
    assert en.target == "CID: [Aspirin, ulcer]"
    preds = [re_.parse("CID: [ulcer, Aspirin]; [aspirin, ulcer]", "en")]
    s = re_.score([{"CID": [("Aspirin", "ulcer")]}], preds, [TEXT])
    assert (s["tp"], s["fp"], s["fn"]) == (0, 2, 1)
    assert s["undirected_recall"] == 1.0 and s["relaxed_recall"] == 1.0
    assert re_.parse("CID: Aspirin -> ulcer", "en").ok is False


def test_tc_multilabel_invalid_and_anchor() -> None:
    golds = [["Mechanism", "Treatment"], ["Diagnosis"], []]
    preds = [
        tc.parse("Result: Treatment; Mechanism; Prevention", "en"),
        tc.parse("上述文本被分类为：Diagnosis", "zh"),
        tc.parse("I think it is Treatment\nbecause...", "en"),
    ]
    s = tc.score(golds, preds, label_set=["Mechanism", "Treatment", "Diagnosis"])
    assert (s["tp"], s["fp"], s["fn"]) == (3, 1, 0)
    assert s["invalid_labels"] == 1 and s["invalid_label_rate"] == pytest.approx(1 / 4)
    assert s["exact_match"] == pytest.approx(2 / 3) and s["parse_failures"] == 1
    assert s["macro_f1"] == pytest.approx(1.0)  # the invalid label is not a class of its own
    assert tc.parse("Result: None", "en").value == [] and tc.parse("patient.", "en") == Parsed(
        ["patient"], ok=False, error="no 'Result:' anchor; read the bare line"
    )


def test_sts_accuracy_and_macro() -> None:
    preds = [sts.parse(t, "zh") for t in ("语义相同", "答案：语义不相同。", "语义相同\n因为……", "")]
    s = sts.score(
        ["语义相同", "语义相同", "语义不相同", "语义不相同"], preds, label_set=["语义相同", "语义不相同"]
    )
    assert s["accuracy"] == 0.25 and s["parse_failures"] == 2
    assert [p.value for p in preds] == ["语义相同", "语义不相同", "语义相同", None]


@pytest.mark.parametrize(
    ("text", "letters", "ok"),
    [
        ("Answer: B. Aspirin", ("B",), True),
        ("The answer is (C).", ("C",), True),
        ("答案：D. 肺癌", ("D",), True),
        ("正确答案是A", ("A",), True),
        ("B", ("B",), True),
        ("(E) because it is", ("E",), True),
        ("To answer this we need care. Answer: C", ("C",), True),
        ("A patient with fever should rest.", (), False),  # NOT "first capital letter"
        ("Because of Aspirin", (), False),
    ],
)
def test_mcqa_anchored_extraction(text: str, letters: tuple, ok: bool) -> None:
    p = mcqa.parse(text, "en")
    assert p.value.letters == letters and p.ok is ok


def test_mcqa_score_by_letter_text_and_unparseable() -> None:
    g = MCAnswer(("B",), ("Aspirin",))
    preds = [
        mcqa.parse(t, "en") for t in ("Answer: B", "Answer: aspirin", "Answer: A. Aspirin", "", "A patient")
    ]
    s = mcqa.score([g] * 5, preds)
    # letter right; text matches (case-insensitive); letter wins over text; empty; unparseable
    assert s["accuracy"] == pytest.approx(2 / 5) and s["correct_by_text"] == 1 and s["parse_failures"] == 2


def test_mcqa_render_target_and_bad_answer() -> None:
    from taiyi_core.schema import QARecord

    rec = QARecord(
        id="q",
        dataset="toy",
        split="test",
        lang="en",
        source={"file": "f"},
        type="multiple_choice",
        question="Q?",
        choices=["x", "y", "z"],
        answer=["z", "x"],
    )
    assert mcqa.render(rec, "zh", random.Random(0))[0].target == "答案：A. x; C. z"
    rec.answer = ["w"]
    with pytest.raises(RenderError, match="neither an option text nor a letter"):
        mcqa.render(rec, "en", random.Random(0))


def test_yesno_parse_and_score() -> None:
    texts = ["Answer: yes", "No, it does not.", "答案：不确定", "不是", "The results suggest maybe", ""]
    preds = [yesno.parse(t, "en") for t in texts]
    assert [p.value for p in preds] == ["yes", "no", "maybe", "no", None, None]
    s = yesno.score(["yes", "no", "maybe", "yes", "maybe", "no"], preds)
    assert s["accuracy"] == pytest.approx(3 / 6) and s["parse_failures"] == 2


def test_generation_tasks_score_chinese_exact_match_as_one() -> None:
    for name in ("qa", "cqa", "dialogue", "t2t"):
        task = get_task(name)
        s = task.score(["建议多喝水，注意休息。"], [task.parse("建议多喝水，注意休息。", "zh")])
        assert s["f1"] == 1.0 and s["rougeL"] == 1.0 and s["exact_match"] == 1.0, name
    mt = get_task("mt")
    s = mt.score(["患者出现发热症状"], [mt.parse("患者出现发热症状", "zh")])
    assert s["bleu"] == pytest.approx(1.0) and s["chrf"] == pytest.approx(1.0) and s["main"] == "bleu"


def test_report_and_t2s_field_scores() -> None:
    report, t2s = get_task("report"), get_task("t2s")
    gold = {"主诉": "发热两天", "诊断": "上呼吸道感染", "建议": ""}
    pred = report.parse("上述问诊对话的诊疗报告如下：\n主诉：发热两天\n诊断：感冒\n建议：", "zh")
    s = report.score([gold], [pred])
    assert s["field_accuracy"] == pytest.approx(2 / 3) and s["missing_fields"] == 0
    assert s["per_field"]["主诉"] == {"accuracy": 1.0, "rougeL": 1.0}
    g2 = {"drug": "aspirin; ibuprofen", "dose": "5 mg"}
    s2 = t2s.score([g2], [t2s.parse("drug: ibuprofen\ndose: 5 mg", "en")])
    assert (
        (s2["tp"], s2["fp"], s2["fn"]) == (2, 0, 1) and s2["field_accuracy"] == 0.5 and s2["exact_match"] == 0
    )


def test_ee_and_norm_scores() -> None:
    ee, norm = get_task("ee"), get_task("norm")
    gold = [[("Binding", "binds", (("Theme", "IL-2"), ("Theme", "receptor")))]]
    pred = [ee.parse("Binding: (Trigger: binds, Theme: IL-2]\nBinding: (Trigger: bind)", "en")]
    s = ee.score(gold, pred)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)
    assert s["argument_recall"] == 0.5 and s["event_exact_f1"] == 0.0
    n = norm.score(
        [{"左肺癌": ["肺恶性肿瘤"], "咳嗽": ["咳嗽"]}], [norm.parse("左肺癌：肺恶性肿瘤; 肺癌", "zh")]
    )
    assert (n["tp"], n["fp"], n["fn"]) == (1, 1, 1) and n["mention_accuracy"] == 0.0


def test_score_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 golds but 1 predictions"):
        ner.score([{}, {}], [Parsed({})])
