"""Inline-annotated XML (OSIRIS): spans from where the tagged text falls; bad records quarantine alone."""

from __future__ import annotations

from tests.formats.helpers import assert_reslices, read_all

OPTIONS = {
    "mentions": {
        "gene": {"type": "Gene", "id_attr": "g_id", "db": "NCBIGene", "attributes": ["g_lex"]},
        "variant": {"type": "Variant", "id_attr": "v_id", "db": "dbSNP", "id_prefix": "rs"},
    }
}


def test_mentions_ids_and_bad_records(tmp_path):
    path = tmp_path / "corpus.xml"
    path.write_text(
        "<Articles>\n"
        "<Article><Pmid>1</Pmid><Title>The <gene g_id=\"7040\" g_lex=\"TGFB1\">TGFB1</gene> gene.</Title>"
        "<Abstract>A <variant v_id=\"1800470\">+869 T/C</variant> and <variant v_id=\"No\">C509T</variant>."
        "</Abstract></Article>\n"
        "<Article><Pmid>2</Pmid><Title>Bad <b>bold</b>.</Title><Abstract>x</Abstract></Article>\n"
        "<Article><Title>No id.</Title><Abstract>x</Abstract></Article>\n"
        "<Article><Pmid>4</Pmid><Title>No abstract.</Title></Article>\n"
        "</Articles>\n",
        encoding="utf-8",
    )
    records, quarantined = read_all("inline_xml", [path], OPTIONS)
    (rec,) = records
    assert rec.text == "The TGFB1 gene. A +869 T/C and C509T."
    assert [(e.type, e.text, [(n.db, n.id) for n in e.normalized]) for e in rec.entities] == [
        ("Gene", "TGFB1", [("NCBIGene", "7040")]),
        ("Variant", "+869 T/C", [("dbSNP", "rs1800470")]),
        ("Variant", "C509T", []),  # v_id="No": not normalised
    ]
    assert rec.entities[0].attributes == {"g_lex": "TGFB1"}
    assert [(p.type, p.offset) for p in rec.passages] == [("title", 0), ("abstract", 16)]
    assert_reslices(records)
    reasons = {q.record_id: (q.line, q.reason) for q in quarantined}
    assert "unexpected element <b>" in reasons["2"][1] and reasons["2"][0] == 3
    assert "without <Pmid>" in reasons["corpus-2"][1]
    assert "has no <Abstract>" in reasons["4"][1]
    assert len(records) + len(quarantined) == 4
