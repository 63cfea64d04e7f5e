"""Scoring definitions (taiyi_core/tasks/definitions.py) on hand-made records; every expectation is
computed by hand in the comments. The records go through the task's own render/parse/reference, as
the eval step does."""

from __future__ import annotations

import json
import random

import pytest

from taiyi_core.schema import TextRecord
from taiyi_core.tasks import Parsed, get_task
from taiyi_core.tasks.definitions import applicable, score_all
from taiyi_core.tasks.grounding import NormalizedText, ground
from taiyi_core.tasks.metrics import normalize_ws
from taiyi_core.tasks.references import reference

from .records import SRC, ent, kb

ner, re_, tc = get_task("ner"), get_task("re"), get_task("tc")


def _ner_scores(record, predictions: list[str], types=("Chemical", "Disease")) -> dict:
    """All definitions for one record scored against each prediction text (one instance each)."""
    types = list(types)
    [inst] = ner.render(record, "en", random.Random(0), types=types)
    ref = reference("ner", record, types=types)
    golds = [ner.gold(record, types=types)] * len(predictions)
    preds = [ner.parse(p, "en") if p is not None else Parsed({}, ok=False) for p in predictions]
    inputs = [inst.input_text] * len(predictions)
    base = ner.score(golds, preds, inputs)
    return score_all("ner", base, golds, preds, inputs, [ref] * len(predictions))


def _prf(d: dict) -> tuple:
    return (d["tp"], d["fp"], d["fn"])


def test_normalized_text_maps_back_to_raw_offsets() -> None:
    raw = "  renal\n\t failure  and  renal failure "
    nt = NormalizedText(raw)
    assert nt.text == normalize_ws(raw) == "renal failure and renal failure"
    # both occurrences, in raw offsets: the first spans the newline and tab
    assert nt.occurrences("renal  failure") == [(2, 17), (24, 37)]
    assert raw[2:17] == "renal\n\t failure" and raw[24:37] == "renal failure"


def test_ground_longest_first_never_overlapping() -> None:
    text = "lung cancer and cancer"
    placed, missing = ground(text, [("Disease", "cancer"), ("Disease", "lung cancer"), ("Disease", "tumour")])
    # lung cancer takes 0-11 first; cancer's inner occurrence 5-11 overlaps it, its second 16-22 is free
    assert sorted(placed) == [(0, 11, "Disease"), (16, 22, "Disease")]
    assert missing == [("Disease", "tumour")]  # never occurs


REPEATED = "aspirin and aspirin; warfarin."
#           0      7    12     19 21      29


def test_mention_repeated_mentions() -> None:
    rec = kb(REPEATED, [ent("T1", "Chemical", "aspirin", 0), ent("T2", "Chemical", "aspirin", 12),
                        ent("T3", "Chemical", "warfarin", 21)])  # fmt: skip
    s = _ner_scores(rec, ["Chemical: aspirin; warfarin", "Chemical: aspirin"], types=["Chemical"])
    # string-set: gold {aspirin, warfarin}; pred 1 both (TP 2), pred 2 {aspirin} (TP 1, FN 1)
    assert _prf(s["string-set"]) == (3, 0, 1)
    # mention: pred 1 places aspirin at 0 and 12 and warfarin at 21 (TP 3); pred 2 aspirin twice (TP 2,
    # FN 1) -> TP 5, FP 0, FN 1: P 1, R 5/6
    assert _prf(s["mention"]) == (5, 0, 1)
    assert s["mention"]["recall"] == pytest.approx(5 / 6)
    # gold annotating only the first occurrence: the grounded second copy is a false positive
    first_only = kb(REPEATED, [ent("T1", "Chemical", "aspirin", 0), ent("T3", "Chemical", "warfarin", 21)])
    s = _ner_scores(first_only, ["Chemical: aspirin; warfarin"], types=["Chemical"])
    assert s["string-set"]["f1"] == 1.0
    assert _prf(s["mention"]) == (2, 1, 0) and s["mention"]["precision"] == pytest.approx(2 / 3)


