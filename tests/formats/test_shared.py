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
    records, (q,) = read_all(reader, [bad, ok], options)
    # PubTator files hold many documents: only the document with the bad byte is quarantined
    assert (q.file, q.line, q.record_id) == (str(bad), 2, "first line" if reader == "pubtator" else None)
    assert "not valid utf-8-sig" in q.reason and "'encoding'" in q.reason
    assert len(records) == 1 and records[0].source.file == str(ok)
