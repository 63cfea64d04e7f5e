from __future__ import annotations

import json

import pytest

from taiyi_core.formats import ReaderError
from tests.formats.helpers import assert_reslices, dump, read_all

CMEEE_TYPES = ["dis", "sym", "dru", "equ", "pro", "bod", "ite", "mic", "dep"]


def test_cmeee_golden_inclusive_end_and_nesting(fixtures):
    records, quarantined = read_all(
        "cblue",
        [fixtures / "raw/cblue/cmeee_good.json"],
        {"variant": "cmeee", "label_set": CMEEE_TYPES},
        split="dev",
        lang="zh",
    )
    assert quarantined == []
    assert dump(records[1]) == {
        "id": "cmeee_good-1",
        "dataset": "ds",
        "split": "dev",
        "lang": "zh",
        "meta": {},
        "family": "kb",
        "document_id": "cmeee_good-1",
        "text": "右肺下叶肿块。",
        "passages": [],
        "relations": [],
        "events": [],
        "entities": [
            {
                "id": "cmeee_good-1.T1",
                "type": "sym",
                "text": "右肺下叶肿块",
                "spans": [(0, 6)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "cmeee_good-1.T2",
                "type": "bod",
                "text": "右肺下叶",
                "spans": [(0, 4)],
                "normalized": [],
                "attributes": {},
            },
        ],
    }
    assert [(e.text, e.spans) for e in records[0].entities] == [
        ("咳嗽", [(2, 4)]),
        ("发热", [(5, 7)]),
        ("布洛芬", [(12, 15)]),
    ]
    assert records[0].source.line == 2


def test_cmeee_exclusive_option_quarantines_instead_of_shifting(fixtures):
    records, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/cmeee_good.json"], {"variant": "cmeee", "end_inclusive": False}
    )
    assert records == [] and len(quarantined) == 2
    assert all("surface mismatch" in q.reason for q in quarantined)


def test_cmeee_bad_records(fixtures):
    path = fixtures / "raw/cblue/cmeee_bad.json"
    records, quarantined = read_all(
        "cblue", [path], {"variant": "cmeee", "label_set": CMEEE_TYPES}, dataset="cmeee_v2"
    )
    assert [r.text for r in records] == ["腹泻两天。"]
    assert len(records) + len(quarantined) == 7
    reasons = [q.reason for q in quarantined]
    assert "surface mismatch" in reasons[0] and "'头痛。'" in reasons[0]
    assert "unknown entity 1 type 'xyz'" in reasons[1]
    assert "lacks key 'entities'" in reasons[2]
    assert "outside the text" in reasons[3]
    assert "entity 1 lacks key 'end_idx'" in reasons[4]
    assert "truncated" in reasons[5] or "invalid JSON" in reasons[5]
    assert [q.record_id for q in quarantined[:5]] == [f"cmeee_bad-{i}" for i in range(5)]
    assert all(q.line is not None and q.dataset == "cmeee_v2" for q in quarantined)


def test_cmeie_golden(fixtures):
    records, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/cmeie.json"], {"variant": "cmeie"}, lang="zh"
    )
    (rec,) = records
    assert [(e.id, e.type, e.text, e.spans) for e in rec.entities] == [
        ("cmeie-0.T1", "疾病", "糖尿病", [(0, 3)]),
        ("cmeie-0.T2", "药物", "二甲双胍", [(12, 16)]),
        ("cmeie-0.T3", "症状", "多饮", [(21, 23)]),
    ]
    assert [r.model_dump() for r in rec.relations] == [
        {
            "id": "cmeie-0.R1",
            "type": "药物治疗",
            "head": "cmeie-0.T1",
            "tail": "cmeie-0.T2",
            "level": "mention",
            "attributes": {"combined": "false"},
        },
        {
            "id": "cmeie-0.R2",
            "type": "临床表现",
            "head": "cmeie-0.T1",
            "tail": "cmeie-0.T3",
            "level": "mention",
            "attributes": {"combined": "false"},
        },
    ]
    assert "'阿司匹林' (药物) does not occur in the text" in quarantined[0].reason
    assert "lacks key 'object_type'" in quarantined[1].reason