def test_mention_overlapping_and_nested() -> None:
    rec = kb(
        "lung cancer and cancer", [ent("T1", "Disease", "lung cancer", 0), ent("T2", "Disease", "cancer", 16)]
    )
    s = _ner_scores(rec, ["Disease: cancer; lung cancer", "Disease: cancer"], types=["Disease"])
    # pred 1: (0,11) and (16,22) TP 2. pred 2: cancer at (5,11) FP and (16,22) TP; (0,11) FN
    assert _prf(s["mention"]) == (3, 1, 1)
    # string-set: pred 1 TP 2; pred 2 TP 1 (cancer) FN 1 (lung cancer)
    assert _prf(s["string-set"]) == (3, 0, 1)
    # nested gold (CMeEE-style: a body part inside a symptom) cannot both be placed from strings:
    nested = kb("left knee pain", [ent("T1", "sym", "left knee pain", 0), ent("T2", "bod", "knee", 5)])
    s = _ner_scores(nested, ["sym: left knee pain\nbod: knee"], types=["sym", "bod"])
    assert _prf(s["string-set"]) == (2, 0, 0)
    assert _prf(s["mention"]) == (1, 0, 1)  # "knee" is absorbed by the longer span


def test_mention_types_whitespace_and_strings_not_in_text() -> None:
    rec = kb("Acute renal\n failure after cisplatin.", [ent("T1", "Disease", "Acute renal\n failure", 0),
                                                        ent("T2", "Chemical", "cisplatin", 27)])  # fmt: skip
    # whitespace-normalised match (TP), cisplatin with the wrong type (FP + FN), a string not in the text (FP)
    s = _ner_scores(rec, ["Disease: Acute renal failure; cisplatin; nephritis"])
    assert _prf(s["mention"]) == (1, 2, 1) and s["mention"]["not_in_text"] == 1
    assert s["mention"]["per_type"]["Disease"]["fp"] == 2


def test_missing_and_unparseable_predictions() -> None:
    rec = kb(REPEATED, [ent("T1", "Chemical", "aspirin", 0), ent("T2", "Chemical", "aspirin", 12),
                        ent("T3", "Chemical", "warfarin", 21)])  # fmt: skip
    # None = missing (empty, unparseable); the second has one bad line and one good one (partial parse)
    s = _ner_scores(rec, [None, "I think:\nnot sure\nChemical: warfarin"], types=["Chemical"])
    # missing: FN 3. partial: warfarin TP 1, aspirin x2 FN -> TP 1, FP 0, FN 5
    assert _prf(s["mention"]) == (1, 0, 5)
    # "I think:" parses as a type "I think" with no mentions (dropped); string-set TP 1, FN 3
    assert _prf(s["string-set"]) == (1, 0, 3)


def test_alternatives_bc2gm_style() -> None:
    text = "the IL-2 receptor gene is expressed"
    gene = ent("G1", "Gene", "IL-2 receptor", 4)
    gene["attributes"] = {"alternatives": json.dumps([[4, 22], [4, 8]])}  # "IL-2 receptor gene", "IL-2"
    rec = kb(text, [gene])
    preds = [
        "Gene: IL-2 receptor gene",
        "Gene: IL-2",
        "Gene: IL-2 receptor; IL-2 receptor gene",
        "Gene: receptor",
    ]
    s = _ner_scores(rec, preds, types=["Gene"])
    # alternatives: 1 TP, 2 TP (alt), 3 TP (the longer string absorbs the shorter; one-to-one), 4 FP + FN
    assert _prf(s["alternatives"]) == (3, 1, 1)
    # mention (main boundary only): every prediction is placed off (4,17): FP + FN each
    assert _prf(s["mention"]) == (0, 4, 4)
    assert "alternatives" not in _ner_scores(kb(text, [ent("G1", "Gene", "IL-2 receptor", 4)]),
                                             ["Gene: IL-2"], types=["Gene"])  # fmt: skip


