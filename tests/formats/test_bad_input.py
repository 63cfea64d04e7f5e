"""Every bad-input kind the readers are tested against, in one table (issue 11, item 7).

Each case generates a small file holding good records around a bad one, reads it through the reader and
checks what the issue asks of bad input: a quarantine line naming dataset, file, line or record and what
was expected; every good record survives; and ``read = written + quarantined`` holds per RECORD against
an independent count of the raw records the fixture holds (not per file). ``KINDS`` is the list; its
length is the count reported. The data-step kinds that no single reader sees (split lists, empty files,
symlinks, stale temporary folders, unmapped types) are in tests/data/test_bad_input_step.py.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.formats.helpers import read_all

DATASET = "bad_ds"


@dataclass
class Case:
    reader: str
    paths: list[Path]
    raw_records: int  # counted by hand from the fixture: good + bad raw records
    good: list[str]  # ids of the good records that must survive, in order
    bad: list[tuple[str, int | None, str | None]]  # (reason fragment, line, record id); None = not stated
    options: dict = field(default_factory=dict)
    lang: str = "en"
    read_kwargs: dict = field(default_factory=dict)


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# ---------------------------------------------------------------- DDI 2013 XML (sentence records)


def _ddi_sentence(n: int, text: str = "Aspirin alters warfarin.", extra: str = "") -> str:
    sid = f"DDI-MedLine.d1.s{n}"
    return (
        f'  <sentence id="{sid}" text="{text}">\n'
        f'    <entity id="{sid}.e0" charOffset="0-6" type="drug" text="Aspirin"/>{extra}\n'
        "  </sentence>\n"
    )


def _ddi(tmp: Path, middle: str, *, tail: str = "</document>\n") -> Path:
    body = _ddi_sentence(0) + middle + _ddi_sentence(2)
    return _write(tmp / "d1.xml", '<?xml version="1.0"?>\n<document id="DDI-MedLine.d1">\n' + body + tail)


def ddi_bad_byte(tmp: Path) -> Case:
    path = _ddi(tmp, _ddi_sentence(1, "Caf@ine alters warfarin."))
    path.write_bytes(path.read_bytes().replace(b"@", b"\xe9"))  # a latin-1 byte in a UTF-8 file
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s2"],
        [("not valid UTF-8", 6, "DDI-MedLine.d1.s1")],
    )


def ddi_truncated(tmp: Path) -> Case:
    text = '<?xml version="1.0"?>\n<document id="DDI-MedLine.d1">\n' + _ddi_sentence(0) + _ddi_sentence(1)
    path = _write(tmp / "d1.xml", text + '  <sentence id="DDI-MedLine.d1.s2" text="Aspirin alt')
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s1"],
        [("truncated file", 9, "DDI-MedLine.d1.s2")],
    )


def ddi_broken_element(tmp: Path) -> Case:
    broken = _ddi_sentence(1).replace('text="Aspirin"/>', 'text="Aspirin">')  # an unclosed <entity>
    path = _ddi(tmp, broken)
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s2"],
        [("invalid XML in this <sentence>", 6, "DDI-MedLine.d1.s1")],
    )


def ddi_missing_text(tmp: Path) -> Case:
    path = _ddi(tmp, _ddi_sentence(1).replace(' text="Aspirin alters warfarin."', ""))
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s2"],
        [("has no text attribute", 6, "DDI-MedLine.d1.s1")],
    )


def ddi_offsets_outside(tmp: Path) -> Case:
    path = _ddi(tmp, _ddi_sentence(1).replace('charOffset="0-6"', 'charOffset="90-96"'))
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s2"],
        [("outside the text", 6, "DDI-MedLine.d1.s1")],
    )


def ddi_bad_pair(tmp: Path) -> Case:
    pair = '\n    <pair id="p" e1="DDI-MedLine.d1.s1.e0" e2="DDI-MedLine.d1.s1.e9" ddi="true"/>'
    path = _ddi(tmp, _ddi_sentence(1, extra=pair))
    return Case(
        "ddi_xml",
        [path],
        3,
        ["DDI-MedLine.d1.s0", "DDI-MedLine.d1.s2"],
        [("e1/e2 among the sentence's entities", 6, "DDI-MedLine.d1.s1")],
    )


# ---------------------------------------------------------------- PPI unified XML (corpus of documents)


def _ppi_sentence(doc: int, n: int, offsets: str = "0-4", attrs: str = 'text="Actin"') -> str:
    sid = f"LLL.d{doc}.s{n}"
    return (
        f'    <sentence id="{sid}" text="Actin binds myosin.">\n'
        f'      <entity id="{sid}.e0" charOffset="{offsets}" {attrs} type="protein"/>\n'
        "    </sentence>\n"
    )


def _ppi(tmp: Path, bad: str, *, tail: str = "  </document>\n</corpus>\n") -> Path:
    text = (
        '<?xml version="1.0"?>\n<corpus source="LLL">\n  <document id="LLL.d0">\n'
        + _ppi_sentence(0, 0)
        + _ppi_sentence(0, 1)
        + '  </document>\n  <document id="LLL.d1">\n'
        + _ppi_sentence(1, 0)
        + bad
        + tail
    )
    return _write(tmp / "lll.xml", text)


PPI_GOOD = ["LLL.d0.s0", "LLL.d0.s1", "LLL.d1.s0"]


def ppi_bad_byte(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1).replace("binds", "b@nds"))
    path.write_bytes(path.read_bytes().replace(b"@", b"\xff"))
    return Case("ppi_xml", [path], 4, PPI_GOOD, [("not valid UTF-8", 15, "LLL.d1.s1")], {"unit": "sentence"})


def ppi_truncated(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1)[:60], tail="")
    return Case("ppi_xml", [path], 4, PPI_GOOD, [("truncated file", 15, "LLL.d1.s1")], {"unit": "sentence"})


def ppi_malformed_offsets(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1, offsets="0-x"))
    return Case(
        "ppi_xml", [path], 4, PPI_GOOD, [("bad charOffset '0-x'", 15, "LLL.d1.s1")], {"unit": "sentence"}
    )


def ppi_missing_offsets(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1).replace(' charOffset="0-4"', ""))
    return Case(
        "ppi_xml", [path], 4, PPI_GOOD, [("lacks id or charOffset", 15, "LLL.d1.s1")], {"unit": "sentence"}
    )


def ppi_offsets_outside(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1, offsets="40-44"))
    return Case("ppi_xml", [path], 4, PPI_GOOD, [("outside the text", 15, "LLL.d1.s1")], {"unit": "sentence"})


def ppi_document_unit_keeps_no_incomplete_document(tmp: Path) -> Case:
    path = _ppi(tmp, _ppi_sentence(1, 1)[:60], tail="")  # truncated in d1: d1 is not emitted half
    return Case("ppi_xml", [path], 2, ["LLL.d0"], [("truncated file", 15, "LLL.d1.s1")], {"unit": "document"})


# ---------------------------------------------------------------- HoC (text/ + labels/ per abstract)


def _hoc(tmp: Path, bad_text: bytes | None, bad_labels: str | None) -> Path:
    root = tmp / "hoc"
    for pmid, text, labels in [
        ("1", b"Growth .\nDeath .\n", "<Sustaining proliferative signaling<"),
        ("3", b"Fine .\n", "<"),
    ]:
        _write(root / "text" / f"{pmid}.txt", text)
        _write(root / "labels" / f"{pmid}.txt", labels)
    _write(root / "text" / "2.txt", bad_text if bad_text is not None else b"One .\nTwo .\n")
    if bad_labels is not None:
        _write(root / "labels" / "2.txt", bad_labels)
    return root


def hoc_bad_byte(tmp: Path) -> Case:
    return Case("hoc", [_hoc(tmp, b"One \xff.\nTwo .\n", "<<")], 3, ["1", "3"], [("not valid", 1, "2")])


def hoc_truncated_labels(tmp: Path) -> Case:
    return Case("hoc", [_hoc(tmp, None, "<")], 3, ["1", "3"], [("2 sentences but 1 label groups", None, "2")])


def hoc_missing_labels(tmp: Path) -> Case:
    return Case("hoc", [_hoc(tmp, None, None)], 3, ["1", "3"], [("labels file", None, "2")])


def hoc_malformed_labels(tmp: Path) -> Case:
    return Case(
        "hoc", [_hoc(tmp, None, "Sustaining<<")], 3, ["1", "3"], [("does not start with '<'", None, "2")]
    )


def hoc_unknown_label(tmp: Path) -> Case:
    case = Case(
        "hoc", [_hoc(tmp, None, "<Made up<")], 3, ["1", "3"], [("unknown label 'Made up'", None, "2")]
    )
    case.options = {"label_set": ["Sustaining proliferative signaling"]}
    return case


# ---------------------------------------------------------------- CoNLL (sentence records)


def _conll(tmp: Path, middle: bytes, tail: bytes = b"\nLithium B-Chemical\nhelps O\n") -> Path:
    return _write(tmp / "c.txt", b"Aspirin B-Chemical\nworks O\n\n" + middle + tail)


CONLL_GOOD = ["c.s0", "c.s2"]


#: good records added around a stray byte: a file with undecodable bytes on more than 1% of its lines is in
#: another encoding and quarantined whole (STRAY_BYTES_MAX; tests/formats/test_shared.py)
PAD = 60


def conll_bad_byte(tmp: Path) -> Case:
    pad = b"".join(b"\nLithium B-Chemical\nhelps O\n" for _ in range(PAD))
    path = _conll(tmp, b"Caf\xe9ine B-Chemical\nworks O\n", tail=pad)
    return Case(
        "conll",
        [path],
        2 + PAD,
        ["c.s0", "c.s2", f"c.s{PAD + 1}"],
        [("line 4: byte 0xe9 is not valid", 4, "c.s1")],
    )


def conll_wrong_columns(tmp: Path) -> Case:
    path = _conll(tmp, b"Caffeine B-Chemical\nworks\n")
    return Case("conll", [path], 3, CONLL_GOOD, [("line 5: 1 columns", 4, "c.s1")])


def conll_bad_tag_sequence(tmp: Path) -> Case:
    path = _conll(tmp, b"Caffeine O\nworks I-Chemical\n")
    return Case("conll", [path], 3, CONLL_GOOD, [("I-Chemical", 4, "c.s1")], {"scheme": "iob2"})


def conll_truncated(tmp: Path) -> Case:
    path = _conll(tmp, b"Caffeine B-Chemical\nworks O\n", tail=b"\nLithium B-Chemical\nhel")
    return Case("conll", [path], 3, ["c.s0", "c.s1"], [("line 8: 1 columns", 7, "c.s2")])


def conll_unknown_type(tmp: Path) -> Case:
    path = _conll(tmp, b"Caffeine B-Drug\nworks O\n")
    return Case("conll", [path], 3, CONLL_GOOD, [("Drug", 4, "c.s1")], {"label_set": ["Chemical"]})


# ---------------------------------------------------------------- released Taiyi instruction data (JSONL)


def _firefly_line(cid: int, **change) -> str:
    obj = {
        "conversation_id": cid,
        "category": "NER",
        "dataset": "x",
        "language": "en",
        "conversation": [{"human": "h", "assistant": "a"}],
    }
    obj.update(change)
    return json.dumps({k: v for k, v in obj.items() if v is not None})


def _firefly(tmp: Path, middle: bytes) -> Path:
    return _write(
        tmp / "f.jsonl", (_firefly_line(1) + "\n").encode() + middle + (_firefly_line(3) + "\n").encode()
    )


def firefly_bad_byte(tmp: Path) -> Case:
    bad = _firefly_line(2).replace('"h"', '"@"').encode().replace(b"@", b"\xe9") + b"\n"
    pad = "".join(_firefly_line(10 + n) + "\n" for n in range(2 * PAD)).encode()
    path = _firefly(tmp, bad + pad)
    return Case(
        "firefly_jsonl", [path], 3 + 2 * PAD, ["1", "10", "3"], [("byte 0xe9 in this element", 2, None)]
    )


def cblue_bad_byte(tmp: Path) -> Case:
    elements = [_kuake(1), _kuake(2, '"b@d"')] + [_kuake(10 + n) for n in range(PAD)]
    path = _write(tmp / "k.json", ("[\n" + ",\n".join(elements) + "\n]").encode().replace(b"@", b"\xff"))
    return Case(
        "cblue",
        [path],
        2 + PAD,
        ["s1", "s10", f"s{9 + PAD}"],
        [("byte 0xff in this element", 7, None)],
        {"variant": "kuake_qic"},
        lang="zh",
    )


def csv_bad_byte(tmp: Path) -> Case:
    rows = "".join(f"row{n},x,1\n" for n in range(2 * PAD))
    path = _write(
        tmp / "p.csv",
        ("text_1,text_2,label\nfirst,one,1\nb@d,two,0\n" + rows).encode().replace(b"@", b"\xe9"),
    )
    return Case("tabular", [path], 2 + 2 * PAD, ["p-0", "p-2"], [("byte 0xe9 in this row", 3, "p-1")], _PAIRS)


def bioc_bad_byte(tmp: Path) -> Case:
    text = '<?xml version="1.0"?>\n<collection>\n' + _bioc_doc(1) + _bioc_doc(2, "Caf@") + _bioc_doc(3)
    path = _write(tmp / "c.xml", (text + "</collection>\n").encode().replace(b"@", b"\xe9"))
    return Case("bioc_xml", [path], 3, ["1", "3"], [("byte 0xe9 in this document", 4, "2")])


def firefly_malformed_line(tmp: Path) -> Case:
    return Case(
        "firefly_jsonl",
        [_firefly(tmp, b'{"conversation_id": 2,\n')],
        3,
        ["1", "3"],
        [("invalid JSON line", 2, None)],
    )


def firefly_truncated(tmp: Path) -> Case:
    path = _write(tmp / "f.jsonl", "\n".join([_firefly_line(1), _firefly_line(3), _firefly_line(4)[:30]]))
    return Case("firefly_jsonl", [path], 3, ["1", "3"], [("invalid JSON line", 3, None)])


def firefly_missing_field(tmp: Path) -> Case:
    path = _firefly(tmp, (_firefly_line(2, conversation=None) + "\n").encode())
    return Case("firefly_jsonl", [path], 3, ["1", "3"], [("lacks key 'conversation'", 2, "2")])


def firefly_wrong_type(tmp: Path) -> Case:
    path = _firefly(tmp, (_firefly_line(2, conversation="h: a") + "\n").encode())
    return Case(
        "firefly_jsonl", [path], 3, ["1", "3"], [("key 'conversation' is str, expected list", 2, "2")]
    )


def firefly_empty_turn(tmp: Path) -> Case:
    path = _firefly(tmp, (_firefly_line(2, conversation=[{"human": " ", "assistant": "a"}]) + "\n").encode())
    return Case("firefly_jsonl", [path], 3, ["1", "3"], [("empty human or assistant", 2, "2")])


# ---------------------------------------------------------------- every reader (formats/base.py)


def huge_record_firefly(tmp: Path) -> Case:
    # the limit lowered to keep the test small; the default (MAX_RECORD_CHARS) is 2,000,000
    path = _firefly(
        tmp, (_firefly_line(2, conversation=[{"human": "x" * 5000, "assistant": "a"}]) + "\n").encode()
    )
    return Case(
        "firefly_jsonl",
        [path],
        3,
        ["1", "3"],
        [("record of 5,322 characters exceeds the limit of 1,000", 2, "2")],
        {"max_record_chars": 1000},
    )


def huge_record_conll(tmp: Path) -> Case:
    path = _conll(tmp, b"x" * 3000 + b" O\n")
    return Case("conll", [path], 3, CONLL_GOOD, [("max_record_chars", 4, "c.s1")], {"max_record_chars": 1000})


def symlink_out_of_raw(tmp: Path) -> Case:
    raw, outside = tmp / "raw", tmp / "elsewhere"
    _write(raw / "c.txt", b"Aspirin B-Chemical\n")
    _write(outside / "secret.txt", b"Secret B-Chemical\n")
    (raw / "leak.txt").symlink_to(outside / "secret.txt")
    _write(raw / "inner" / "real.txt", b"Lithium B-Chemical\n")
    (raw / "alias.txt").symlink_to(raw / "inner" / "real.txt")  # inside the raw folder: read
    return Case(
        "conll",
        [raw / "c.txt", raw / "leak.txt", raw / "alias.txt"],
        3,
        ["c.s0", "alias.s0"],
        [("symlink resolves outside the raw folder", None, None)],
        read_kwargs={"allowed_roots": [raw]},
    )


def symlink_out_of_a_raw_folder(tmp: Path) -> Case:
    raw, outside = tmp / "raw", tmp / "elsewhere"
    ddi_sentence = (
        '<?xml version="1.0"?>\n<document id="{0}">\n'
        + _ddi_sentence(0).replace("d1", "{0}")
        + "</document>\n"
    )
    _write(raw / "ddi" / "a.xml", ddi_sentence.format("a"))
    _write(outside / "b.xml", ddi_sentence.format("b"))
    (raw / "ddi" / "b.xml").symlink_to(outside / "b.xml")
    return Case(
        "ddi_xml",
        [raw / "ddi"],
        2,
        ["DDI-MedLine.a.s0"],
        [("symlink resolves outside the raw folder", None, None)],
        read_kwargs={"allowed_roots": [raw]},
    )


def symlink_folder_out_of_raw(tmp: Path) -> Case:
    raw, outside = tmp / "raw", tmp / "elsewhere"
    _write(raw / "ds" / "c.txt", b"Aspirin B-Chemical\n")
    _write(outside / "sub" / "secret.txt", b"Secret B-Chemical\n")
    (raw / "ds" / "sub").symlink_to(outside / "sub")  # a linked folder: its files are reached through it
    return Case("conll", [raw / "ds" / "c.txt", raw / "ds" / "sub" / "secret.txt"], 2, ["c.s0"],
                [("symlink resolves outside the raw folder", None, None)],
                read_kwargs={"allowed_roots": [raw]})  # fmt: skip


def undecodable_file_name(tmp: Path) -> Case:
    good = _write(tmp / "c.txt", b"Aspirin B-Chemical\n")
    bad = _write(tmp / os.fsdecode(b"caf\xe9.txt"), b"Lithium B-Chemical\n")  # a latin-1 file name
    return Case("conll", [good, bad], 2, ["c.s0"], [("record cannot be written as UTF-8", 1, "caf?.s0")])


def symlink_into_an_allowed_root(tmp: Path) -> Case:
    raw, store = tmp / "raw", tmp / "store"
    _write(store / "c.txt", b"Aspirin B-Chemical\n")
    _write(raw / "x", b"")
    (raw / "c.txt").symlink_to(store / "c.txt")  # TAIYI_RAW_ALLOW=store: read
    return Case("conll", [raw / "c.txt"], 1, ["c.s0"], [], read_kwargs={"allowed_roots": [raw, store]})


# ---------------------------------------------------------------- kinds covered by helper 11b (regenerated)


def pubtator_bad_byte(tmp: Path) -> Case:
    path = _write(
        tmp / "p.PubTator",
        b"1|t|Aspirin.\n1\t0\t7\tAspirin\tChemical\tD001241\n\n"
        b"2|t|Caf\xe9ine.\n\n3|t|Lithium.\n3\t0\t7\tLithium\tChemical\tD008094\n",
    )
    return Case("pubtator", [path], 3, ["1", "3"], [("byte 0xe9 on line 4", 4, "2")])


def pubtator_offsets_outside(tmp: Path) -> Case:
    path = _write(
        tmp / "p.PubTator",
        "1|t|Aspirin.\n\n2|t|Caffeine.\n2\t50\t58\tCaffeine\tChemical\tD002110\n\n3|t|Lithium.\n",
    )
    return Case("pubtator", [path], 3, ["1", "3"], [("outside the text", None, "2")])


_PAIRS = {
    "kind": "csv",
    "family": "pairs",
    "fields": {"text_1": "text_1", "text_2": "text_2", "label": "label"},
}


def csv_unclosed_quote(tmp: Path) -> Case:
    path = _write(tmp / "p.csv", 'text_1,text_2,label\nfirst,one,1\nbroken,"never closed,0\nthird,three,1\n')
    return Case("tabular", [path], 3, ["p-0", "p-2"], [("bad quoting", 3, None)], dict(_PAIRS, id_field=None))


def csv_stray_quote(tmp: Path) -> Case:
    path = _write(tmp / "p.csv", 'text_1,text_2,label\nfirst,one,1\n"bro"ken,two,0\nthird,three,1\n')
    return Case("tabular", [path], 3, [], [("quot", 3, None)], dict(_PAIRS, id_field=None))


def csv_wrong_columns(tmp: Path) -> Case:
    path = _write(tmp / "p.csv", "text_1,text_2,label\nfirst,one,1\nonly-two,0\nthird,three,1\n")
    return Case("tabular", [path], 3, [], [("", 3, None)], dict(_PAIRS, id_field=None))


def xlsx_not_a_zip(tmp: Path) -> Case:
    bad = _write(tmp / "broken.xlsx", b"not a zip")
    good = _write(tmp / "good.csv", "Q,A\nwhy?,because\n")
    options = {"family": "qa", "constants": {"type": "open"}, "fields": {"question": "Q", "answer": "A"}}
    return Case("tabular", [bad, good], 2, [], [("unreadable xlsx file: BadZipFile", None, None)], options)


def brat_orphan_annotation(tmp: Path) -> Case:
    _write(tmp / "b" / "d1.txt", "IL2 binds.")
    _write(tmp / "b" / "d1.ann", "T1\tProtein 0 3\tIL2\n")
    _write(tmp / "b" / "d2.ann", "T1\tProtein 0 3\tIL4\n")
    return Case("brat", [tmp / "b"], 2, ["d1"], [("no text file d2.txt", None, "d2")])


def brat_offsets_outside(tmp: Path) -> Case:
    for name, ann in [("d1", "T1\tProtein 0 3\tIL2\n"), ("d2", "T1\tProtein 40 43\tIL2\n"), ("d3", "")]:
        _write(tmp / "b" / f"{name}.txt", "IL2 binds.")
        _write(tmp / "b" / f"{name}.ann", ann)
    return Case("brat", [tmp / "b"], 3, ["d1", "d3"], [("outside the text", None, "d2")])


def _bioc_doc(i: int, text: str = "fine") -> str:
    return f"<document><id>{i}</id><passage><offset>0</offset><text>{text}</text></passage></document>\n"


def bioc_syntax_error(tmp: Path) -> Case:
    path = _write(
        tmp / "c.xml",
        '<?xml version="1.0"?>\n<collection>\n'
        + _bioc_doc(1)
        + _bioc_doc(2).replace("</text>", "</txt>")
        + _bioc_doc(3)
        + "</collection>\n",
    )
    return Case("bioc_xml", [path], 3, ["1", "3"], [("invalid XML in this document", 4, "2")])


def bioc_entity_reference(tmp: Path) -> Case:
    path = _write(
        tmp / "c.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE collection [<!ENTITY e "EEE">]>\n'
        "<collection>\n" + _bioc_doc(1, "ab &e; cd") + _bioc_doc(2) + "</collection>\n",
    )
    return Case("bioc_xml", [path], 2, ["2"], [("entity reference &e; (line 4) is not expanded", None, "1")])


def _kuake(i: int, query: str = '"a"') -> str:
    return f'  {{\n    "id": "s{i}",\n    "query": {query},\n    "label": "其他"\n  }}'


def json_array_broken_element(tmp: Path) -> Case:
    path = _write(tmp / "k.json", "[\n" + ",\n".join([_kuake(1), _kuake(2, '"b" "oops"'), _kuake(3)]) + "\n]")
    return Case(
        "cblue",
        [path],
        3,
        ["s1", "s3"],
        [("reading resumes at the next element", 9, None)],
        {"variant": "kuake_qic"},
        lang="zh",
    )


def json_nested_too_deeply(tmp: Path) -> Case:
    path = _write(
        tmp / "k.json", '[{"id": "s1", "query": "a", "label": "其他"}, ' + "[" * 3000 + "]" * 3000 + "]"
    )
    return Case(
        "cblue", [path], 2, ["s1"], [("nested too deeply", None, None)], {"variant": "kuake_qic"}, lang="zh"
    )


def json_missing_field(tmp: Path) -> Case:
    path = _write(
        tmp / "k.json",
        "[\n" + ",\n".join([_kuake(1), _kuake(2).replace('"query"', '"q"'), _kuake(3)]) + "\n]",
    )
    return Case(
        "cblue", [path], 3, ["s1", "s3"], [("query", None, "s2")], {"variant": "kuake_qic"}, lang="zh"
    )


def jsonl_truncated_last_line(tmp: Path) -> Case:
    path = _write(tmp / "q.jsonl", '{"q": "a?", "a": "b"}\n{"q": "c?", "a": "d"}\n{"q": "e?", "a')
    options = {
        "layout": "jsonl",
        "family": "qa",
        "constants": {"type": "open"},
        "fields": {"question": "q", "answer": "a"},
    }
    return Case("json_records", [path], 3, [], [("invalid JSON line", 3, None)], options)


# ---------------------------------------------------------------- stray bytes in the other record formats


def _latin1(text: str) -> bytes:
    """``text`` as UTF-8 with each '@' a latin-1 byte (0xe9): a stray byte the file's encoding refuses."""
    return text.encode().replace(b"@", b"\xe9")


