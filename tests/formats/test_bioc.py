from __future__ import annotations

import pytest

from taiyi_core.formats import ReaderError
from tests.formats.helpers import assert_reslices, dump, read_all


def _ent(eid, etype, text, spans, norms=(), attributes=None):
    return {
        "id": eid,
        "type": etype,
        "text": text,
        "spans": spans,
        "normalized": [{"db": db, "id": i} for db, i in norms],
        "attributes": attributes or {},
    }


def test_bioc_xml_cdr_style_golden(fixtures):
    records, quarantined = read_all(
        "bioc_xml",
        [fixtures / "raw/bioc/cdr_style.xml"],
        {"type_db": {"GeneOrGeneProduct": "NCBIGene"}},
        dataset="bc5cdr",
        split="test",
    )
    assert quarantined == []
    assert [r.id for r in records] == ["10001", "10002", "10003"]
    assert [r.source.line for r in records] == [3, 4, 44]
    assert_reslices(records)
    title = "Lithium-induced tremor and renal failure."
    abstract = "A patient on lithium carbonate developed tremor and acute renal failure."
    assert dump(records[0]) == {
        "id": "10001",
        "dataset": "bc5cdr",
        "split": "test",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "10001",
        "text": f"{title} {abstract}",
        "passages": [
            {"type": "title", "text": title, "offset": 0},
            {"type": "abstract", "text": abstract, "offset": 42},
        ],
        "entities": [
            _ent("10001.0", "Chemical", "Lithium", [(0, 7)], [("MESH", "D008094")]),
            _ent("10001.1", "Disease", "tremor", [(16, 22)], [("MESH", "D014202")]),
            _ent("10001.2", "Disease", "renal failure", [(27, 40)], [("MESH", "D051437")]),
            _ent("10001.3", "Chemical", "lithium carbonate", [(55, 72)], [("MESH", "D016651")]),
            _ent("10001.4", "Disease", "tremor", [(83, 89)], [("MESH", "D014202")]),
            _ent(
                "10001.5",
                "Disease",
                "acute renal failure",
                [(94, 113)],
                [("MESH", "D058186"), ("MESH", "D051437")],
                {"CompositeRole": "CompositeMention"},
            ),
        ],
        "relations": [
            {
                "id": "10001.R0",
                "type": "CID",
                "head": "D008094",
                "tail": "D014202",
                "level": "concept",
                "attributes": {"head_db": "MESH", "tail_db": "MESH"},
            }
        ],
        "events": [],
    }


def test_bioc_xml_discontinuous_nodes_and_sentences(fixtures):
    records, _ = read_all(
        "bioc_xml", [fixtures / "raw/bioc/cdr_style.xml"], {"type_db": {"GeneOrGeneProduct": "NCBIGene"}}
    )
    gene = records[1]
    assert gene.meta == {"journal": "J Immunol"}
    # several <location> = one discontinuous mention; its text may join the fragments with or without a space
    assert [(e.id, e.text, e.spans, e.normalized[0].id) for e in gene.entities] == [
        ("10002.G1", "IL-2 receptors", [(35, 39), (49, 58)], "3559"),
        ("10002.G2", "IL-4 receptors", [(44, 48), (49, 58)], "3566"),
        ("10002.G3", "IL2RA", [(74, 79)], "3559"),  # "3559;-": the unlinked part is dropped
    ]
    assert gene.entities[2].attributes == {}  # an empty <infon/> is not an attribute
    assert [r.model_dump() for r in gene.relations] == [
        {
            "id": "10002.R1",
            "type": "Association",
            "head": "10002.G1",
            "tail": "10002.G3",
            "level": "mention",
            "attributes": {"head_role": "Gene1", "tail_role": "Gene2"},
        }
    ]
    sents = records[2]  # a passage without <text>: its sentences are placed at their offsets
    assert sents.text == "BRCA1 loss causes cancer. TP53 too."
    assert [(e.text, e.normalized[0].model_dump()) for e in sents.entities] == [
        ("BRCA1", {"db": "NCBIGene", "id": "672"}),
        ("cancer", {"db": "MESH", "id": "D009369"}),
        ("TP53", {"db": "NCBIGene", "id": "7157"}),
    ]
    assert sents.relations[0].model_dump() == {
        "id": "10003.R1",
        "type": "Association",
        "head": "672",
        "tail": "D009369",
        "level": "concept",
        "attributes": {"novel": "Novel", "head_db": "NCBIGene", "tail_db": "MESH"},
    }