def test_alternatives_nested_gene_keeps_its_own_span() -> None:
    """BC2GM nests genes (``Serum gamma glutamyltransferase`` and ``gamma glutamyltransferase``); the
    inner one's exact span is also an alternative of the outer one."""
    text = "Serum gamma glutamyltransferase and gamma GT levels"
    outer = ent("G1", "GENE", "Serum gamma glutamyltransferase", 0)
    outer["attributes"] = {"alternatives": json.dumps([[6, 31], [36, 44]])}  # inner span; "gamma GT"
    inner = ent("G2", "GENE", "gamma glutamyltransferase", 6)
    s = _ner_scores(kb(text, [outer, inner]), ["GENE: gamma glutamyltransferase; gamma GT"], types=["GENE"])
    # placed: (6,31) and (36,44). Main boundaries first: G2 takes (6,31); G1 then matches its other
    # alternative (36,44) -> TP 2. Matching G1 first would have spent (6,31) on it and lost G2.
    assert _prf(s["alternatives"]) == (2, 0, 0)
    assert _prf(s["mention"]) == (1, 1, 1)


def _cid_record(relations, entities):
    return kb(CID_TEXT, entities, relations)


CID_TEXT = (
    "Cocaine hydrochloride caused a heart attack; cocaine and myocardial infarction; "
    "ovarian and breast cancer."
)
CID_ENTS = [
    ent("T1", "Chemical", "Cocaine hydrochloride", 0, ["D003042"]),
    ent("T2", "Disease", "heart attack", 31, ["D009203"]),
    ent("T3", "Chemical", "cocaine", 45, ["D003042"]),
    ent("T4", "Disease", "myocardial infarction", 57, ["D009203"]),
    ent("T5", "Disease", "ovarian and breast cancer", 80, ["D010051", "D001943"]),  # composite
]
CID_RELS = [
    {"id": "R1", "type": "CID", "head": "D003042", "tail": "D009203", "level": "concept"},
    {"id": "R2", "type": "CID", "head": "D003042", "tail": "D010051", "level": "concept"},
    {"id": "R3", "type": "CID", "head": "D003042", "tail": "D001943", "level": "concept"},
]


def _re_scores(record, predictions: list[str], **opts) -> dict:
    [inst] = re_.render(record, "en", random.Random(0), relation_types=["CID"])
    ref = reference("re", record, relation_types=["CID"], **opts)
    golds = [re_.gold(record, relation_types=["CID"])] * len(predictions)
    preds = [re_.parse(p, "en") for p in predictions]
    base = re_.score(golds, preds, [inst.input_text] * len(predictions))
    return score_all("re", base, golds, preds, [inst.input_text] * len(predictions), [ref] * len(predictions))


def test_concept_synonyms_and_composite_mentions() -> None:
    for e in CID_ENTS:
        assert CID_TEXT[e["spans"][0][0] : e["spans"][0][1]] == e["text"]
    rec = _cid_record(CID_RELS, CID_ENTS)
    # gold target (first mention of each concept): [Cocaine hydrochloride, heart attack] and the
    # composite tail twice -> one string triple for R2 and R3 (they collapse)
    assert re_.gold(rec, relation_types=["CID"]) == {
        "CID": [
            ("Cocaine hydrochloride", "heart attack"),
            ("Cocaine hydrochloride", "ovarian and breast cancer"),
        ]
    }
    synonyms = "CID: [cocaine, myocardial infarction]; [cocaine, ovarian and breast cancer]"
    s = _re_scores(rec, [synonyms])
    # concept: (D003042, D009203), (D003042, D010051), (D003042, D001943): all three gold pairs
    assert _prf(s["concept"]) == (3, 0, 0)
    # string-set: neither string triple is a gold one (other synonyms): TP 0, FP 2, FN 2
    assert _prf(s["string-set"]) == (0, 2, 2)
    assert "mention" not in s  # concept-level gold: no mention-level definition