def _bc2gm(tmp: Path, bad_in: bool) -> list[Path]:
    """Sentence P1 with a stray byte in its train.in line or its GENE.eval line; 2 * PAD good sentences keep
    the file under STRAY_BYTES_MAX (one bad line in 2 * PAD + 3)."""
    sids = ["P0", "P1", "P2"] + [f"P{10 + n}" for n in range(2 * PAD)]
    lines = [f"{sid} {'Caf@ine' if sid == 'P1' and bad_in else 'Aspirin'} works." for sid in sids]
    genes = [f"{sid}|0 6|{'Aspir@n' if sid == 'P1' and not bad_in else 'Aspirin'}" for sid in sids]
    return [
        _write(tmp / "train.in", _latin1("\n".join(lines) + "\n")),
        _write(tmp / "GENE.eval", _latin1("\n".join(genes) + "\n")),
    ]


BC2GM_GOOD = ["P0", "P2", "P10", f"P{9 + 2 * PAD}"]


def bc2gm_bad_byte_in_sentence(tmp: Path) -> Case:
    paths = _bc2gm(tmp, bad_in=True)
    return Case("bc2gm", paths, 3 + 2 * PAD, BC2GM_GOOD, [("train.in line 2: byte 0xe9", 2, "P1")])


def bc2gm_bad_byte_in_mention(tmp: Path) -> Case:
    paths = _bc2gm(tmp, bad_in=False)  # the GENE.eval line of P1: its sentence quarantines, named by line
    return Case("bc2gm", paths, 3 + 2 * PAD, BC2GM_GOOD, [("GENE.eval line 2: byte 0xe9", 2, "P1")])


