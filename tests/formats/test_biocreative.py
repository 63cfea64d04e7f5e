"""BioCreative releases read as released: ChemProt and CHEMDNER TSVs (biocreative_tsv), BC2GM (bc2gm).

Own fixtures in the documented layouts (edge cases and bad input); the real samples are read in
tests/catalog/test_real_samples.py.
"""

from __future__ import annotations

import json

import pytest

from taiyi_core.formats.base import ReaderError, SkipRecord
from taiyi_core.formats.bc2gm import char_span
from tests.formats.helpers import assert_reslices, read_all

TITLE = "Aspirin inhibits COX-1."
ABSTRACT = "We show that aspirin binds COX-1 and PTGS2."


def _write(folder, name, lines):
    path = folder / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_chemprot_entities_relations_and_evaluated_groups(tmp_path):
    abstracts = _write(tmp_path, "chemprot_training_abstracts.tsv", [f"11\t{TITLE}\t{ABSTRACT}"])
    at = len(TITLE) + 1
    entities = _write(
        tmp_path,
        "chemprot_training_entities.tsv",
        [
            "11\tT1\tCHEMICAL\t0\t7\tAspirin",
            "11\tT2\tGENE-Y\t17\t22\tCOX-1",
            f"11\tT3\tCHEMICAL\t{at + 13}\t{at + 20}\taspirin",
            f"11\tT4\tGENE-N\t{at + 37}\t{at + 42}\tPTGS2",
        ],
    )
    relations = _write(
        tmp_path,
        "chemprot_training_relations.tsv",
        [
            "11\tCPR:4\tY \tINHIBITOR\tArg1:T1\tArg2:T2",
            "11\tCPR:1\tN \tPART-OF\tArg1:T3\tArg2:T4",
        ],
    )
    (rec,), quarantined = read_all(
        "biocreative_tsv", [abstracts, entities, relations], {"layout": "chemprot"}
    )
    assert quarantined == []
    assert rec.id == "11" and rec.text == TITLE + "\n" + ABSTRACT
    assert [(e.id, e.type, e.text) for e in rec.entities] == [
        ("T1", "CHEMICAL", "Aspirin"),
        ("T2", "GENE-Y", "COX-1"),
        ("T3", "CHEMICAL", "aspirin"),
        ("T4", "GENE-N", "PTGS2"),
    ]
    assert_reslices([rec])
    # CPR:1 is not an evaluated group (flag N): dropped unless asked for
    assert [(r.type, r.head, r.tail, r.attributes) for r in rec.relations] == [
        ("CPR:4", "T1", "T2", {"label": "INHIBITOR", "evaluated": "Y"})
    ]
    (everything,), _ = read_all(
        "biocreative_tsv", [abstracts, entities, relations], {"layout": "chemprot", "evaluated_only": False}
    )
    assert [r.type for r in everything.relations] == ["CPR:4", "CPR:1"]


def test_chemprot_gold_standard_file(tmp_path):
    abstracts = _write(tmp_path, "chemprot_test_abstracts_gs.tsv", [f"11\t{TITLE}\t{ABSTRACT}"])
    entities = _write(
        tmp_path,
        "chemprot_test_entities_gs.tsv",
        ["11\tT1\tCHEMICAL\t0\t7\tAspirin", "11\tT2\tGENE-Y\t17\t22\tCOX-1"],
    )
    gold = _write(tmp_path, "chemprot_test_gold_standard.tsv", ["11\tCPR:4\tArg1:T1\tArg2:T2"])
    (rec,), _ = read_all("biocreative_tsv", [abstracts, entities, gold], {"layout": "chemprot"})
    assert [(r.type, r.head, r.tail) for r in rec.relations] == [("CPR:4", "T1", "T2")]


def test_chemdner_offsets_are_per_title_or_abstract(tmp_path):
    abstracts = _write(
        tmp_path, "training.abstracts.txt", [f"22\t{TITLE}\t{ABSTRACT}", "23\tNo chemicals.\tNone."]
    )
    annotations = _write(
        tmp_path,
        "training.annotations.txt",
        [
            "22\tT\t0\t7\tAspirin\tTRIVIAL",
            "22\tA\t13\t20\taspirin\tTRIVIAL",
        ],
    )
    records, quarantined = read_all("biocreative_tsv", [abstracts, annotations], {"layout": "chemdner"})
    assert quarantined == []
    assert [(r.id, [(e.text, e.spans[0][0]) for e in r.entities]) for r in records] == [
        ("22", [("Aspirin", 0), ("aspirin", len(TITLE) + 1 + 13)]),
        ("23", []),  # a document without annotations stays a record
    ]


def test_biocreative_tsv_bad_lines_quarantine_their_document_only(tmp_path):
    abstracts = _write(
        tmp_path,
        "training.abstracts.txt",
        [
            f"22\t{TITLE}\t{ABSTRACT}",
            "23\tonly two columns",
            f"24\t{TITLE}\t{ABSTRACT}",
            "22\tagain\tx",
        ],
    )
    annotations = _write(
        tmp_path,
        "training.annotations.txt",
        [
            "22\tT\t0\t7\tAspirin\tTRIVIAL",
            "24\tT\t0\t7\tAspirine\tTRIVIAL",  # surface mismatch
            "99\tT\t0\t3\tabc\tFORMULA",  # no such document
        ],
    )
    records, quarantined = read_all("biocreative_tsv", [abstracts, annotations], {"layout": "chemdner"})
    assert [r.id for r in records] == ["22"]
    reasons = {(q.record_id, q.line): q.reason for q in quarantined}
    assert "expected PMID<TAB>title<TAB>abstract" in reasons[("23", 2)]
    assert "PMID 22 repeated (first on line 1)" in reasons[("22", 4)]
    assert "no text in the abstracts file" in reasons[("99", 3)]
    assert (
        "training.annotations.txt line 2" in reasons[("24", 3)] and "surface mismatch" in reasons[("24", 3)]
    )
    assert len(records) + len(quarantined) == 5  # 3 documents + 1 repeat + 1 orphan: nothing lost silently