def test_kuake_qic_labels_duplicates_and_unlabelled(fixtures):
    labels = ["治疗方案", "其他", "疾病表述"]
    records, quarantined = read_all(
        "cblue",
        [fixtures / "raw/cblue/kuake_qic.json"],
        {"variant": "kuake_qic", "label_set": labels},
        lang="zh",
    )
    assert [dump(r) for r in records] == [
        {
            "id": "s1",
            "dataset": "ds",
            "split": "train",
            "lang": "zh",
            "meta": {},
            "family": "text",
            "document_id": None,
            "text": "心肌缺血如何治疗？",
            "labels": ["治疗方案"],
            "label_set": labels,
        },
        {
            "id": "s2",
            "dataset": "ds",
            "split": "train",
            "lang": "zh",
            "meta": {},
            "family": "text",
            "document_id": None,
            "text": "发烧吃什么药",
            "labels": ["治疗方案"],
            "label_set": labels,
        },
    ]
    assert [(q.record_id, q.reason.split(" (")[0]) for q in quarantined] == [
        ("s2", "duplicate record id 's2'"),
        ("s3", "unknown label '疾病描述'"),
        ("s4", "record lacks key 'label'"),
    ]


def test_pairs_qqr_label_map_and_sts_category(fixtures):
    records, quarantined = read_all(
        "cblue",
        [fixtures / "raw/cblue/kuake_qqr.json"],
        {"variant": "kuake_qqr", "label_set": ["0", "1", "2"]},
    )
    assert [r.label for r in records] == ["0", "2"] and "unknown label 'NA'" in quarantined[0].reason
    records, quarantined = read_all(
        "cblue",
        [fixtures / "raw/cblue/kuake_qqr.json"],
        {"variant": "kuake_qqr", "label_set": ["0", "1", "2"], "label_map": {"NA": "0"}},
    )
    assert [r.label for r in records] == ["0", "2", "0"] and quarantined == []
    assert (records[0].text_1, records[0].text_2) == ("天价输液费", "输液价格")
    (sts,), _ = read_all("cblue", [fixtures / "raw/cblue/chip_sts.json"], {"variant": "chip_sts"})
    assert sts.meta == {"category": "diabetes"} and sts.label == "1"


def test_variant_is_required_and_checked(fixtures):
    with pytest.raises(ReaderError, match="variant"):
        read_all("cblue", [fixtures / "raw/cblue/chip_sts.json"], {})
    with pytest.raises(ReaderError, match="variant"):
        read_all("cblue", [fixtures / "raw/cblue/chip_sts.json"], {"variant": "cmeee-v3"})


def test_not_an_array_and_empty(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"text": "a"}')
    _, (q,) = read_all("cblue", [path], {"variant": "cmeee"})
    assert "expected a JSON array" in q.reason
    path.write_text("")
    _, (q,) = read_all("cblue", [path], {"variant": "cmeee"})
    assert "empty file" in q.reason


def test_real_cmeee_sample(shared_samples):
    path = shared_samples / "cmeee_v2/CMeEE-V2_dev.first200.json"
    records, quarantined = read_all(
        "cblue", [path], {"variant": "cmeee", "label_set": CMEEE_TYPES}, lang="zh"
    )
    assert quarantined == [] and len(records) == 200
    assert_reslices(records)
    raw = json.loads(path.read_text())
    assert sum(len(r.entities) for r in records) == sum(len(x["entities"]) for x in raw)
    nested = [
        (a, b)
        for r in records
        for a in r.entities
        for b in r.entities
        if a is not b and a.spans[0][0] <= b.spans[0][0] and b.spans[0][1] <= a.spans[0][1]
    ]
    assert nested


def test_real_kuake_qic_sample(shared_samples):
    labels = [
        "病情诊断",
        "病因分析",
        "治疗方案",
        "就医建议",
        "指标解读",
        "疾病表述",
        "后果表述",
        "注意事项",
        "功效作用",
        "医疗费用",
        "其他",
    ]
    records, quarantined = read_all(
        "cblue",
        [shared_samples / "kuake_qic/KUAKE-QIC_dev.first300.json"],
        {"variant": "kuake_qic", "label_set": labels},
        lang="zh",
    )
    assert quarantined == [] and len(records) == 300
    assert records[0].id == "s1" and records[0].labels == ["治疗方案"]


