from __future__ import annotations

import pytest

from taiyi_core.formats import ReaderError, get_reader
from tests.formats.helpers import assert_reslices, dump, read_all

LABELS = {"label_set": ["Chemical", "Disease"]}


def test_golden_document(fixtures):
    records, quarantined = read_all("pubtator", [fixtures / "raw/pubtator/good.PubTator.txt"], LABELS)
    assert quarantined == []
    assert [r.id for r in records] == ["1001", "1002"]
    title = "Clonidine|lithium interaction causes tremor."
    abstract = "Renal and hepatic failure was seen after lithium. Naloxone had no effect on tremor."

    def ent(n, type_, text, span, norms, attributes=None):
        return {
            "id": f"1001.T{n}",
            "type": type_,
            "text": text,
            "spans": [span],
            "normalized": [{"db": db, "id": i} for db, i in norms],
            "attributes": attributes or {},
        }

    assert dump(records[0]) == {
        "id": "1001",
        "dataset": "ds",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "1001",
        "text": title + " " + abstract,
        "passages": [
            {"type": "title", "text": title, "offset": 0},
            {"type": "abstract", "text": abstract, "offset": 45},
        ],
        "entities": [
            ent(1, "Chemical", "Clonidine", (0, 9), [("MESH", "D003000")]),
            ent(2, "Chemical", "lithium", (10, 17), [("MESH", "D008094")]),
            ent(3, "Disease", "tremor", (37, 43), [("MESH", "D014202")]),
            ent(
                4,
                "Disease",
                "Renal and hepatic failure",
                (45, 70),
                [("MESH", "D058186"), ("MESH", "D017093")],
                {"mentions": "Renal failure|hepatic failure"},
            ),
            ent(5, "Chemical", "lithium", (86, 93), [("MESH", "D008094")]),
            ent(6, "Chemical", "Naloxone", (95, 103), []),
            ent(7, "Disease", "tremor", (121, 127), [("OMIM", "190300")]),
        ],
        "relations": [
            {
                "id": "1001.R1",
                "type": "CID",
                "head": "D008094",
                "tail": "D014202",
                "level": "concept",
                "attributes": {"head_db": "MESH", "tail_db": "MESH"},
            },
            {
                "id": "1001.R2",
                "type": "Association",
                "head": "D008094",
                "tail": "D014202",
                "level": "concept",
                "attributes": {"novel": "Novel", "head_db": "MESH", "tail_db": "MESH"},
            },
        ],
        "events": [],
    }
    assert records[0].source.line == 1 and records[0].source.record == "1001"
    assert records[1].text == "Tremor." and records[1].entities[0].normalized == []
    assert records[1].source.line == 13


def test_crlf_and_bom_give_the_same_records(fixtures, tmp_path):
    raw = (fixtures / "raw/pubtator/good.PubTator.txt").read_text()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"\xef\xbb\xbf" + raw.replace("\n", "\r\n").encode())
    base, _ = read_all("pubtator", [fixtures / "raw/pubtator/good.PubTator.txt"])
    other, quarantined = read_all("pubtator", [crlf])
    assert quarantined == []
    assert [dump(r) for r in other] == [dump(r) for r in base]


def test_bad_input_is_quarantined_and_counts_reconcile(fixtures):
    path = fixtures / "raw/pubtator/bad.PubTator.txt"
    records, quarantined = read_all("pubtator", [path], LABELS, dataset="bc5cdr", split="test")
    assert [r.id for r in records] == ["2003", "2007"]
    blocks = path.read_text().count("\n\n") + 1
    assert len(records) + len(quarantined) == blocks == 9
    by_id = {(q.record_id, q.line): q for q in quarantined}
    assert all(q.dataset == "bc5cdr" and q.split == "test" and q.file == str(path) for q in quarantined)
    assert "surface mismatch" in by_id[("2001", 1)].reason
    assert "outside the text" in by_id[("2002", 5)].reason
    assert "duplicate record id '2003'" in by_id[("2003", 12)].reason
    assert "not a title, abstract, annotation or relation line" in by_id[("2004", 15)].reason
    assert "unknown entity type (line 19) 'Drug'" in by_id[("2005", 18)].reason
    assert "no 'PMID|t|' title line" in by_id[("2006", 21)].reason
    assert "line 29" in by_id[("2008", 28)].reason
    assert by_id[("2001", 1)].raw.startswith("2001|t|Aspirin overdose.")