def test_concept_unmapped_arguments_and_direction() -> None:
    rec = _cid_record(CID_RELS[:1], CID_ENTS)
    s = _re_scores(rec, ["CID: [aspirin, heart attack]; [heart attack, cocaine]"])
    # [aspirin, ...]: aspirin is no gold mention -> 1 FP (unmapped); [heart attack, cocaine] is the gold
    # pair reversed: CID is directed -> (D009203, D003042) FP; gold FN
    assert _prf(s["concept"]) == (0, 2, 1) and s["concept"]["unmapped_triples"] == 1
    s = _re_scores(rec, ["CID: [heart attack, cocaine]"], undirected_relations=["CID"])
    assert _prf(s["concept"]) == (1, 0, 0)


def test_mention_level_relations_ddi_style() -> None:
    text = "aspirin with warfarin; aspirin again"
    ents = [
        ent("T1", "DRUG", "aspirin", 0),
        ent("T2", "DRUG", "warfarin", 13),
        ent("T3", "DRUG", "aspirin", 23),
    ]
    rels = [{"id": "R1", "type": "effect", "head": "T1", "tail": "T2"}]
    rec = kb(text, ents, rels)
    [inst] = re_.render(rec, "en", random.Random(0), relation_types=["effect"])
    ref = reference("re", rec, relation_types=["effect"], undirected_relations=["effect"])
    pred = re_.parse("effect: [warfarin, aspirin]", "en")
    gold = re_.gold(rec, relation_types=["effect"])
    s = score_all("re", re_.score([gold], [pred], [text]), [gold], [pred], [text], [ref])
    assert "concept" not in s
    # undirected; aspirin grounds to T1 and T3: {T1,T2} TP, {T3,T2} FP
    assert _prf(s["mention"]) == (1, 1, 0)
    assert _prf(s["string-set"]) == (0, 1, 1)  # directed strings: reversed pair misses
    assert s["undirected"]["f1"] == 1.0


def _tc_record(label: str, i: int) -> TextRecord:
    return TextRecord(id=f"q{i}", dataset="toy", split="dev", lang="zh", source=SRC, text=f"问题{i}",
                      labels=[label], label_set=["a", "b", "c"])  # fmt: skip


def test_accuracy_single_label_with_missing_and_unparseable() -> None:
    recs = [_tc_record(g, i) for i, g in enumerate("abca")]
    golds = [tc.gold(r) for r in recs]
    refs = [reference("tc", r) for r in recs]
    assert refs[0] == {"label_set": ["a", "b", "c"]}
    texts = ["上述文本被分类为：a", "上述文本被分类为：b; a", "", "this is\nnot an answer"]
    preds = [tc.parse(t, "zh") for t in texts]
    base = tc.score(golds, preds, label_set=["a", "b", "c"])
    s = score_all("tc", base, golds, preds, None, refs)
    # strict: only q0 (q1 names two labels, q2 missing, q3 unparseable) -> 1/4
    assert s["accuracy"]["accuracy"] == pytest.approx(0.25)
    # PromptCBLUE: q1 -> first valid label b (right), q2 -> first label a (gold c: wrong),
    # q3 -> a (right) -> 3/4
    assert s["accuracy"]["accuracy_first_label"] == pytest.approx(0.75)
    # string-set (label micro-F1): TP a(q0), b(q1); FP a(q1); FN c(q2), a(q3) -> P 2/3, R 1/2, F1 4/7
    assert _prf(s["string-set"]) == (2, 1, 2) and s["string-set"]["f1"] == pytest.approx(4 / 7)
    multi = [["a", "b"], ["c"]]
    assert "accuracy" not in applicable("tc", multi, None, None)


