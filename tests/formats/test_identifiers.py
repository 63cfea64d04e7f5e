"""Identifiers per database: one set of rules for mention ids and relation arguments."""

from __future__ import annotations

import pytest

from taiyi_core.formats.identifiers import database, parse_id, parse_ids, resolve_ref
from taiyi_core.schema import Normalization as N
from tests.formats.helpers import read_all


@pytest.mark.parametrize(
    ("raw", "db", "separators", "expected"),
    [
        ("D014640", "MESH", "|+", [("MESH", "D014640")]),
        ("MESH:D014640", "NCBIGene", "|+", [("MESH", "D014640")]),  # a prefix beats the type's database
        ("D008750|D003866", "MESH", "|+", [("MESH", "D008750"), ("MESH", "D003866")]),  # BC5CDR composite
        ("OMIM:190300+D001943", "MESH", "|+", [("OMIM", "190300"), ("MESH", "D001943")]),  # NCBI-disease
        (
            "20208,20210,6288",
            "NCBIGene",
            ",",
            [("NCBIGene", "20208"), ("NCBIGene", "20210"), ("NCBIGene", "6288")],
        ),
        ("9606", "NCBITaxon", ",", [("NCBITaxon", "9606")]),
        ("p|SUB|V|1763|M", "MESH", "|+", [("tmVar", "p|SUB|V|1763|M")]),  # never split into fake MESH ids
        ("c|DEL|737|C", "tmVar", "", [("tmVar", "c|DEL|737|C")]),
        ("rs1056892", "tmVar", ",", [("dbSNP", "rs1056892")]),
        (
            "tmVar:p|SUB|V|1763|M;HGVS:p.V1763M;RS#:1799971",
            "MESH",
            "|+",
            [("tmVar", "p|SUB|V|1763|M"), ("HGVS", "p.V1763M"), ("dbSNP", "rs1799971")],
        ),
        ("ChEBI:15365", "MESH", "|+", [("CHEBI", "15365")]),
        ("C0011849", "UMLS", "|+", [("UMLS", "C0011849")]),
        ("D001|D001", "MESH", "|+", [("MESH", "D001")]),  # repeats collapse
        ("-1", "MESH", "|+", []),
        ("-", "MESH", "|+", []),
        ("D001|-", "MESH", "|+", [("MESH", "D001")]),
    ],
)
def test_parse_ids(raw, db, separators, expected):
    assert [(n.db, n.id) for n in parse_ids(raw, db, separators)] == expected


def test_database_spellings_are_canonical():
    assert {database(x) for x in ("MeSH", "mesh", "MESH")} == {"MESH"}
    assert {database(x) for x in ("Gene", "NCBIGene", "NCBI Gene")} == {"NCBIGene"}
    assert database("SomethingElse") == "SomethingElse"
    assert parse_id("  ", "MESH") is None


def test_relation_arguments_take_the_database_of_the_mention_carrying_them():
    known = [N(db="NCBIGene", id="6331"), N(db="MESH", id="D001919"), N(db="tmVar", id="p|SUB|V|1763|M")]
    assert resolve_ref("6331", known, "MESH") == N(db="NCBIGene", id="6331")
    assert resolve_ref("p|SUB|V|1763|M", known, "MESH") == N(db="tmVar", id="p|SUB|V|1763|M")
    assert resolve_ref("RS#:1799971", known, "MESH") == N(db="dbSNP", id="rs1799971")
    assert resolve_ref("D999", known, "MESH") == N(db="MESH", id="D999")  # no mention carries it: default
    assert resolve_ref("-", known, "MESH") is None


def test_pubtator_type_databases_lists_and_relation_arguments(tmp_path):
    path = tmp_path / "biored.PubTator"
    path.write_text(
        "1|t|BRCA1 p.V1763M in mice and humans.\n"
        "1\t0\t5\tBRCA1\tGeneOrGeneProduct\t672,12189\n"
        "1\t6\t14\tp.V1763M\tSequenceVariant\tp|SUB|V|1763|M\n"
        "1\t18\t22\tmice\tOrganismTaxon\t10090\n"
        "1\t27\t33\thumans\tOrganismTaxon\t9606\n"
        "1\tAssociation\t672\tp|SUB|V|1763|M\tNovel\n"
        "1\tBind\t672\t-\tNo\n",
        encoding="utf-8",
    )
    options = {
        "id_separators": ",",
        "type_db": {"GeneOrGeneProduct": "NCBIGene", "OrganismTaxon": "NCBITaxon"},
    }
    records, (bad,) = read_all("pubtator", [path], options)
    assert records == [] and "relation argument is an unlinked id" in bad.reason and "line 7" in bad.reason
    path.write_text(path.read_text(encoding="utf-8").replace("1\tBind\t672\t-\tNo\n", ""), encoding="utf-8")
    (rec,), _ = read_all("pubtator", [path], options)
    assert [[(n.db, n.id) for n in e.normalized] for e in rec.entities] == [
        [("NCBIGene", "672"), ("NCBIGene", "12189")],
        [("tmVar", "p|SUB|V|1763|M")],
        [("NCBITaxon", "10090")],
        [("NCBITaxon", "9606")],
    ]
    (rel,) = rec.relations
    assert (rel.head, rel.tail, rel.attributes) == (
        "672",
        "p|SUB|V|1763|M",
        {"novel": "Novel", "head_db": "NCBIGene", "tail_db": "tmVar"},
    )
