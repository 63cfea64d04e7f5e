"""What the readers share (taiyi_core/formats/base.py): a file that does not decode quarantines alone."""

from __future__ import annotations

import pytest

from tests.formats.helpers import read_all

GOOD = {
    "pubtator": ("pubtator.txt", {}, "1|t|Title.\n1|a|\n"),
    "conll": ("conll.txt", {}, "Aspirin B-Chemical\nworks O\n"),
    "firefly_jsonl": (
        "firefly.jsonl",
        {},
        '{"conversation_id": 1, "category": "NER", "dataset": "x", "language": "en", '
        '"conversation": [{"human": "h", "assistant": "a"}]}\n',
    ),
    "cblue": ("cmeee.json", {"variant": "cmeee"}, '[{"text": "头痛", "entities": []}]'),
    "bioc_json": (
        "bioc.json",
        {},
        '{"source": "s", "documents": [{"id": "1", "passages": [{"offset": 0, "text": "x"}]}]}',
    ),
}


@pytest.mark.parametrize("reader", sorted(GOOD))
def test_undecodable_file_quarantines_with_its_line_and_the_next_file_is_read(reader, tmp_path):
    name, options, good = GOOD[reader]
    bad = tmp_path / f"gbk-{name}"
    bad.write_bytes(b"first line\n" + "中文".encode("gbk") + b"\n")
    ok = tmp_path / name
    ok.write_text(good, encoding="utf-8")
    records, quarantined = read_all(reader, [bad, ok], options)
    # files of many records (PubTator documents, CoNLL sentences, JSONL lines): only the record with the
    # bad byte is quarantined (firefly's line 1 is not JSON: quarantined on its own)
    q = quarantined[-1]
    assert len(quarantined) == (2 if reader == "firefly_jsonl" else 1), quarantined
    record = {"pubtator": "first line", "conll": "gbk-conll.s0"}.get(reader)
    line = 1 if reader == "conll" else 2  # a CoNLL sentence is named by its first line, its reason says 2
    assert (q.file, q.line, q.record_id) == (str(bad), line, record), q
    assert reader != "conll" or q.reason.startswith("line 2: byte 0xd6")
    assert "not valid utf-8-sig" in q.reason and "'encoding'" in q.reason
    assert len(records) == 1 and records[0].source.file == str(ok)
