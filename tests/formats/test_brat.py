from __future__ import annotations

from tests.formats.helpers import assert_reslices, dump, read_all


def test_brat_golden_crlf_offsets_and_all_line_kinds(fixtures):
    folder = fixtures / "raw/brat"
    records, quarantined = read_all("brat", [folder], {"label_set": ["DRUG", "EFFECT"]})
    (doc,) = records
    assert dump(doc) == {
        "id": "doc1",
        "dataset": "ds",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "doc1",
        "text": "Aspirin interacts with warfarin.\r\nBleeding risk rises.\r\n",
        "passages": [],
        "entities": [
            {
                "id": "T1",
                "type": "DRUG",
                "text": "Aspirin",
                "spans": [(0, 7)],
                "normalized": [{"db": "DrugBank", "id": "DB00945"}],
                "attributes": {},
            },
            {
                "id": "T2",
                "type": "DRUG",
                "text": "warfarin",
                "spans": [(23, 31)],
                "normalized": [],
                "attributes": {"Negated": "true"},
            },
            {
                "id": "T3",
                "type": "EFFECT",
                "text": "Bleeding risk",
                "spans": [(34, 42), (43, 47)],
                "normalized": [],
                "attributes": {"note": "check span"},
            },
        ],
        "relations": [
            {"id": "R1", "type": "EFFECT", "head": "T1", "tail": "T2", "level": "mention", "attributes": {}},
            {"id": "*1.1", "type": "Equiv", "head": "T1", "tail": "T2", "level": "mention", "attributes": {}},
        ],
        "events": [],
    }
    assert len(records) + len(quarantined) == 4
    assert [(q.record_id, q.file.rsplit("/", 1)[1], q.line) for q in quarantined] == [
        ("doc2", "doc2.ann", 1),
        ("doc3", "doc3.txt", None),
        ("doc4", "doc4.txt", None),
    ]
    assert "surface mismatch" in quarantined[0].reason
    assert "unknown id (T1, T9)" in quarantined[1].reason
    assert "doc4.ann is missing" in quarantined[2].reason


def test_bionlp_st_events_with_nested_arguments(fixtures):
    records, quarantined = read_all(
        "brat", [fixtures / "raw/bionlp/PMID-1.txt"], {"suffixes": [".a1", ".a2"]}
    )
    assert quarantined == []
    (doc,) = records
    assert [e.id for e in doc.entities] == ["T1", "T2"]  # triggers are not entities
    assert_reslices([doc])
    e1, e2 = doc.events
    assert (e1.type, e1.trigger.text, [(a.role, a.ref) for a in e1.arguments]) == (
        "Gene_expression",
        "expression",
        [("Theme", "T1")],
    )
    assert (e2.trigger.spans, [(a.role, a.ref) for a in e2.arguments], e2.attributes) == (
        [(23, 30)],
        [("Theme", "E1"), ("Cause", "T2")],
        {"Negation": "true"},
    )


def test_an_orphan_annotation_file_is_quarantined_not_skipped(tmp_path):
    (tmp_path / "d1.txt").write_text("IL2 binds.", encoding="utf-8")
    (tmp_path / "d1.ann").write_text("T1\tProtein 0 3\tIL2\n", encoding="utf-8")
    (tmp_path / "d2.ann").write_text("T1\tProtein 0 3\tIL4\n", encoding="utf-8")  # its d2.txt is missing
    records, (orphan,) = read_all("brat", [tmp_path])
    assert [r.id for r in records] == ["d1"]
    assert orphan.record_id == "d2" and orphan.file.endswith("d2.ann")
    assert "no text file d2.txt" in orphan.reason