def _chemdner(tmp: Path, bad_in: str) -> list[Path]:
    pmids = ["1", "2", "3"] + [str(10 + n) for n in range(2 * PAD)]
    docs = [f"{p}\t{'Caf@ine' if p == '2' and bad_in == 'text' else 'Aspirin'}.\tWorks." for p in pmids]
    mentions = [f"{p}\tT\t0\t7\t{'Aspir@n' if p == '2' and bad_in == 'mention' else 'Aspirin'}\tTRIVIAL"
                for p in pmids]  # fmt: skip
    return [
        _write(tmp / "train_abstracts.txt", _latin1("\n".join(docs) + "\n")),
        _write(tmp / "train_annotations.txt", _latin1("\n".join(mentions) + "\n")),
    ]


CHEMDNER_GOOD = ["1", "3", "10", str(9 + 2 * PAD)]


def chemdner_bad_byte_in_abstract(tmp: Path) -> Case:
    return Case(
        "biocreative_tsv",
        _chemdner(tmp, "text"),
        3 + 2 * PAD,
        CHEMDNER_GOOD,
        [("line 2: byte 0xe9 is not valid", 2, "2")],
        {"layout": "chemdner"},
    )


def chemdner_bad_byte_in_annotation(tmp: Path) -> Case:
    return Case(
        "biocreative_tsv",
        _chemdner(tmp, "mention"),
        3 + 2 * PAD,
        CHEMDNER_GOOD,
        [("train_annotations.txt line 2: byte 0xe9", 2, "2")],
        {"layout": "chemdner"},
    )


