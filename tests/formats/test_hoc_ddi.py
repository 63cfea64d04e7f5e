from __future__ import annotations

from tests.formats.helpers import assert_reslices, dump, read_all

HALLMARKS = [
    "Sustaining proliferative signaling",
    "Evading growth suppressors",
    "Resisting cell death",
    "Enabling replicative immortality",
    "Inducing angiogenesis",
    "Activating invasion and metastasis",
    "Genomic instability and mutation",
    "Tumor promoting inflammation",
    "Cellular energetics",
    "Avoiding immune destruction",
]
DDI_TYPES = ["mechanism", "effect", "advise", "int"]


def test_hoc_document_level_golden_and_bad_abstracts(fixtures):
    root = fixtures / "raw/hoc"
    records, quarantined = read_all("hoc", [root], {"label_set": HALLMARKS[:4]}, dataset="hoc")
    assert dump(records[0]) == {
        "id": "1001",
        "dataset": "hoc",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "text",
        "document_id": "1001",
        "text": "EGFR signalling drives growth . Cells evade apoptosis . Nothing here .",
        "labels": ["Sustaining proliferative signaling", "Resisting cell death"],
        "label_set": HALLMARKS[:4],
    }
    assert [r.id for r in records] == ["1001", "1005"] and records[1].labels == [
        "Enabling replicative immortality"
    ]
    assert len(records) + len(quarantined) == 5
    assert [(q.record_id, q.reason.split(" (")[0]) for q in quarantined] == [
        ("1002", "2 sentences but 1 label groups in 1002.txt"),
        ("1003", f"labels file {root / 'labels/1003.txt'} is missing"),
        ("1004", "unknown label 'Inducing angiogenesis'"),
    ]


def test_hoc_sentence_level_full_labels_from_file_paths(fixtures):
    text = fixtures / "raw/hoc/text/1001.txt"
    records, quarantined = read_all("hoc", [text], {"unit": "sentence", "level": "full"})
    assert quarantined == []
    assert [(r.id, r.text, r.labels) for r in records] == [
        (
            "1001.s0",
            "EGFR signalling drives growth .",
            ["Sustaining proliferative signaling--Receptors", "Resisting cell death--Apoptosis"],
        ),
        ("1001.s1", "Cells evade apoptosis .", ["Resisting cell death--Apoptosis"]),
        ("1001.s2", "Nothing here .", []),
    ]


def test_real_hoc_sample(shared_samples):
    records, quarantined = read_all("hoc", [shared_samples / "hoc"], {"label_set": HALLMARKS})
    assert quarantined == [] and len(records) == 30
    assert sum(1 for r in records if r.labels) >= 20
    sentences, quarantined = read_all("hoc", [shared_samples / "hoc"], {"unit": "sentence"})
    assert quarantined == []
    assert len(sentences) == sum(
        len((shared_samples / "hoc/text" / f"{r.id}.txt").read_text().splitlines()) for r in records
    )
    # the '<' introduces each sentence's labels: "ZD1839 suppressed EGFR phosphorylation" is about receptors
    zd = next(s for s in sentences if s.text.startswith("ZD1839 suppressed EGFR phosphorylation"))
    assert zd.labels == ["Sustaining proliferative signaling"]


def test_ddi_golden_inclusive_ends_split_spans_crlf(fixtures):
    records, quarantined = read_all("ddi_xml", [fixtures / "raw/ddi/good.xml"], {"label_set": DDI_TYPES})
    assert quarantined == []
    text = "Calcium inhibits the absorption of nonheme and heme iron.\r\n"
    assert dump(records[0]) == {
        "id": "DDI-MedLine.d900.s0",
        "dataset": "ds",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "DDI-MedLine.d900",
        "text": text,
        "passages": [],
        "events": [],
        "entities": [
            {
                "id": "DDI-MedLine.d900.s0.e0",
                "type": "drug",
                "text": "Calcium",
                "spans": [(0, 7)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "DDI-MedLine.d900.s0.e1",
                "type": "drug",
                "text": "nonheme iron",
                "spans": [(35, 42), (52, 56)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "DDI-MedLine.d900.s0.e2",
                "type": "drug",
                "text": "heme iron",
                "spans": [(47, 56)],
                "normalized": [],
                "attributes": {},
            },
        ],
        "relations": [
            {
                "id": "DDI-MedLine.d900.s0.p0",
                "type": "mechanism",
                "head": "DDI-MedLine.d900.s0.e0",
                "tail": "DDI-MedLine.d900.s0.e1",
                "level": "mention",
                "attributes": {},
            }
        ],
    }
    assert records[1].entities == [] and records[0].source.line == 3
    with_neg, _ = read_all("ddi_xml", [fixtures / "raw/ddi/good.xml"], {"negative_label": "false"})
    assert [r.type for r in with_neg[0].relations] == ["mechanism", "false"]


def test_ddi_document_unit_shifts_offsets(fixtures):
    (doc,), _ = read_all("ddi_xml", [fixtures / "raw/ddi/good.xml"], {"unit": "document"})
    assert doc.id == "DDI-MedLine.d900" and doc.passages[1].offset == 60
    assert_reslices([doc])


def test_ddi_bad_sentences_and_truncated_file(fixtures):
    raw = fixtures / "raw/ddi"
    records, quarantined = read_all(
        "ddi_xml", [raw / "bad.xml", raw / "truncated.xml"], {"label_set": DDI_TYPES}
    )
    assert [r.id for r in records] == ["DDI-DrugBank.d901.s3"]
    assert len(records) + len(quarantined) == 5
    reasons = [(q.record_id, q.line, q.reason) for q in quarantined]
    assert "surface mismatch" in reasons[0][2] and reasons[0][:2] == ("DDI-DrugBank.d901.s0", 3)
    assert "bad charOffset '0to6'" in reasons[1][2]
    assert "unknown relation type 'synergy'" in reasons[2][2]
    # the truncated file's one sentence is cut off: quarantined by id and line (salvage, sentence_xml.py)
    assert reasons[3] == ("DDI-MedLine.d900.s0", 3, "truncated file: this <sentence> is not closed")
    assert quarantined[3].file.endswith("truncated.xml")


def test_real_ddi_medline(shared_samples):
    records, quarantined = read_all("ddi_xml", [shared_samples / "ddi/MedLine"], {"label_set": DDI_TYPES})
    assert quarantined == [] and len({r.document_id for r in records}) == 11
    assert_reslices(records)
    assert any(len(e.spans) == 2 for r in records for e in r.entities)
    assert sum(len(r.relations) for r in records) == 43
