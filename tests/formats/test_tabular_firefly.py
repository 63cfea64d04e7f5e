from __future__ import annotations

import pytest

from taiyi_core.formats import READERS, ReaderError, get_reader
from tests.formats.helpers import dump, read_all

GAD = {"family": "text", "fields": {"text": 0, "labels": 1}, "header": False, "label_set": ["0", "1"]}


def test_tsv_without_header_by_column_index(fixtures):
    records, quarantined = read_all("tabular", [fixtures / "raw/tabular/gad_train.tsv"], GAD)
    assert [(r.text, r.labels) for r in records] == [
        ("@GENE$ variants are associated with @DISEASE$ .", ["1"]),
        ("No link between @GENE$ and @DISEASE$ .", ["0"]),
    ]
    (q,) = quarantined
    assert (q.line, q.record_id, q.reason) == (3, "gad_train-2", "record lacks field 1")


def test_tsv_with_header_ids_and_bad_rows(fixtures):
    options = {
        "family": "text",
        "fields": {"text": "sentence", "labels": "label"},
        "id_field": "index",
        "label_set": ["0", "1"],
    }
    records, quarantined = read_all("tabular", [fixtures / "raw/tabular/gad_test.tsv"], options)
    assert [dump(r) for r in records] == [
        {
            "id": "0",
            "dataset": "ds",
            "split": "train",
            "lang": "en",
            "meta": {},
            "family": "text",
            "document_id": None,
            "text": "@GENE$ raises @DISEASE$ risk .",
            "labels": ["1"],
            "label_set": ["0", "1"],
        }
    ]
    assert [(q.line, q.reason.split(" (")[0]) for q in quarantined] == [
        (3, "row has 2 columns, header has 3"),
        (4, "unknown label '7'"),
    ]


def test_gb18030_csv_with_multiline_cell(fixtures):
    path = fixtures / "raw/tabular/dialogue_gb18030.csv"
    options = {"family": "pairs", "fields": {"text_1": "ask", "text_2": "answer", "label": "department"}}
    records, (q,) = read_all("tabular", [path], options, lang="zh")
    assert records == [] and "not valid utf-8-sig" in q.reason
    records, quarantined = read_all("tabular", [path], {**options, "encoding": "gb18030"}, lang="zh")
    assert quarantined == []
    assert [(r.text_1, r.source.line) for r in records] == [("头痛三天，\n怎么办？", 2), ("骨折了", 4)]


def test_xlsx_pairs(fixtures):
    options = {
        "family": "pairs",
        "fields": {"text_1": "text1", "text_2": "text2", "label": "label"},
        "id_field": "id",
    }
    records, quarantined = read_all("tabular", [fixtures / "raw/tabular/sts.xlsx"], options)
    assert [(r.id, r.text_1, r.label) for r in records] == [("1", "糖尿病能吃西瓜吗", "1")]
    assert quarantined[0].record_id == "2" and "text_2" in quarantined[0].reason


def test_firefly_golden_and_bad_lines(fixtures):
    records, quarantined = read_all(
        "firefly_jsonl",
        [fixtures / "raw/firefly/taiyi_example.jsonl"],
        {"categories": ["NER", "RE", "MRD", "MT-en2zh"]},
        dataset="taiyi",
        lang="zh",
    )
    assert dump(records[1]) == {
        "id": "2",
        "dataset": "taiyi",
        "split": "train",
        "lang": "zh",
        "family": "dialogue",
        "meta": {"category": "MRD", "source_dataset": "meddg", "language": "zh"},
        "turns": [
            {"role": "user", "text": "肚子疼"},
            {"role": "assistant", "text": "多久了？"},
            {"role": "user", "text": "两天"},
            {"role": "assistant", "text": "建议就医。"},
        ],
    }
    assert records[0].lang == "en" and records[2].lang == "zh" and records[2].meta["language"] == "en-zh"
    assert len(records) + len(quarantined) == 6
    assert [(q.line, q.reason.split(" (")[0]) for q in quarantined] == [
        (4, "turn 1 lacks key 'assistant'"),
        (5, "unknown category 'GAME'"),
        (6, "duplicate record id '1'"),
    ]


def test_registry_names_and_unknown_reader():
    assert {"pubtator", "cblue", "json_records", "hoc", "ddi_xml", "brat", "tabular", "firefly_jsonl"} <= set(
        READERS
    )
    assert all(name == reader.name for name, reader in READERS.items())
    with pytest.raises(ReaderError, match="unknown reader 'conl'"):
        get_reader("conl")


def test_an_unclosed_quote_quarantines_one_record_and_the_rows_after_it_survive(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        'text_1,text_2,label\nfirst,one,1\nbroken,"never closed,0\nthird,three,1\nfourth,four,0\n'
    )
    options = {
        "kind": "csv",
        "family": "pairs",
        "fields": {"text_1": "text_1", "text_2": "text_2", "label": "label"},
    }
    records, (bad,) = read_all("tabular", [path], options)
    assert [r.text_1 for r in records] == ["first", "third", "fourth"]
    assert bad.line == 3 and "bad quoting" in bad.reason and bad.raw == 'broken,"never closed,0'
    assert len(records) + 1 == 4  # read = written + quarantined, per record


def test_a_quoted_multiline_cell_still_reads(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('q,a\n"line one\nline two",yes\nsecond,no\n')
    options = {
        "kind": "csv",
        "family": "qa",
        "constants": {"type": "open"},
        "fields": {"question": "q", "answer": "a"},
    }
    records, quarantined = read_all("tabular", [path], options)
    assert quarantined == [] and [r.question for r in records] == ["line one\nline two", "second"]
    assert [r.source.line for r in records] == [2, 4]


def test_an_xlsx_that_is_not_a_zip_is_quarantined_and_the_next_file_read(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    good = tmp_path / "good.csv"
    good.write_text("Q,A\nwhy?,because\n")
    options = {"family": "qa", "constants": {"type": "open"}, "fields": {"question": "Q", "answer": "A"}}
    records, (q,) = read_all("tabular", [bad, good], options)
    assert [r.question for r in records] == ["why?"]
    assert q.file == str(bad) and "unreadable xlsx file: BadZipFile" in q.reason