def _bioc_json_doc(i: int, text: str = "fine") -> str:
    passage = {"offset": 0, "infons": {}, "text": text, "annotations": []}
    return json.dumps({"id": str(i), "infons": {}, "passages": [passage], "relations": []})


def bioc_json_bad_byte(tmp: Path) -> Case:
    docs = [_bioc_json_doc(1), _bioc_json_doc(2, "Caf@"), _bioc_json_doc(3)]
    docs += [_bioc_json_doc(10 + n) for n in range(2 * PAD)]
    path = _write(tmp / "c.json", _latin1('{"source": "x",\n"documents": [\n' + ",\n".join(docs) + "\n]}\n"))
    return Case(
        "bioc_json", [path], 3 + 2 * PAD, ["1", "3", "10"], [("byte 0xe9 in this document", 4, "2")]
    )


def _diakg_paragraph(n: int, body: str = "2型糖尿病") -> dict:
    span = {"start_idx": 0, "end_idx": len(body)}
    entity = {"entity_id": "T1", "entity": body, "entity_type": "Disease", **span}
    sentence = {"sentence_id": "0", "sentence": body, **span, "entities": [entity], "relations": []}
    return {"paragraph_id": str(n), "paragraph": body, "sentences": [sentence]}


def diakg_bad_byte(tmp: Path) -> Case:
    paragraphs = [_diakg_paragraph(0), _diakg_paragraph(1, "Caf@ine"), _diakg_paragraph(2)]
    paragraphs += [_diakg_paragraph(10 + n) for n in range(PAD)]  # ~20 lines each: 1 bad line in ~1300
    doc = {"doc_id": "d1", "paragraphs": paragraphs}
    path = _write(tmp / "d1.json", _latin1(json.dumps(doc, ensure_ascii=False, indent=2)))
    return Case(
        "diakg",
        [path],
        3 + PAD,
        ["d1.p0", "d1.p2", "d1.p10"],
        [("byte 0xe9 in this paragraph", None, "d1.p1")],
        lang="zh",
    )