def test_bioc_xml_bad_documents_quarantined_and_counted(fixtures):
    path = fixtures / "raw/bioc/bad.xml"
    records, quarantined = read_all("bioc_xml", [path], {}, dataset="cdr_bioc")
    assert [r.id for r in records] == ["20006"]
    assert len(records) + len(quarantined) == 9
    assert all(q.dataset == "cdr_bioc" and q.file == str(path) for q in quarantined)
    got = [(q.line, q.record_id, q.reason) for q in quarantined]
    assert got[:7] == [
        (
            4,
            "20001",
            "annotation 0: entity 20001.0 surface mismatch at [(1, 8)]: text has 'spirin ', "
            "annotation says 'Aspirin'",
        ),
        (5, "20002", "annotation 0 location (line 5) offset is 'x', expected an integer"),
        (6, "20003", "annotation 0 has no 'type' infon (has ['MESH'])"),
        (7, "20004", "relation R0: node refid '9' is not an annotation of the document"),
        (
            8,
            "20005",
            "passage 1 (abstract) starts at offset 10, inside the previous passage (which ends at 19)",
        ),
        (10, "20006", "duplicate record id '20006'"),
        (11, None, "document has no id"),
    ]
    assert got[7][0] == 13 and "invalid XML after 8 documents" in got[7][2] and "rest of file" in got[7][2]
    assert quarantined[0].raw.startswith("<document><id>20001</id>")


def test_bioc_xml_label_set_type_map_and_wrong_root(fixtures, tmp_path):
    records, quarantined = read_all(
        "bioc_xml",
        [fixtures / "raw/bioc/cdr_style.xml"],
        {"label_set": ["Chemical", "Disease"], "type_map": {"Gene": "Disease"}},
    )
    assert [r.id for r in records] == ["10001", "10002"]
    assert "unknown entity type (annotation 1) 'GeneOrGeneProduct'" in quarantined[0].reason
    other = tmp_path / "doc.xml"
    other.write_text("<document><id>1</id></document>")
    _, (q,) = read_all("bioc_xml", [tmp_path], {})
    assert q.reason == "root element is <document>, expected <collection>" and q.line == 1


def test_bioc_json_biored_collection(fixtures):
    path = fixtures / "raw/bioc/biored_style.json"
    records, quarantined = read_all(
        "bioc_json", [path], {"id_split": ";", "type_db": {"GeneOrGeneProduct": "NCBIGene"}}
    )
    (rec,) = records
    assert rec.source.line == 2
    # an empty abstract passage adds no padding; its passage is kept
    assert rec.text == "Variant rs113488022 of BRAF in melanoma."
    assert [p.model_dump() for p in rec.passages] == [
        {"type": "title", "text": rec.text, "offset": 0},
        {"type": "abstract", "text": "", "offset": 41},
    ]
    assert [(n.db, n.id) for n in rec.entities[0].normalized] == [
        ("tmVar", "p|SUB|V|600|E"),
        ("HGVS", "p.V600E"),
        ("VariantGroup", "0"),
        ("CorrespondingGene", "673"),
        ("dbSNP", "rs113488022"),
    ]
    assert [(n.db, n.id) for e in rec.entities[1:] for n in e.normalized] == [
        ("NCBIGene", "673"),
        ("MESH", "D008545"),
    ]
    assert rec.relations[0].model_dump() == {
        "id": "30001.R0",
        "type": "Association",
        "head": "673",
        "tail": "D008545",
        "level": "concept",
        "attributes": {"novel": "No", "head_db": "NCBIGene", "tail_db": "MESH"},
    }
    assert [(q.line, q.record_id, q.reason) for q in quarantined] == [
        (3, "30002", "annotation 0 lacks key 'locations' (has ['id', 'infons', 'text'])"),
        (4, "30003", "passage 0 key 'offset' is str, expected int"),
        (
            5,
            "30004",
            "relation R0 has no nodes and none of the concept infon pairs "
            "[('entity1', 'entity2'), ('Chemical', 'Disease')] (has ['entity1', 'type'])",
        ),
    ]