def test_biocreative_tsv_relation_to_unknown_entity(tmp_path):
    abstracts = _write(tmp_path, "chemprot_training_abstracts.tsv", [f"11\t{TITLE}\t{ABSTRACT}"])
    entities = _write(tmp_path, "chemprot_training_entities.tsv", ["11\tT1\tCHEMICAL\t0\t7\tAspirin"])
    relations = _write(
        tmp_path, "chemprot_training_relations.tsv", ["11\tCPR:4\tY \tINHIBITOR\tArg1:T1\tArg2:T9"]
    )
    _, (q,) = read_all("biocreative_tsv", [abstracts, entities, relations], {"layout": "chemprot"})
    assert q.record_id == "11" and "'T9' is not an entity" in q.reason and "relations.tsv line 1" in q.reason


def test_biocreative_tsv_needs_an_abstracts_file_and_known_names(tmp_path):
    entities = _write(tmp_path, "chemprot_training_entities.tsv", [])
    with pytest.raises(ReaderError, match="no \\*abstracts\\* file"):
        read_all("biocreative_tsv", [entities], {"layout": "chemprot"})
    other = _write(tmp_path, "mystery.tsv", [])
    with pytest.raises(ReaderError, match="cannot tell what mystery.tsv holds"):
        read_all("biocreative_tsv", [other], {"layout": "chemprot"})


# ------------------------------------------------------------------------------------------ BC2GM


def test_bc2gm_offsets_count_non_whitespace_characters():
    text = "Comparison with alkaline phosphatases and 5-nucleotidase"
    start, end = char_span(text, 14, 33)  # the release's first GENE.eval line
    assert text[start:end] == "alkaline phosphatases"
    with pytest.raises(SkipRecord, match="outside the sentence"):
        char_span(text, 40, 60)


def test_bc2gm_gene_and_altgene(tmp_path):
    sentences = _write(tmp_path, "train.in", ["S1 Serum gamma glutamyltransferase rose", "S2 No genes here."])
    gene = _write(tmp_path, "GENE.eval", ["S1|0 28|Serum gamma glutamyltransferase"])
    alt = _write(tmp_path, "ALTGENE.eval", ["S1|5 28|gamma glutamyltransferase", "S1|29 32|rose"])
    records, quarantined = read_all("bc2gm", [sentences, gene, alt])
    assert quarantined == []
    s1, s2 = records
    assert [(e.text, e.type) for e in s1.entities] == [("Serum gamma glutamyltransferase", "GENE")]
    assert json.loads(s1.entities[0].attributes["alternatives"]) == [[6, 31]]
    assert json.loads(s1.meta["unattached_alternatives"]) == [[32, 36]]  # overlaps no GENE mention: kept
    assert s2.entities == []


def test_bc2gm_bad_lines_and_orphans(tmp_path):
    sentences = _write(tmp_path, "train.in", ["S1 IL2 binds.", "S2 p53 again.", "S1 repeated"])
    gene = _write(tmp_path, "GENE.eval", ["S1|0 2|IL2", "S2|0 2|p54", "S9|0 1|xx", "S2 broken"])
    records, quarantined = read_all("bc2gm", [sentences, gene])
    assert [r.id for r in records] == ["S1"]
    reasons = {(q.record_id, q.line): q.reason for q in quarantined}
    assert "sentence id S1 repeated" in reasons[("S1", 3)]
    assert "unknown sentence S9" in reasons[("S9", 3)]
    assert "GENE.eval line 2" in reasons[("S2", 2)] and "surface mismatch" in reasons[("S2", 2)]
    assert "unknown sentence S2 broken" in reasons[("S2 broken", 4)]
    with pytest.raises(ReaderError, match="expected a \\*.in sentence file"):
        read_all("bc2gm", [_write(tmp_path, "notes.txt", [])])


def test_chemdner_evaluation_keeps_only_the_annotated_abstracts(tmp_path):
    abstracts = _write(
        tmp_path, "evaluation.abstracts.txt", [f"22\t{TITLE}\t{ABSTRACT}", "23\tBackground.\tText."]
    )
    annotations = _write(tmp_path, "evaluation.annotations.txt", ["22\tT\t0\t7\tAspirin\tTRIVIAL"])
    labels = _write(tmp_path, "chemdner_abs_test_pmid_label.txt", ["22\tY", "23\tN", "24\tmaybe"])
    records, (bad,) = read_all("biocreative_tsv", [abstracts, annotations, labels], {"layout": "chemdner"})
    assert [r.id for r in records] == ["22"]  # 23 is a background abstract (N): not a record
    assert bad.line == 3 and "expected PMID<TAB>Y|N" in bad.reason