def _osiris_article(pmid: int, title: str = "TGF beta1") -> str:
    return (
        f"<Article>\n<Pmid>{pmid}</Pmid>\n"
        f'<Title>The effect of <gene g_id="7040">{title}</gene>.</Title>\n<Abstract>Fine.</Abstract>\n'
        "</Article>\n"
    )


def inline_xml_bad_byte(tmp: Path) -> Case:
    body = _osiris_article(1) + _osiris_article(2, "TGF b@ta1") + _osiris_article(3)
    path = _write(tmp / "corpus.xml", _latin1('<?xml version="1.0"?>\n<Articles>\n' + body + "</Articles>\n"))
    return Case(
        "inline_xml",
        [path],
        3,
        ["1", "3"],
        [("byte 0xe9 is not valid UTF-8", 8, None)],
        {"mentions": {"gene": {"type": "Gene", "id_attr": "g_id", "db": "NCBIGene"}}},
    )


def _deid_record(rid: int, name: str = "Smith") -> str:
    return f'<RECORD ID="{rid}">\n<TEXT>Seen by <PHI TYPE="DOCTOR">{name}</PHI>.</TEXT>\n</RECORD>\n'


def n2c2_deid_bad_byte(tmp: Path) -> Case:
    body = _deid_record(1) + _deid_record(2, "Ren@") + _deid_record(3)
    path = _write(tmp / "deid.xml", _latin1('<?xml version="1.0"?>\n<ROOT>\n' + body + "</ROOT>\n"))
    return Case(
        "n2c2_xml",
        [path],
        3,
        ["1", "3"],
        [("byte 0xe9 is not valid UTF-8", 6, "2")],
        {"variant": "deid_2006"},
    )


