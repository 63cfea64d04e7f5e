from __future__ import annotations

from tests.formats.helpers import assert_reslices, dump, read_all


def test_ppi_sentences_golden_inclusive_comma_ranges(fixtures):
    path = fixtures / "raw/ppi/aimed_style.xml"
    records, quarantined = read_all("ppi_xml", [path], {}, dataset="aimed")
    assert [r.id for r in records] == ["AIMed.d0.s0", "AIMed.d0.s1", "AIMed.d1.s0"]
    assert_reslices(records)
    assert dump(records[0]) == {
        "id": "AIMed.d0.s0",
        "dataset": "aimed",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "AIMed.d0",
        "text": "Interleukin-8 (IL-8) binds the CXCR1 and CXCR2 receptors.",
        "passages": [],
        "entities": [
            {
                "id": "AIMed.d0.s0.e0",
                "type": "protein",
                "text": "IL-8",
                "spans": [(15, 19)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "AIMed.d0.s0.e1",
                "type": "protein",
                "text": "CXCR1 receptors",
                "spans": [(31, 36), (47, 56)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "AIMed.d0.s0.e2",
                "type": "protein",
                "text": "CXCR2 receptors",
                "spans": [(41, 56)],
                "normalized": [],
                "attributes": {},
            },
        ],
        # only interaction="True" pairs; p2 (False) is a benchmark negative
        "relations": [
            {
                "id": "AIMed.d0.s0.p0",
                "type": "PPI",
                "head": "AIMed.d0.s0.e0",
                "tail": "AIMed.d0.s0.e1",
                "level": "mention",
                "attributes": {},
            },
            {
                "id": "AIMed.d0.s0.p1",
                "type": "PPI",
                "head": "AIMed.d0.s0.e0",
                "tail": "AIMed.d0.s0.e2",
                "level": "mention",
                "attributes": {},
            },
        ],
        "events": [],
    }
    assert [(e.type, e.text) for e in records[1].entities] == [("protein", "Profilin"), ("protein", "actin")]
    assert records[2].entities == [] and records[2].source.line == 19
    assert len(records) + len(quarantined) == 7
    assert [(q.dataset, q.line, q.record_id, q.reason) for q in quarantined] == [
        (
            "aimed",
            20,
            "AIMed.d1.s1",
            "entity AIMed.d1.s1.e1: bad charOffset '12-x' (expected 'a-b' or 'a-b,c-d')",
        ),
        (
            "aimed",
            24,
            "AIMed.d1.s2",
            "pair AIMed.d1.s2.p0: needs interaction True/False and e1/e2 among the sentence's "
            "entities (line 27)",
        ),
        (
            "aimed",
            29,
            "AIMed.d1.s3",
            "pair AIMed.d1.s3.p0: needs interaction True/False and e1/e2 among the sentence's "
            "entities (line 32)",
        ),
        # an exclusive-end reading of the inclusive offsets would cut the last character
        (
            "aimed",
            34,
            "AIMed.d1.s4",
            "entity AIMed.d1.s4.e1 surface mismatch at [(12, 17)]: "
            "text has 'myosi', annotation says 'myosin'",
        ),
    ]


def test_ppi_document_unit_and_negative_label(fixtures):
    records, quarantined = read_all(
        "ppi_xml", [fixtures / "raw/ppi/aimed_style.xml"], {"unit": "document", "negative_label": "none"}
    )
    (doc,) = records  # AIMed.d1 has bad sentences: they are quarantined and the document is not emitted
    assert len(quarantined) == 4
    assert (
        doc.text == "Interleukin-8 (IL-8) binds the CXCR1 and CXCR2 receptors. Profilin interacts with actin."
    )
    assert [p.offset for p in doc.passages] == [0, 58]
    assert [(e.text, e.spans) for e in doc.entities[3:]] == [("Profilin", [(58, 66)]), ("actin", [(82, 87)])]
    assert [(r.id, r.type) for r in doc.relations] == [
        ("AIMed.d0.s0.p0", "PPI"),
        ("AIMed.d0.s0.p1", "PPI"),
        ("AIMed.d0.s0.p2", "none"),
        ("AIMed.d0.s1.p0", "PPI"),
    ]
    assert_reslices(records)


def test_ppi_truncated_and_wrong_root(fixtures, tmp_path):
    _, (q,) = read_all("ppi_xml", [fixtures / "raw/ppi/truncated.xml"], {})
    # the one sentence is cut off: quarantined by its id and line (salvage, sentence_xml.py)
    assert (q.line, q.record_id) == (4, "LLL.d0.s0")
    assert q.reason == "truncated file: this <sentence> is not closed"
    (tmp_path / "x.xml").write_text("<collection/>")
    _, (q,) = read_all("ppi_xml", [tmp_path], {})
    assert q.reason == "root element is <collection>, expected <corpus>"