def test_chip_cdee_events_are_normalised_terms_not_spans(fixtures):
    records, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/chip_cdee.json"], {"variant": "chip_cdee"}, lang="zh"
    )
    assert [r.id for r in records] == ["1286", "1287", "1288"]
    rec = records[0]
    norm = {"normalised": "true"}
    assert [(e.id, e.type, e.text, e.spans, e.attributes) for e in rec.entities] == [
        ("1286.T2", "描述词", "边界清", [], norm),
        ("1286.T3", "解剖部位", "右肺上叶", [], norm),
        ("1286.T5", "解剖部位", "胸腔", [], norm),
    ]
    assert [ev.model_dump() for ev in rec.events] == [
        {
            "id": "1286.E1",
            "type": "临床发现事件",
            "trigger": {
                "id": "1286.T1",
                "type": "主体词",
                "text": "结节影",
                "spans": [],
                "normalized": [],
                "attributes": norm,
            },
            "arguments": [{"role": "描述词", "ref": "1286.T2"}, {"role": "解剖部位", "ref": "1286.T3"}],
            "attributes": {},
        },
        {
            "id": "1286.E2",
            "type": "临床发现事件",
            "trigger": {
                "id": "1286.T4",
                "type": "主体词",
                "text": "积液",
                "spans": [],
                "normalized": [],
                "attributes": norm,
            },
            "arguments": [{"role": "解剖部位", "ref": "1286.T5"}],
            "attributes": {"tendency": "否定"},
        },
    ]
    # a term that is not a substring of the text (剧烈) is kept: CDEE terms are normalised
    assert [(e.text, e.spans) for e in records[1].entities] == [("剧烈", [])]
    assert records[2].events == [] and records[2].source.line == 32
    assert [(q.line, q.record_id, q.reason) for q in quarantined] == [
        (37, "1289", "event 1 key 'anatomy_list' is str, expected list"),
    ]
    _, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/chip_cdee.json"], {"variant": "chip_cdee", "label_set": ["", "否定"]}
    )
    assert "unknown event 1 tendency '不确定'" in quarantined[-1].reason


def test_imcs_ner_per_character_bio_over_dialogue(fixtures):
    path = fixtures / "raw/cblue/imcs_v2.json"
    records, quarantined = read_all(
        "cblue", [path], {"variant": "imcs_ner"}, dataset="imcs_v2_ner", lang="zh"
    )
    (rec,) = records
    assert dump(rec) == {
        "id": "10001",
        "dataset": "imcs_v2_ner",
        "split": "train",
        "lang": "zh",
        "meta": {},
        "family": "kb",
        "document_id": "10001",
        "text": "医生：你好，咳嗽多久了？\n患者：咳嗽两天，吃了阿莫西林。\n医生：建议查血常规。",
        "passages": [
            {"type": "医生", "text": "医生：你好，咳嗽多久了？", "offset": 0},
            {"type": "患者", "text": "患者：咳嗽两天，吃了阿莫西林。", "offset": 13},
            {"type": "医生", "text": "医生：建议查血常规。", "offset": 29},
        ],
        "entities": [
            {"id": f"10001.T{n}", "type": t, "text": s, "spans": [sp], "normalized": [], "attributes": {}}
            for n, (t, s, sp) in enumerate(
                [
                    ("Symptom", "咳嗽", (6, 8)),
                    ("Symptom", "咳嗽", (16, 18)),
                    ("Drug", "阿莫西林", (23, 27)),
                    ("Medical_Examination", "血常规", (35, 38)),
                ],
                start=1,
            )
        ],
        "relations": [],
        "events": [],
    }
    assert rec.source.line == 2
    assert [(q.dataset, q.line, q.record_id, q.reason) for q in quarantined] == [
        ("imcs_v2_ner", 41, "10002", "utterance 1: 5 tags in 'BIO_label' for 6 characters"),
        (
            "imcs_v2_ner",
            61,
            "10003",
            "utterance 1 char 2: invalid iob2 sequence: 'I-Symptom' after 'O' "
            "does not continue a Symptom entity",
        ),
    ]
    repaired, quarantined = read_all("cblue", [path], {"variant": "imcs_ner", "invalid": "begin"})
    assert [r.id for r in repaired] == ["10001", "10003"] and len(quarantined) == 1
    assert [(e.text, e.spans) for e in repaired[1].entities] == [("发烧", [(5, 7)])]
    _, quarantined = read_all("cblue", [path], {"variant": "imcs_ner", "bio_key": "new_BIO_label"})
    assert "lacks key 'new_BIO_label'" in quarantined[0].reason


