"""Golden renders: the exact instruction text for seed 42 (ner/re/tc/mcqa, en and zh).

A change here means the training data changes; update deliberately, never to make a test pass.
"""

from __future__ import annotations

import random

from taiyi_core.schema import QARecord, TextRecord
from taiyi_core.tasks import get_task

from .records import SRC, ent, kb

EN_TEXT = "Naloxone reverses the antihypertensive effect of clonidine."
EN_KB = kb(
    EN_TEXT,
    [
        ent("T1", "Chemical", "Naloxone", 0),
        ent("T2", "Chemical", "clonidine", 49),
        ent("T3", "Disease", "antihypertensive", 22),
    ],
    [{"id": "R1", "type": "CID", "head": "T2", "tail": "T3"}],
)
ZH_TEXT = "患者因肺癌入院，给予顺铂化疗。"
ZH_KB = kb(
    ZH_TEXT,
    [ent("T1", "dis", "肺癌", 3), ent("T2", "dru", "顺铂", 10)],
    [{"id": "R1", "type": "drug_treat", "head": "T2", "tail": "T1"}],
    lang="zh",
)


def one(task: str, record, lang: str, **opts):
    [inst] = get_task(task).render(record, lang, random.Random(42), **opts)
    return inst


def test_ner_golden() -> None:
    en = one("ner", EN_KB, "en", types=["Chemical", "Disease"])  # the dataset's types, not the record's
    assert en.template_id == "ner.en.10"
    assert en.prompt == (
        "Entity types: Chemical, Disease\nText: Naloxone reverses the antihypertensive effect of clonidine.\n"
        "Extract the entities of the types listed above from the text."
    )
    assert en.target == "Chemical: Naloxone; clonidine\nDisease: antihypertensive"
    zh = one(
        "ner",
        ZH_KB,
        "zh",
        types=["dis", "dru", "sym"],
        type_names={"dis": "疾病", "dru": "药物", "sym": "临床表现"},
    )
    assert (
        zh.prompt == "下面这段文本中包含哪些疾病，药物，临床表现类型的实体？\n患者因肺癌入院，给予顺铂化疗。"
    )
    assert zh.target == "疾病：肺癌\n药物：顺铂"
    assert zh.input_text == ZH_TEXT and zh.meta["types"] == ["疾病", "药物", "临床表现"]


def test_re_golden() -> None:
    en = one("re", EN_KB, "en", relation_types=["CID"])
    assert en.prompt == (
        'Please extract relations (CID) from the following sentence(s):\n"Naloxone reverses the '
        'antihypertensive effect of clonidine."'
    )
    assert en.target == "CID: [clonidine, antihypertensive]"
    zh = one("re", ZH_KB, "zh", relation_types=["drug_treat"], relation_names={"drug_treat": "药物治疗"})
    assert zh.prompt == "请抽取文本中的关系，关系类型包括：药物治疗\n文本：患者因肺癌入院，给予顺铂化疗。"
    assert zh.target == "具有药物治疗关系的实体对如下：[顺铂, 肺癌]"


def test_tc_golden() -> None:
    hoc = TextRecord(
        id="h1",
        dataset="hoc",
        split="test",
        lang="en",
        source=SRC,
        text="TP53 loss promotes invasion and metastasis.",
        labels=["activating invasion and metastasis", "genomic instability and mutation"],
        label_set=[
            "sustaining proliferative signaling",
            "genomic instability and mutation",
            "activating invasion and metastasis",
        ],
    )
    en = one("tc", hoc, "en")
    assert en.prompt == (
        "Please label this text. Possible labels: sustaining proliferative signaling, genomic instability "
        "and mutation, activating invasion and metastasis\nTP53 loss promotes invasion and metastasis."
    )
    assert en.target == "Result: genomic instability and mutation; activating invasion and metastasis"
    qic = TextRecord(
        id="q1",
        dataset="kuake_qic",
        split="dev",
        lang="zh",
        source=SRC,
        text="胃痛吃什么药好",
        labels=["治疗方案"],
        label_set=["病情诊断", "治疗方案", "其他"],
    )
    zh = one("tc", qic, "zh")
    assert (
        zh.prompt
        == "请给以下医学文本打上类别标签。\n文本：胃痛吃什么药好\n标签选项：病情诊断，治疗方案，其他"
    )
    assert zh.target == "上述文本被分类为：治疗方案"


def test_mcqa_golden() -> None:
    medqa = QARecord(
        id="m1",
        dataset="medqa",
        split="test",
        lang="en",
        source=SRC,
        type="multiple_choice",
        question="Which drug reverses opioid overdose?",
        choices=["Naloxone", "Aspirin", "Insulin", "Heparin"],
        answer=["Naloxone"],
    )
    en = one("mcqa", medqa, "en")
    assert en.prompt == (
        "As a medical expert, answer the question below.\nWhich drug reverses opioid overdose?\n"
        "A. Naloxone\nB. Aspirin\nC. Insulin\nD. Heparin"
    )
    assert en.target == "Answer: A. Naloxone"
    mcmle = QARecord(
        id="m2",
        dataset="medqa_mcmle",
        split="test",
        lang="zh",
        source=SRC,
        type="multiple_choice",
        question="治疗阿片类药物过量的药物是",
        choices=["纳洛酮", "阿司匹林", "胰岛素", "肝素", "华法林"],
        answer=["纳洛酮"],
    )
    zh = one("mcqa", mcmle, "zh")
    assert (
        zh.prompt == "请选出最合适的答案：\n治疗阿片类药物过量的药物是\n"
        "A. 纳洛酮\nB. 阿司匹林\nC. 胰岛素\nD. 肝素\nE. 华法林"
    )
    assert zh.target == "答案：A. 纳洛酮"
