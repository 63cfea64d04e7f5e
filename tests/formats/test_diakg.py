"""DiaKG documents: paragraph or sentence records, sentence-relative offsets, bad parts quarantined alone."""

from __future__ import annotations

import json

from tests.formats.helpers import assert_reslices, read_all


def _sentence(sid, text, start, entities=(), relations=()):
    return {
        "sentence_id": sid,
        "sentence": text,
        "start_idx": start,
        "end_idx": start + len(text),
        "entities": list(entities),
        "relations": list(relations),
    }


def _entity(eid, text, etype, start):
    return {
        "entity_id": eid,
        "entity": text,
        "entity_type": etype,
        "start_idx": start,
        "end_idx": start + len(text),
    }


def test_paragraphs_sentences_and_bad_parts(tmp_path):
    good = {
        "paragraph_id": "0",
        "paragraph": "二甲双胍治疗2型糖尿病。注意低血糖。",
        "sentences": [
            _sentence(
                "0",
                "二甲双胍治疗2型糖尿病。",
                0,
                [_entity("T0", "二甲双胍", "Drug", 0), _entity("T1", "2型糖尿病", "Disease", 6)],
                [
                    {
                        "relation_type": "Drug_Disease",
                        "relation_id": "R0",
                        "head_entity_id": "T0",
                        "tail_entity_id": "T1",
                    }
                ],
            ),
            _sentence("1", "注意低血糖。", 12, [_entity("T0", "低血糖", "Symptom", 2)]),
        ],
    }
    shifted = {"paragraph_id": "1", "paragraph": "abc", "sentences": [_sentence("0", "xyz", 0)]}
    orphan = {
        "paragraph_id": "2",
        "paragraph": "胰岛素",
        "sentences": [
            _sentence(
                "0",
                "胰岛素",
                0,
                [_entity("T0", "胰岛素", "Drug", 0)],
                [{"relation_type": "X", "relation_id": "R0", "head_entity_id": "T0", "tail_entity_id": "T9"}],
            )
        ],
    }
    path = tmp_path / "doc1.json"
    path.write_text(json.dumps({"doc_id": "1", "paragraphs": [good, shifted, orphan]}, ensure_ascii=False))
    (tmp_path / "broken.json").write_text("{not json")
    records, quarantined = read_all("diakg", [tmp_path], {}, lang="zh")
    (rec,) = records
    assert rec.id == "1.p0" and rec.text == good["paragraph"]
    assert [(e.id, e.text, e.spans) for e in rec.entities] == [
        ("1.p0.0.T0", "二甲双胍", [(0, 4)]),
        ("1.p0.0.T1", "2型糖尿病", [(6, 11)]),
        ("1.p0.1.T0", "低血糖", [(14, 17)]),
    ]
    assert [(r.head, r.tail) for r in rec.relations] == [("1.p0.0.T0", "1.p0.0.T1")]
    assert_reslices(records)
    reasons = {q.record_id: q.reason for q in quarantined}
    assert "not the paragraph's slice" in reasons["1.p1"]
    assert "'T9' is not an entity of the sentence" in reasons["1.p2"]
    assert "not a DiaKG document" in reasons[None]
    sentences, _ = read_all("diakg", [path], {"unit": "sentence"}, lang="zh")
    assert [(r.id, r.text, len(r.entities)) for r in sentences][:2] == [
        ("1.p0.s0", "二甲双胍治疗2型糖尿病。", 2),
        ("1.p0.s1", "注意低血糖。", 1),
    ]