def test_tmvar_ids_are_never_split_into_fake_mesh_ids(tmp_path):
    path = tmp_path / "tmvar.txt"
    path.write_text("7|t|The V600E mutation.\n7\t4\t9\tV600E\tProteinMutation\tp|SUB|V|600|E\n")
    for options in ({}, {"split_ids": False}):  # the default '|' list separator does not apply to variants
        (rec,), _ = read_all("pubtator", [path], options)
        assert [(n.db, n.id) for n in rec.entities[0].normalized] == [("tmVar", "p|SUB|V|600|E")]


def test_type_map_collapses_ncbi_types(tmp_path):
    path = tmp_path / "ncbi.txt"
    path.write_text("9|t|Breast cancer.\n9|a|\n9\t0\t13\tBreast cancer\tSpecificDisease\tD001943\n")
    (rec,), _ = read_all("pubtator", [path], {"type_map": {"SpecificDisease": "Disease"}, **LABELS})
    assert rec.entities[0].type == "Disease"


def test_wrong_encoding_quarantines_the_file(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("1|t|中文标题\n".encode("gbk"))
    records, (q,) = read_all("pubtator", [path])
    assert records == [] and "not valid utf-8-sig" in q.reason and q.line == 1
    (rec,), _ = read_all("pubtator", [path], {"encoding": "gb18030"})
    assert rec.text == "中文标题"


def test_empty_file_and_missing_file_and_bad_options(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert read_all("pubtator", [empty]) == ([], [])
    with pytest.raises(ReaderError, match="does not exist"):
        read_all("pubtator", [tmp_path / "nope.txt"], dataset="bc5cdr")
    with pytest.raises(ReaderError, match="splitids"):
        get_reader("pubtator").read([empty], {"splitids": True}, dataset="x", split="t", lang="en")


def test_real_bc5cdr_sample(shared_samples):
    path = shared_samples / "bc5cdr/CDR_sample.PubTator.txt"
    records, quarantined = read_all("pubtator", [path], LABELS, dataset="bc5cdr")
    assert quarantined == []
    assert len(records) == 50
    assert_reslices(records)
    lines = path.read_text().splitlines()
    assert sum(len(r.entities) for r in records) == sum(1 for ln in lines if ln.count("\t") >= 5)
    assert sum(len(r.relations) for r in records) == sum(1 for ln in lines if "\tCID\t" in ln)
    composite = [e for r in records for e in r.entities if "mentions" in e.attributes]
    assert composite and all(len(e.normalized) >= 1 for e in composite)


def test_a_bad_byte_quarantines_its_document_only(tmp_path):
    path = tmp_path / "bad_byte.PubTator"
    path.write_bytes(
        b"1|t|Aspirin.\n1\t0\t7\tAspirin\tChemical\tD001241\n\n"
        b"2|t|Caf\xe9ine.\n\n"  # latin-1 byte inside an otherwise UTF-8 file
        b"3|t|Lithium.\n3\t0\t7\tLithium\tChemical\tD008094\n"
    )
    records, (bad,) = read_all("pubtator", [path])
    assert [r.id for r in records] == ["1", "3"]
    assert (bad.record_id, bad.line) == ("2", 4) and "byte 0xe9 on line 4" in bad.reason
    assert "\ufffd" in bad.raw or "?" in bad.raw  # the raw text is writable UTF-8
    bad.model_dump_json()