def test_imcs_dac_one_record_per_utterance(fixtures):
    acts = ["Request-Symptom", "Inform-Symptom", "Inform-Medical_Advice"]
    records, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/imcs_v2.json"], {"variant": "imcs_dac", "label_set": acts}, lang="zh"
    )
    assert [(r.id, r.document_id, r.text, r.labels, r.meta) for r in records] == [
        ("10001.1", "10001", "医生：你好，咳嗽多久了？", ["Request-Symptom"], {"speaker": "医生"}),
        ("10001.2", "10001", "患者：咳嗽两天，吃了阿莫西林。", ["Inform-Symptom"], {"speaker": "患者"}),
        ("10001.3", "10001", "医生：建议查血常规。", ["Inform-Medical_Advice"], {"speaker": "医生"}),
        ("10002.1", "10002", "患者：拉肚子一天。", ["Inform-Symptom"], {"speaker": "患者"}),
    ]
    assert records[0].label_set == acts
    (q,) = quarantined
    assert (q.line, q.record_id) == (61, "10003") and "unknown utterance 1 act ''" in q.reason


def test_imcs_mrg_report_fields(fixtures):
    records, quarantined = read_all(
        "cblue", [fixtures / "raw/cblue/imcs_v2.json"], {"variant": "imcs_mrg"}, lang="zh"
    )
    assert dump(records[0]) == {
        "id": "10001",
        "dataset": "ds",
        "split": "train",
        "lang": "zh",
        "meta": {"reports": "2"},
        "family": "t2t",
        "type": "report",
        "input": "【自述】\n宝宝咳嗽两天，怎么办？\n【对话】\n医生：你好，咳嗽多久了？\n"
        "患者：咳嗽两天，吃了阿莫西林。\n医生：建议查血常规。",
        "output": "主诉：咳嗽两天。\n现病史：患儿两天前出现咳嗽，自服阿莫西林。\n辅助检查：暂缺。\n"
        "既往史：不详。\n诊断：上呼吸道感染。\n建议：查血常规。",
        "fields": {
            "主诉": "咳嗽两天。",
            "现病史": "患儿两天前出现咳嗽，自服阿莫西林。",
            "辅助检查": "暂缺。",
            "既往史": "不详。",
            "诊断": "上呼吸道感染。",
            "建议": "查血常规。",
        },
    }
    assert [r.id for r in records] == ["10001", "10002"]
    assert [(q.record_id, q.reason) for q in quarantined] == [
        ("10003", "empty 'report' list (unlabelled test data?)")
    ]


def test_imcs_expects_an_object_keyed_by_id(fixtures):
    _, (q,) = read_all("cblue", [fixtures / "raw/cblue/chip_cdee.json"], {"variant": "imcs_mrg"})
    assert "expected a JSON object" in q.reason


def test_a_broken_record_in_a_pretty_printed_array_quarantines_alone(tmp_path):
    path = tmp_path / "KUAKE-QIC_dev.json"
    path.write_text(
        '[\n  {\n    "id": "s1",\n    "query": "a",\n    "label": "其他"\n  },\n'
        '  {\n    "id": "s2",\n    "query": "b" "oops",\n    "label": "其他"\n  },\n'
        '  {\n    "id": "s3",\n    "query": "c",\n    "label": "其他"\n  }\n]',
        encoding="utf-8",
    )
    records, (bad,) = read_all("cblue", [path], {"variant": "kuake_qic"}, lang="zh")
    assert [r.id for r in records] == ["s1", "s3"]
    assert bad.line == 9 and "reading resumes at the next element" in bad.reason


def test_json_nested_too_deeply_is_quarantined_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('[{"id": "s1", "query": "a", "label": "其他"}, ' + "[" * 3000 + "]" * 3000 + "]")
    records, (bad,) = read_all("cblue", [path], {"variant": "kuake_qic"}, lang="zh")
    assert [r.id for r in records] == ["s1"] and "nested too deeply" in bad.reason