KINDS: dict[str, Callable[[Path], Case]] = {
    f.__name__: f
    for f in [
        ddi_bad_byte,
        ddi_truncated,
        ddi_broken_element,
        ddi_missing_text,
        ddi_offsets_outside,
        ddi_bad_pair,
        ppi_bad_byte,
        ppi_truncated,
        ppi_malformed_offsets,
        ppi_missing_offsets,
        ppi_offsets_outside,
        ppi_document_unit_keeps_no_incomplete_document,
        hoc_bad_byte,
        hoc_truncated_labels,
        hoc_missing_labels,
        hoc_malformed_labels,
        hoc_unknown_label,
        conll_bad_byte,
        conll_wrong_columns,
        conll_bad_tag_sequence,
        conll_truncated,
        conll_unknown_type,
        firefly_bad_byte,
        cblue_bad_byte,
        csv_bad_byte,
        bioc_bad_byte,
        firefly_malformed_line,
        firefly_truncated,
        firefly_missing_field,
        firefly_wrong_type,
        firefly_empty_turn,
        huge_record_firefly,
        huge_record_conll,
        symlink_out_of_raw,
        symlink_out_of_a_raw_folder,
        symlink_into_an_allowed_root,
        symlink_folder_out_of_raw,
        undecodable_file_name,
        pubtator_bad_byte,
        pubtator_offsets_outside,
        csv_unclosed_quote,
        csv_stray_quote,
        csv_wrong_columns,
        xlsx_not_a_zip,
        brat_orphan_annotation,
        brat_offsets_outside,
        bioc_syntax_error,
        bioc_entity_reference,
        json_array_broken_element,
        json_nested_too_deeply,
        json_missing_field,
        jsonl_truncated_last_line,
        bc2gm_bad_byte_in_sentence,
        bc2gm_bad_byte_in_mention,
        chemdner_bad_byte_in_abstract,
        chemdner_bad_byte_in_annotation,
        bioc_json_bad_byte,
        diakg_bad_byte,
        inline_xml_bad_byte,
        n2c2_deid_bad_byte,
    ]
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bad_input_is_quarantined_named_and_counted(kind, tmp_path):
    case = KINDS[kind](tmp_path)
    records, quarantined = read_all(
        case.reader, case.paths, case.options, dataset=DATASET, lang=case.lang, **case.read_kwargs
    )
    # read = written + quarantined, per raw record of the fixture (an independent count)
    assert len(records) + len(quarantined) == case.raw_records, (records, quarantined)
    ids = [r.id for r in records]
    assert [i for i in ids if i in case.good] == case.good, ids  # the good records around the bad survive
    assert len(quarantined) == len(case.bad), quarantined
    for q, (fragment, line, record_id) in zip(quarantined, case.bad, strict=True):
        assert q.dataset == DATASET and Path(q.file).name and q.reason, q
        assert fragment in q.reason, q
        if line is not None:
            assert q.line == line, q
        if record_id is not None:
            assert q.record_id == record_id, q
        q.model_dump_json()  # writable as a quarantine line (no lone surrogates)


def test_kinds_are_counted(tmp_path):
    readers = Counter(KINDS[k](tmp_path / k).reader for k in KINDS)
    print(f"{len(KINDS)} bad-input kinds over {len(readers)} readers: {dict(sorted(readers.items()))}")
    assert len(KINDS) >= 60 and len(readers) >= 17


def test_symlink_quarantine_names_link_and_target(tmp_path):
    case = symlink_out_of_raw(tmp_path)
    _, (q,) = read_all(case.reader, case.paths, {}, dataset=DATASET, **case.read_kwargs)
    target = (tmp_path / "elsewhere" / "secret.txt").resolve()
    assert (
        q.file == str(tmp_path / "raw" / "leak.txt")
        and str(target) in q.reason
        and "TAIYI_RAW_ALLOW" in q.reason
    )


def test_without_allowed_roots_links_are_read_as_before(tmp_path):
    case = symlink_out_of_raw(tmp_path)
    records, quarantined = read_all(case.reader, case.paths, {}, dataset=DATASET)
    assert quarantined == [] and [r.id for r in records] == ["c.s0", "leak.s0", "alias.s0"]


def test_huge_record_default_limit_is_stated(tmp_path):
    from taiyi_core.formats.base import MAX_RECORD_CHARS, ReaderOptions

    assert ReaderOptions().max_record_chars == MAX_RECORD_CHARS == 2_000_000
    path = _write(
        tmp_path / "f.jsonl", _firefly_line(1, conversation=[{"human": "x" * 3000, "assistant": "a"}])
    )
    records, quarantined = read_all("firefly_jsonl", [path])
    assert quarantined == [] and len(records) == 1  # under the default limit: read
    assert os.path.getsize(path) < MAX_RECORD_CHARS