def test_applicable_needs_the_gold_it_scores_against() -> None:
    assert applicable("ner", [{}], None, None) == ["string-set", "multiset", "relaxed"]
    assert applicable("ner", [{}], ["x"], [{"mentions": []}]) == [
        "string-set", "multiset", "relaxed", "grounded", "mention",
    ]  # fmt: skip
    assert applicable("re", [{}], None, [{"mentions": [], "relations": [{"level": "concept"}]}]) == [
        "string-set", "relaxed", "undirected", "concept",
    ]  # fmt: skip
    # a set without any gold relation: concept-level when its mentions carry ids, else mention-level
    with_ids = [{"mentions": [{"text": "x", "ids": ["D1"]}], "relations": []}]
    without = [{"mentions": [{"text": "x", "ids": []}], "relations": []}]
    assert "concept" in applicable("re", [{}], None, with_ids) and "mention" not in applicable(
        "re", [{}], None, with_ids
    )
    assert "mention" in applicable("re", [{}], None, without) and "concept" not in applicable(
        "re", [{}], None, without
    )
    assert applicable("mcqa", [["A"]], None, None) == ["accuracy"]
    assert applicable("qa", ["x"], None, None) == []


def test_chemprot_layout_mention_level_cpr_relations(tmp_path) -> None:
    """ChemProt's kit scores (document, CPR group, Arg1 mention, Arg2 mention): a string pair that names
    a chemical and a gene written twice stands for every mention pair, right and wrong ones alike."""
    from tests.formats.helpers import read_all

    title, abstract = "Aspirin inhibits COX-1.", "Aspirin also binds COX-1 and PTGS2."
    at = len(title) + 1
    files = {
        "chemprot_test_abstracts_gs.tsv": [f"11\t{title}\t{abstract}"],
        "chemprot_test_entities_gs.tsv": [
            "11\tT1\tCHEMICAL\t0\t7\tAspirin", "11\tT2\tGENE-Y\t17\t22\tCOX-1",
            f"11\tT3\tCHEMICAL\t{at}\t{at + 7}\tAspirin", f"11\tT4\tGENE-Y\t{at + 19}\t{at + 24}\tCOX-1",
            f"11\tT5\tGENE-N\t{at + 29}\t{at + 34}\tPTGS2",
        ],
        "chemprot_test_relations_gs.tsv": [
            "11\tCPR:4\tY \tINHIBITOR\tArg1:T1\tArg2:T2", "11\tCPR:4\tY \tINHIBITOR\tArg1:T3\tArg2:T4",
            "11\tCPR:9\tY \tSUBSTRATE\tArg1:T3\tArg2:T5",
        ],
    }  # fmt: skip
    paths = []
    for name, lines in files.items():
        paths.append(tmp_path / name)
        paths[-1].write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    (rec,), _ = read_all("biocreative_tsv", paths, {"layout": "chemprot"}, split="test")
    opts = {
        "relation_types": ["CPR:4", "CPR:9"],
        "relation_names": {"CPR:4": "inhibitor", "CPR:9": "substrate"},
    }
    [inst] = re_.render(rec, "en", random.Random(0), **opts)
    ref = reference("re", rec, **opts)
    gold = re_.gold(rec, **opts)
    # the two CPR:4 relations collapse into one string pair in the target
    assert gold == {"inhibitor": [("Aspirin", "COX-1")], "substrate": [("Aspirin", "PTGS2")]}
    preds = [re_.parse(inst.target, "en"), re_.parse("inhibitor: [Aspirin, COX-1]", "en")]
    s = score_all("re", re_.score([gold] * 2, preds), [gold] * 2, preds, None, [ref] * 2)
    # gold strings: [Aspirin, COX-1] -> (T1,T2) (T3,T4) TP, (T1,T4) (T3,T2) FP; [Aspirin, PTGS2] -> (T3,T5)
    # TP, (T1,T5) FP. Second prediction: TP 2, FP 2, FN 1 (the CPR:9 pair). Total TP 5, FP 5, FN 1
    assert _prf(s["mention"]) == (5, 5, 1)
    assert _prf(s["string-set"]) == (3, 0, 1)  # 2 + 1 string triples right, the substrate one missed once