def test_bioc_json_default_split_keeps_tmvar_ids_whole(fixtures):
    """The default id_split includes '|', yet a tmVar variant (``tmVar:p|SUB|V|600|E;...``) stays one id."""
    (rec,), _ = read_all("bioc_json", [fixtures / "raw/bioc/biored_style.json"], {})
    ids = [(n.db, n.id) for n in rec.entities[0].normalized]
    assert ("tmVar", "p|SUB|V|600|E") in ids and ("tmVar", "p") not in ids and ("MESH", "SUB") not in ids


def test_bioc_json_lines_pubtator_export(fixtures):
    records, quarantined = read_all("bioc_json", [fixtures / "raw/bioc/pubtator3.jsonl"], {"layout": "jsonl"})
    assert [dump(r) for r in records] == [
        {
            "id": "35001",
            "dataset": "ds",
            "split": "train",
            "lang": "en",
            "meta": {},
            "family": "kb",
            "document_id": "35001",
            "text": "Diabetes after statin use.",
            "passages": [{"type": "title", "text": "Diabetes after statin use.", "offset": 0}],
            "entities": [
                _ent(
                    "35001.1",
                    "Disease",
                    "Diabetes",
                    [(0, 8)],
                    [("MESH", "D003920")],
                    {"valid": "true", "database": "ncbi_mesh"},
                ),
                _ent("35001.2", "Chemical", "statin", [(15, 21)], [], {"valid": "false"}),
            ],
            "relations": [],
            "events": [],
        },
        {
            "id": "35002",
            "dataset": "ds",
            "split": "train",
            "lang": "en",
            "meta": {},
            "family": "kb",
            "document_id": "35002",
            "text": "Numeric id.",
            "passages": [{"type": "title", "text": "Numeric id.", "offset": 0}],
            "entities": [],
            "relations": [],
            "events": [],
        },
    ]
    (q,) = quarantined
    assert q.line == 3 and q.reason.startswith("invalid JSON line")


def test_bioc_json_truncated_collection_keeps_earlier_documents(fixtures):
    records, quarantined = read_all("bioc_json", [fixtures / "raw/bioc/truncated.json"], {})
    assert [r.id for r in records] == ["31001"]
    (q,) = quarantined
    assert q.line == 2 and "rest of file not read" in q.reason


def test_bioc_json_layout_mismatch_and_bad_options(fixtures, tmp_path):
    _, (q,) = read_all("bioc_json", [fixtures / "raw/bioc/pubtator3.jsonl"], {"layout": "array"})
    assert "truncated JSON array" in q.reason or "expected a JSON array" in q.reason
    path = tmp_path / "c.json"
    path.write_text('{"source": "x", "documents": 3}')
    _, (q,) = read_all("bioc_json", [path], {})
    assert "'documents' is not a list" in q.reason
    path.write_text('{"source": "x"}')
    _, (q,) = read_all("bioc_json", [path], {})
    assert q.reason == "collection has no 'documents' list"
    with pytest.raises(ReaderError, match="layuot"):
        read_all("bioc_json", [path], {"layuot": "jsonl"})


def test_bioc_xml_syntax_error_keeps_the_documents_around_it(tmp_path):
    doc = "<document><id>{i}</id><passage><offset>0</offset><text>Aspirin.</text></passage></document>\n"
    bad = "<document><id>4</id><passage><offset>0</offset><text>bad & text</text></passage></document>\n"
    body = "".join(doc.format(i=i) for i in (1, 2, 3)) + bad + "".join(doc.format(i=i) for i in (5, 6))
    path = tmp_path / "broken.xml"
    path.write_text(f'<?xml version="1.0"?>\n<collection><source>x</source>\n{body}</collection>\n')
    records, (q,) = read_all("bioc_xml", [path], {})
    assert [r.id for r in records] == ["1", "2", "3", "5", "6"]
    assert (q.record_id, q.line) == ("4", 6) and "invalid XML in this document" in q.reason
    assert [r.source.line for r in records][-1] == 8


def test_bioc_xml_unexpanded_entity_reference_quarantines_instead_of_truncating(tmp_path):
    path = tmp_path / "entity.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE collection [<!ENTITY e "EEE">]>\n<collection>\n'
        "<document><id>1</id><passage><offset>0</offset><text>ab &e; cd</text></passage></document>\n"
        "<document><id>2</id><passage><offset>0</offset><text>fine</text></passage></document>\n"
        "</collection>\n"
    )
    records, (q,) = read_all("bioc_xml", [path], {})
    assert [r.text for r in records] == ["fine"]
    assert q.record_id == "1" and "entity reference &e; (line 4) is not expanded" in q.reason
