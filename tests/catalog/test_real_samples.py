"""Every dataset with a real sample in ../shared/samples is read THROUGH ITS CATALOG ENTRY (globs, split
lists, reader, options: what ``taiyi data prepare`` uses), laid out under the release's own file names,
and the counts are compared with counts made by hand from the sample files.

The expected numbers below were counted independently of the suite (grep/awk over the files, or a few
lines of ``json``/``csv``/``zipfile``), never with the suite's readers; the command or rule is noted per
case. A dataset whose release cannot be obtained or read here is listed in ``UNVERIFIED`` and its
entry must say ``verified: false`` with why; the others must say ``verified: true`` with the sample.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from taiyi_core.catalog import load_catalog
from tests.catalog.samples_layout import Tally, convert, lay_out, read_split
from tests.conftest import SHARED_SAMPLES

CATALOG = load_catalog()
MEQSUM = "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx"


@dataclass(frozen=True)
class Counts:
    records: int
    quarantined: int = 0
    mentions: int = 0
    relations: int = 0
    events: int = 0
    labels: dict[str, int] | None = None  # label -> records (text/pairs), when the dataset has labels


@dataclass(frozen=True)
class Case:
    dataset: str  # catalog name
    sample: str  # the sample path the entry's ``verified_with`` names
    layout: dict[str, str]  # release path under data/raw/<dataset>/ -> sample path
    splits: dict[str, Counts] = field(default_factory=dict)
    convert: bool = False  # run the entry's download.convert steps first (as `taiyi data fetch` does)


def _bionlp(
    dataset: str, folder: str, devel: str, dev: Counts, test: str | None = None, test_docs: int = 0
) -> Case:
    """BioNLP-ST: the tarball folders under their release names; test has no .a2 (held out).

    Counts: docs = ``ls devel/*.txt``; mentions = T lines of .a1/.a2 minus the T ids used as event
    triggers (``E`` lines' ``Type:T``); relations = R lines + (members - 1) per ``*`` Equiv line;
    events = E lines."""
    layout = {devel: f"{folder}/devel"}
    splits = {"dev": dev}
    if test:
        layout[test] = f"{folder}/test"
        splits["test"] = Counts(records=0, quarantined=test_docs)  # "annotation file ... missing"
    return Case(dataset, f"{folder}/devel", layout, splits)


def _ppi(corpus: str, folder: str, train: str, test: str | None, tr: Counts, te: Counts | None) -> Case:
    """PPI unified XML (CR line ends): ``tr '\\r' '\\n' < F | grep -c '<sentence '`` (records, one per
    sentence), ``'<entity '`` (mentions), ``'<interaction '`` (relations)."""
    layout = {f"csv_output/{corpus}-train.xml": f"{folder}/csv_output/{train}"}
    splits = {"train": tr}
    if test and te:
        layout[f"csv_output/{corpus}-test.xml"] = f"{folder}/csv_output/{test}"
        splits["test"] = te
    return Case(folder, f"{folder}/csv_output", layout, splits)


CASES: list[Case] = [
    # grep -c '|t|'; annotation lines = 6+ tab columns with numeric start; CID lines = 4 columns
    Case(
        "bc5cdr",
        "bc5cdr/CDR_sample.PubTator.txt",
        {"CDR_Data/CDR.Corpus.v010516/CDR_TestSet.PubTator.txt": "bc5cdr/CDR_sample.PubTator.txt"},
        {"test": Counts(50, mentions=925, relations=124)},
    ),
    Case(
        "biored",
        "biored/Test.first25.PubTator",
        {"BioRED/Test.PubTator": "biored/Test.first25.PubTator"},
        {"test": Counts(25, mentions=906, relations=416)},
    ),
    # CRLF file: the same rules after dropping \r; no relation lines
    Case(
        "tmvar_v1",
        "tmvar_v1/test.first57.txt",
        {"test.PubTator.txt": "tmvar_v1/test.first57.txt"},
        {"test": Counts(57, mentions=133)},
    ),
    _bionlp(
        "bionlp_shared_task_2009",
        "bionlp_shared_task_2009",
        "bionlp09_shared_task_development_data_rev1",
        Counts(24, mentions=315, relations=22, events=219),
        "bionlp09_shared_task_test_data_without_gold_annotation",
        3,
    ),
    _bionlp(
        "bionlp_st_2011_epi",
        "bionlp_st_2011_epi",
        "BioNLP-ST_2011_Epi_and_PTM_development_data_rev1",
        Counts(30, mentions=232, relations=15, events=51),
    ),
    _bionlp(
        "bionlp_st_2011_ge",
        "bionlp_st_2011_ge",
        "BioNLP-ST_2011_genia_devel_data_rev1",
        Counts(32, mentions=499, relations=6, events=335),
        "BioNLP-ST_2011_genia_test_data",
        5,
    ),
    _bionlp(
        "bionlp_st_2011_id",
        "bionlp_st_2011_id",
        "BioNLP-ST_2011_Infectious_Diseases_development_data_rev1",
        Counts(11, mentions=478, relations=1, events=159),
        "BioNLP-ST_2011_Infectious_Diseases_test_data",
        2,
    ),
    # REL: .a1 + .rel (no .a2)
    _bionlp(
        "bionlp_st_2011_rel",
        "bionlp_st_2011_rel",
        "BioNLP-ST_2011_Entity_Relations_development_data",
        Counts(26, mentions=570, relations=71),
        "BioNLP-ST_2011_Entity_Relations_test_data",
        3,
    ),
    _bionlp(
        "bionlp_st_2013_cg",
        "bionlp_st_2013_cg",
        "BioNLP-ST_2013_CG_development_data",
        Counts(18, mentions=680, relations=37, events=502),
        "BioNLP-ST_2013_CG_test_data",
        5,
    ),
    _bionlp(
        "bionlp_st_2013_ge",
        "bionlp_st_2013_ge",
        "BioNLP-ST-2013_GE_devel_data_rev3",
        Counts(8, mentions=163, relations=12, events=140),
        "BioNLP-ST-2013_GE_test_data_rev1",
        1,
    ),
    # GRO: CRLF .txt, offsets count the \r
    _bionlp(
        "bionlp_st_2013_gro",
        "bionlp_st_2013_gro",
        "BioNLP-ST_2013_GRO_development_data",
        Counts(13, mentions=560, relations=144, events=250),
        "BioNLP-ST_2013_GRO_test-1.0-a1",
        3,
    ),
    _bionlp(
        "bionlp_st_2013_pc",
        "bionlp_st_2013_pc",
        "BioNLP-ST_2013_PC_development_data",
        Counts(24, mentions=734, relations=42, events=443),
        "BioNLP-ST_2013_PC_test_data",
        5,
    ),
    _ppi(
        "BioInfer",
        "bioinfer",
        "BioInfer-train.first35.xml",
        "BioInfer-test.first55.xml",
        Counts(64, mentions=238, relations=110),
        Counts(73, mentions=272, relations=158),
    ),
    _ppi(
        "HPRD50",
        "hprd50",
        "HPRD50-train.xml",
        "HPRD50-test.xml",
        Counts(111, mentions=320, relations=137),
        Counts(34, mentions=85, relations=26),
    ),
    _ppi(
        "IEPA",
        "iepa",
        "IEPA-train.first55.xml",
        "IEPA-test.xml",
        Counts(134, mentions=307, relations=98),
        Counts(95, mentions=210, relations=56),
    ),
    # LLL: Taiyi's 77 = train 65 + test 12 sentences, both read as "train"
    Case(
        "lll",
        "lll/csv_output",
        {
            "csv_output/LLL-train.xml": "lll/csv_output/LLL-train.xml",
            "csv_output/LLL-test.xml": "lll/csv_output/LLL-test.xml",
        },
        {"train": Counts(65 + 12, mentions=198 + 41, relations=134 + 30)},
    ),
    # the catalogued url is SETH's zipball: corpus/*.txt and annotations/*.ann apart; T / R lines,
    # readme.txt is not a document
    Case(
        "verspoor_2013",
        "verspoor_2013",
        {
            "resources/Verspoor2013/corpus": "verspoor_2013/corpus",
            "resources/Verspoor2013/annotations": "verspoor_2013/annotations",
            "resources/Verspoor2013/readme.txt": "verspoor_2013/readme.txt",
        },
        {"train": Counts(17, mentions=1167, relations=750)},
    ),
    # grep -c '<sentence ' / '<entity ' / '<pair [^>]*ddi="true"' over the 22 documents
    Case(
        "ddi_corpus",
        "ddi",
        {
            "Test/Test for DDI Extraction task/MedLine": "ddi/MedLine",
            "Test/Test for DDI Extraction task/DrugBank": "ddi/DrugBank",
        },
        {"test": Counts(267, mentions=560, relations=135)},
    ),
    # cut -f2 | sort | uniq -c (no header in the train fold)
    Case(
        "gad",
        "gad/GAD_1_train.first100.tsv",
        {"GAD/1/train.tsv": "gad/GAD_1_train.first100.tsv"},
        {"train": Counts(100, labels={"1": 58, "0": 42})},
    ),
    # json: len(records), sum(len(entities))
    Case(
        "cmeee_v2",
        "cmeee_v2/CMeEE-V2_dev.first200.json",
        {"CMeEE-V2_dev.json": "cmeee_v2/CMeEE-V2_dev.first200.json"},
        {"dev": Counts(200, mentions=866)},
    ),
    # json lines: 200 lines; mentions = distinct (subject, type) and (object @value, type) per record
    Case(
        "cmeie_v2",
        "cmeie_v2/CMeIE-V2_dev.first200.jsonl",
        {
            "CMeIE-V2_dev.jsonl": "cmeie_v2/CMeIE-V2_dev.first200.jsonl",
            "53_schemas.json": "cmeie_v2/53_schemas.json",
        },
        {"dev": Counts(200, mentions=1059, relations=855)},
    ),
    # events = sum(len(event)); mentions = distinct non-empty (value, role) of character/anatomy_list
    Case(
        "chip_cdee",
        "chip_cdee/CHIP-CDEE_dev.first150.json",
        {"CHIP-CDEE_dev.json": "chip_cdee/CHIP-CDEE_dev.first150.json"},
        {"dev": Counts(150, mentions=794, events=844)},
    ),
    Case(
        "chip_cdn",
        "chip_cdn/CHIP-CDN_dev.first300.json",
        {"CHIP-CDN_dev.json": "chip_cdn/CHIP-CDN_dev.first300.json"},
        {"dev": Counts(300)},
    ),  # labels: 520 '##'-separated terms, 389 distinct (checked below)
    Case(
        "chip_ctc",
        "chip_ctc/CHIP-CTC_dev.first300.json",
        {
            "CHIP-CTC_dev.json": "chip_ctc/CHIP-CTC_dev.first300.json",
            "category.xlsx": "chip_ctc/category.xlsx",
        },
        {
            "dev": Counts(
                300,
                labels={
                    "Disease": 66,
                    "Consent": 21,
                    "Oral related": 2,
                    "Diagnostic": 13,
                    "Addictive Behavior": 5,
                    "Symptom": 2,
                    "Pregnancy-related Activity": 13,
                    "Multiple": 54,
                    "Therapy or Surgery": 27,
                    "Pharmaceutical Substance or Drug": 12,
                    "Life Expectancy": 6,
                    "Laboratory Examinations": 15,
                    "Blood Donation": 2,
                    "Age": 12,
                    "Special Patient Characteristic": 4,
                    "Device": 2,
                    "Address": 1,
                    "Risk Assessment": 10,
                    "Organ or Tissue Status": 1,
                    "Allergy Intolerance": 8,
                    "Enrollment in other studies": 5,
                    "Researcher Decision": 4,
                    "Compliance with Protocol": 1,
                    "Disabilities": 1,
                    "Sign": 2,
                    "Capacity": 4,
                    "Neoplasm Status": 1,
                    "Gender": 1,
                    "Diet": 1,
                    "Encounter": 1,
                    "Education": 1,
                    "Sexual related": 1,
                    "Healthy": 1,
                },
            )
        },
    ),
    Case(
        "chip_sts",
        "chip_sts/CHIP-STS_dev.first300.json",
        {"CHIP-STS_dev.json": "chip_sts/CHIP-STS_dev.first300.json"},
        {"dev": Counts(300, labels={"1": 153, "0": 147})},
    ),
    Case(
        "kuake_qic",
        "kuake_qic/KUAKE-QIC_dev.first300.json",
        {"KUAKE-QIC_dev.json": "kuake_qic/KUAKE-QIC_dev.first300.json"},
        {
            "dev": Counts(
                300,
                labels={
                    "治疗方案": 103,
                    "疾病表述": 19,
                    "其他": 75,
                    "指标解读": 6,
                    "病情诊断": 38,
                    "就医建议": 21,
                    "注意事项": 21,
                    "病因分析": 4,
                    "功效作用": 3,
                    "后果表述": 5,
                    "医疗费用": 5,
                },
            )
        },
    ),
    Case(
        "kuake_qqr",
        "kuake_qqr/KUAKE-QQR_dev.first300.json",
        {"KUAKE-QQR_dev.json": "kuake_qqr/KUAKE-QQR_dev.first300.json"},
        {"dev": Counts(300, labels={"0": 203, "2": 60, "1": 37})},
    ),
    Case(
        "kuake_qtr",
        "kuake_qtr/KUAKE-QTR_dev.first300.json",
        {"KUAKE-QTR_dev.json": "kuake_qtr/KUAKE-QTR_dev.first300.json"},
        {"dev": Counts(300, labels={"1": 59, "2": 77, "3": 117, "0": 47})},
    ),
    # non-blank lines / records of the JSON array
    Case(
        "med_qa",
        "medqa/US_test.first100.jsonl",
        {"US/test.jsonl": "medqa/US_test.first100.jsonl"},
        {"test": Counts(100)},
    ),
    Case(
        "medqa_zh",
        "medqa_mcmle/Mainland_test.first300.jsonl",
        {"Mainland/test.jsonl": "medqa_mcmle/Mainland_test.first300.jsonl"},
        {"test": Counts(300)},
    ),
    Case(
        "gsm8k",
        "gsm8k/train.first100.jsonl",
        {"train.jsonl": "gsm8k/train.first100.jsonl"},
        {"train": Counts(100)},
    ),
    Case(
        "bentsao_llamadata",
        "bentsao_llamadata/llama_data.first200.json",
        {"llama_data.json": "bentsao_llamadata/llama_data.first200.json"},
        {"train": Counts(200)},
    ),
    Case(
        "bentsao_livercancer",
        "bentsao_livercancer/liver_cancer.first101.json",
        {"liver_cancer.json": "bentsao_livercancer/liver_cancer.first101.json"},
        {"train": Counts(101)},
    ),
    # csv.reader(encoding="gb18030") rows minus the header
    Case(
        "chinese_medical_dialogue_data",
        "chinese_medical_dialogue_data/样例_内科5000-6000.first200.csv",
        {"样例_内科5000-6000.csv": "chinese_medical_dialogue_data/样例_内科5000-6000.first200.csv"},
        {"train": Counts(200)},
    ),
    # wc -l + 1 (no final newline)
    Case(
        "bio_sim_verb",
        "bio_sim_verb/Bio-SimVerb.txt",
        {"Bio-SimVerb.txt": "bio_sim_verb/Bio-SimVerb.txt"},
        {"train": Counts(1000)},
    ),
    Case(
        "bio_simlex",
        "bio_simlex/Bio-SimLex.txt",
        {"Bio-SimLex.txt": "bio_simlex/Bio-SimLex.txt"},
        {"train": Counts(988)},
    ),
    Case(
        "mqp",
        "mqp/mqp.first400.csv",
        {"mqp.csv": "mqp/mqp.first400.csv"},
        {"train": Counts(400, labels={"1": 200, "0": 200})},
    ),
    # lines minus header: RelA 111 + RelB 400 (Taiyi's 3,741 = 111 + 3,630: both files are "train")
    Case(
        "ehr_rel",
        "ehr_rel",
        {"EHR-RelA.tsv": "ehr_rel/EHR-RelA.tsv", "EHR-RelB.tsv": "ehr_rel/EHR-RelB.first400.tsv"},
        {"train": Counts(111 + 400)},
    ),
    # xlsx: grep -c '<row ' in xl/worksheets/sheet1.xml minus the header row
    Case(
        "medication_qa",
        "medication_qa/MedInfo2019-QA-Medications.xlsx",
        {"MedInfo2019-QA-Medications.xlsx": "medication_qa/MedInfo2019-QA-Medications.xlsx"},
        {"train": Counts(690)},
    ),
    Case(
        "meqsum",
        "meqsum/MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx",
        {MEQSUM: f"meqsum/{MEQSUM}"},
        {"train": Counts(1000)},
    ),
]

# SETH: texts only in corpus.txt (PMID<TAB>title+abstract), .ann in annotations/; the entry's
# split_line_documents conversion writes annotations/<PMID>.txt. Counts: wc -l corpus = 80 documents;
# T / R lines over the 80 .ann (R lines end with a TAB)
CASES.append(
    Case(
        "seth_corpus",
        "seth_corpus",
        {
            "resources/SETH-corpus/corpus.txt": "seth_corpus/corpus.first80.txt",
            "resources/SETH-corpus/annotations": "seth_corpus/annotations",
        },
        {"train": Counts(80, mentions=295, relations=51)},
        convert=True,
    )
)

# OSIRIS inline XML: grep -c '<Article>' = 46; grep -o '<gene ' / '<variant ' = 350 / 235 mentions
CASES.append(
    Case(
        "osiris",
        "osiris/corpus.first46.xml",
        {"corpus.xml": "osiris/corpus.first46.xml"},
        {"train": Counts(46, mentions=350 + 235)},
    )
)

# DiaKG: json: 60 paragraphs (one record each), 424 entities and 173 relations over the 83 sentences
CASES.append(
    Case(
        "diakg",
        "diakg/data/sample.json",
        {"data/sample.json": "diakg/data/sample.json"},
        {"train": Counts(60, mentions=424, relations=173)},
    )
)

# LiveQA: the three TREC XMLs under their release names, the entry's liveqa_xml conversion; records =
# tr '\r' '\n' < F | grep -c '<NLM-QUESTION ' : train 16 + 38, test 14
LIVEQA = "TREC-2017-LiveQA-Medical"
LIVEQA_TEST = f"{LIVEQA}-Test-Questions-w-summaries"
CASES.append(
    Case(
        "liveqa",
        "liveqa",
        {
            f"{LIVEQA}-Train-1.xml": f"liveqa/TrainingDatasets/{LIVEQA}-Train-1.first16.xml",
            f"{LIVEQA}-Train-2.xml": f"liveqa/TrainingDatasets/{LIVEQA}-Train-2.first38.xml",
            f"{LIVEQA_TEST}.xml": f"liveqa/TestDataset/{LIVEQA_TEST}.first14.xml",
        },
        {"train": Counts(16 + 38), "test": Counts(14)},
        convert=True,
    )
)

# BC2GM (benchmark_sets.yaml): the packages unpack to train/ and test/; records = lines of *.in,
# mentions = lines of GENE.eval (the sample keeps the eval lines of the cut sentences)
BC2GM_LAYOUT = {
    f"{split}/{name}": f"bc2gm/{split}/{cut}"
    for split, n in (("train", 200), ("test", 100))
    for name, cut in (
        (f"{split}.in", f"{split}.first{n}.in"),
        ("GENE.eval", f"GENE.first{n}sent.eval"),
        ("ALTGENE.eval", f"ALTGENE.first{n}sent.eval"),
    )
}
CASES.append(
    Case(
        "bc2gm", "bc2gm", BC2GM_LAYOUT, {"train": Counts(200, mentions=93), "test": Counts(100, mentions=126)}
    )
)

# dataset -> the sample folder it was checked against; these entries must say verified: false + why
UNVERIFIED: dict[str, str] = {
    "cellfinder": "cellfinder",  # one folder, no split: prepare step
    "hallmarks_of_cancer": "hoc",  # the release ships no split lists
    "bc7_litcovid": "bc7_litcovid",  # label file without the abstracts
    "pubmed_qa": "pubmedqa",  # ori_pqal.json + test ids; the fold files are made by the repo's script
    "evidence_inference": "evidence_inference",  # prepared train/dev/test.csv wanted; merged CSV absent
    "mediqa_qa": "mediqa_qa",
    "mediqa_rqe": "mediqa_rqe",
    "pico_extraction": "pico_extraction",  # annotation files cut to 15 different sentences each
    "chemdner": "chemdner",  # annotations without the abstracts
    "cmedqa2": "cmedqa",  # ids only
    "imcs_v2_ner": "imcs_v2",
    "imcs_v2_sr": "imcs_v2",
    "imcs_v2_dac": "imcs_v2",
    "imcs_v2_mrg": "imcs_v2",
    "imcs_v2_sr_tpss": "imcs_v2",  # PromptCBLUE rows only
}


# entries whose release has no sample here at all (verified: false, why says what was looked for)
NO_SAMPLE = ("chemprot",)


def _sample_folders() -> set[str]:
    return {p.name for p in SHARED_SAMPLES.iterdir() if p.is_dir()} if SHARED_SAMPLES.is_dir() else set()


def test_every_sample_folder_has_a_case_or_a_stated_reason(shared_samples):
    covered = {c.sample.split("/")[0] for c in CASES} | set(UNVERIFIED.values())
    missing = _sample_folders() - covered
    assert not missing, (
        f"sample folders without a real-sample case or a verified:false entry: {sorted(missing)}"
    )


def test_verified_flags_match_the_cases():
    problems = []
    for case in CASES:
        ds = CATALOG.get(case.dataset)
        if ds.verified is not True or ds.verified_with != case.sample:
            problems.append(
                f"{case.dataset}: expected verified: true, verified_with: {case.sample} "
                f"(has {ds.verified}, {ds.verified_with})"
            )
    for name in [*UNVERIFIED, *NO_SAMPLE]:
        ds = CATALOG.get(name)
        if ds.verified is not False or not ds.why:
            problems.append(f"{name}: expected verified: false with why (has {ds.verified})")
    checked = {c.dataset for c in CASES} | set(UNVERIFIED) | set(NO_SAMPLE)
    stray = [ds.name for ds in CATALOG if ds.verified is not None and ds.name not in checked]
    problems += [f"{n}: has a verified flag but no case here" for n in stray]
    assert not problems, "\n".join(problems)


def _read(case: Case, tmp_path: Path, samples: Path) -> dict[str, Tally]:
    folder = lay_out(tmp_path, case.dataset, case.layout, samples)
    if case.convert:
        assert convert(CATALOG.get(case.dataset), folder), f"{case.dataset}: the conversion wrote nothing"
    return {split: read_split(CATALOG.get(case.dataset), tmp_path, split) for split in case.splits}

# BIOSSES: the release RAR as released, the entry's biosses_word_tables conversion (RAR -> two .docx
# tables -> one TSV per split); records = BLUE's split as BigBIO lists it, 64/16/20 of the 100 pairs
CASES.append(
    Case(
        "biosses",
        "biosses/BIOSSES-Dataset.rar",
        {"BIOSSES-Dataset.rar": "biosses/BIOSSES-Dataset.rar"},
        {"train": Counts(64), "dev": Counts(16), "test": Counts(20)},
        convert=True,
    )
)


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
def test_sample_reads_through_its_entry_as_counted(case: Case, tmp_path, shared_samples):
    for split, tally in _read(case, tmp_path, shared_samples).items():
        want = case.splits[split]
        got = Counts(
            tally.records,
            tally.quarantined,
            tally.mentions,
            tally.relations,
            tally.events,
            dict(tally.labels) if want.labels is not None else None,
        )
        assert got == want, (
            f"{case.dataset}/{split}: read {got}, counted {want}; quarantined: {tally.reasons[:3]}"
        )
        assert tally.read == tally.records + tally.quarantined


# ------------------------------------------------------------------ details on real samples


def _one(dataset: str, tmp_path: Path, samples: Path, split: str) -> Tally:
    case = next(c for c in CASES if c.dataset == dataset)
    lay_out(tmp_path, dataset, case.layout, samples)
    return read_split(CATALOG.get(dataset), tmp_path, split)


def test_chip_cdn_terms_are_split_on_hashes(tmp_path, shared_samples):
    tally = _one("chip_cdn", tmp_path, shared_samples, "dev")
    assert sum(tally.labels.values()) == 520 and len(tally.labels) == 389  # '##' split, counted with json


def test_biored_ids_get_the_database_of_their_type_and_lists_are_split(tmp_path, shared_samples):
    tally = _one("biored", tmp_path, shared_samples, "test")
    per_type = Counter()
    for rec in tally.items:
        for ent in rec.entities:
            for n in ent.normalized:
                per_type[(ent.type, n.db)] += 1
    # awk: per annotation line, the distinct comma-separated ids of column 6; variants: rs... = dbSNP
    assert per_type == {
        ("GeneOrGeneProduct", "NCBIGene"): 346,
        ("ChemicalEntity", "MESH"): 232,
        ("DiseaseOrPhenotypicFeature", "MESH"): 198,
        ("OrganismTaxon", "NCBITaxon"): 85,
        ("SequenceVariant", "dbSNP"): 58,
        ("SequenceVariant", "tmVar"): 89 - 58,
        ("CellLine", "Cellosaurus"): 17,
    }
    ids = {(n.db, n.id) for rec in tally.items for e in rec.entities for n in e.normalized}
    assert ("tmVar", "p|SUB|V|1763|M") in ids and ("MESH", "p") not in ids and ("MESH", "SUB") not in ids
    assert {("NCBIGene", "20208"), ("NCBIGene", "20210"), ("NCBIGene", "6288")} <= ids  # "20208,20210,6288"


def test_biored_relation_arguments_resolve_like_mention_ids(tmp_path, shared_samples):
    tally = _one("biored", tmp_path, shared_samples, "test")
    unresolved = []
    for rec in tally.items:
        carried = {(n.db, n.id) for e in rec.entities for n in e.normalized}
        for rel in rec.relations:
            for ref, db in ((rel.head, rel.attributes["head_db"]), (rel.tail, rel.attributes["tail_db"])):
                if (db, ref) not in carried:
                    unresolved.append((rec.id, rel.id, db, ref))
    assert unresolved == []
    rel = next(
        r for rec in tally.items if rec.id == "15485686" for r in rec.relations if r.tail == "p|SUB|V|1763|M"
    )
    assert (rel.head, rel.attributes["head_db"], rel.attributes["tail_db"]) == ("D001919", "MESH", "tmVar")


def test_bc5cdr_composite_ids_split_and_cid_arguments_are_mesh(tmp_path, shared_samples):
    tally = _one("bc5cdr", tmp_path, shared_samples, "test")
    dbs = Counter(n.db for rec in tally.items for e in rec.entities for n in e.normalized)
    # awk: distinct '|'-separated ids of column 6 per mention (502 + 427), minus the two '-1'
    assert dbs == {"MESH": 501 + 426}
    pairs = {(r.attributes["head_db"], r.attributes["tail_db"]) for rec in tally.items for r in rec.relations}
    assert pairs == {("MESH", "MESH")}


def test_tmvar_variants_are_one_id_each(tmp_path, shared_samples):
    tally = _one("tmvar_v1", tmp_path, shared_samples, "test")
    per_type = Counter((e.type, n.db) for rec in tally.items for e in rec.entities for n in e.normalized)
    # awk -F'\t' 'NF>=6 {print $5}' | sort | uniq -c: 56 DNAMutation, 45 ProteinMutation, 32 SNP (rs ids)
    assert per_type == {("DNAMutation", "tmVar"): 56, ("ProteinMutation", "tmVar"): 45, ("SNP", "dbSNP"): 32}


def test_bc2gm_every_altgene_line_is_kept(tmp_path, shared_samples):
    """wc -l ALTGENE.*.eval: 48 (train), 87 (test); each lands on the GENE mention(s) it overlaps or
    in the record's unattached list, none is dropped."""
    for split, lines in (("train", 48), ("test", 87)):
        tally = _one("bc2gm", tmp_path / split, shared_samples, split)
        kept = set()
        for rec in tally.items:
            for ent in rec.entities:
                kept |= {(rec.id, tuple(s)) for s in json.loads(ent.attributes.get("alternatives", "[]"))}
            kept |= {(rec.id, tuple(s)) for s in json.loads(rec.meta.get("unattached_alternatives", "[]"))}
        assert len(kept) == lines, split


def test_chemdner_annotations_reslice_on_real_texts(tmp_path, shared_samples):
    """CHEMDNER's annotations TSV (release bytes: 9 training PMIDs, 91 lines) read through the entry.

    The release's training.abstracts.txt is not here; its lines are rebuilt in tmp from the brat copy of
    the same 9 documents (title = the first line, abstract = the rest), so the T/A offsets of the real
    annotation file are checked against real texts. Counts: ``wc -l`` = 91, ``cut -f1 | sort -u`` = 9."""
    folder = tmp_path / "chemdner"
    folder.mkdir()
    rows = []
    for txt in sorted((shared_samples / "chemdner" / "brat_from_hiroto0227").glob("*.txt")):
        title, _, abstract = txt.read_text(encoding="utf-8").rstrip("\n").partition("\n")
        rows.append(f"{txt.stem}\t{title}\t{abstract}\n")
    (folder / "training.abstracts.txt").write_text("".join(rows), encoding="utf-8")
    (folder / "training.annotations.txt").symlink_to(
        shared_samples / "chemdner" / "training.annotations.hiroto9pmids.txt"
    )
    tally = read_split(CATALOG.get("chemdner"), tmp_path, "train")
    assert (tally.records, tally.quarantined, tally.mentions) == (9, 0, 91), tally.reasons[:3]
    types = Counter(e.type for rec in tally.items for e in rec.entities)
    assert types == {"TRIVIAL": 41, "SYSTEMATIC": 17, "FAMILY": 14, "ABBREVIATION": 12, "FORMULA": 7}


def test_show_prints_whether_an_entry_was_verified():
    from typer.testing import CliRunner

    from taiyi_core.catalog.commands import app

    runner = CliRunner()
    shown = runner.invoke(app, ["show", "cmeie_v2"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    assert "verified on a real release" in shown.output
    assert "yes, with shared/samples/cmeie_v2/CMeIE-V2_dev.first200.jsonl" in shown.output
    shown = runner.invoke(app, ["show", "cmedqa2"], env={"COLUMNS": "400"})
    assert "no: only the candidate id lists" in shown.output
    data = runner.invoke(app, ["show", "imcs_v2_ner", "--json"]).output
    assert '"verified": false' in data and "PromptCBLUE" in data


def test_ppi_type_attributes_that_are_not_types(tmp_path, shared_samples):
    """LLL's type attribute is a role (agent/target), HPRD50's an HPRD id list joined by '||'."""
    lll = _one("lll", tmp_path / "lll", shared_samples, "train")
    roles = Counter(e.attributes.get("role") for rec in lll.items for e in rec.entities)
    types = {e.type for rec in lll.items for e in rec.entities}
    # tr '\r' '\n' < LLL-*.xml | grep -o 'type="[a-z/]*"' | sort | uniq -c (entity lines only)
    assert types == {"gene"} and roles == {"agent": 108, "target": 122, "agent/target": 9}
    hprd = _one("hprd50", tmp_path / "hprd", shared_samples, "test")
    norms = [n for rec in hprd.items for e in rec.entities for n in e.normalized]
    assert norms and {n.db for n in norms} == {"HPRD"} and all(n.id.startswith("pm") for n in norms)


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
def test_raw_check_finds_the_laid_out_sample_well_formed(case: Case, tmp_path, shared_samples):
    """`taiyi catalog check` on the same layout: nothing malformed, the laid-out splits complete."""
    from taiyi_core.catalog.rawcheck import check_dataset

    folder = lay_out(tmp_path, case.dataset, case.layout, shared_samples)
    if case.convert:
        convert(CATALOG.get(case.dataset), folder)
    result = check_dataset(CATALOG.get(case.dataset), tmp_path)
    assert result.status != "malformed", result.problems[:3]
    gaps = {s.split: s.missing for s in result.splits if s.split in case.splits and s.missing}
    assert not gaps, gaps


def test_osiris_mentions_and_ids(tmp_path, shared_samples):
    """grep -o 'g_id="[^"]*"': 350, of which 5 "No" (not normalised); v_id: 124 "No", 111 dbSNP numbers;
    every mention's text equals its g_lex / v_lex attribute (checked with a regex over the file)."""
    tally = _one("osiris", tmp_path, shared_samples, "train")
    ents = [e for rec in tally.items for e in rec.entities]
    assert Counter(e.type for e in ents) == {"Gene": 350, "Variant": 235}
    assert Counter((e.type, n.db) for e in ents for n in e.normalized) == {
        ("Gene", "NCBIGene"): 350 - 5,
        ("Variant", "dbSNP"): 235 - 124,
    }
    assert all(e.text == e.attributes.get("g_lex", e.attributes.get("v_lex")) for e in ents)
    assert all(n.id.startswith("rs") for e in ents if e.type == "Variant" for n in e.normalized)


def test_hoc_text_and_labels_read_through_the_entry_with_its_documented_split_list(tmp_path, shared_samples):
    """HoC's release (text/ + labels/) has no split lists; the entry says to put one PMID per line in
    splits/{train,dev,test}.txt, done here in tmp with the 30 sample PMIDs (the entry stays verified:
    false). Independent count: per labels/<PMID>.txt, the pieces after each '<', split on 'AND', top
    level before '--', NULL/blank dropped, one set per document: 54 labels over 30 documents."""
    folder = lay_out(
        tmp_path, "hallmarks_of_cancer", {"text": "hoc/text", "labels": "hoc/labels"}, shared_samples
    )
    pmids = sorted(p.stem for p in (shared_samples / "hoc" / "text").glob("*.txt"))
    (folder / "splits").mkdir()
    (folder / "splits" / "test.txt").write_text("".join(f"{p}\n" for p in pmids), encoding="utf-8")
    tally = read_split(CATALOG.get("hallmarks_of_cancer"), tmp_path, "test")
    assert (tally.records, tally.quarantined) == (30, 0), tally.reasons[:3]
    assert tally.labels == {
        "Sustaining proliferative signaling": 16,
        "Resisting cell death": 12,
        "Evading growth suppressors": 3,
        "Avoiding immune destruction": 3,
        "Activating invasion and metastasis": 6,
        "Tumor promoting inflammation": 3,
        "Enabling replicative immortality": 9,
        "Inducing angiogenesis": 1,
        "Genomic instability and mutation": 1,
    }


def test_pubmedqa_cut_reads_through_the_entry_after_its_conversion(tmp_path, shared_samples):
    """ori_pqal.json + test_ground_truth.json under their release names, the entry's pubmedqa_pqal_split
    conversion, then its fold-0 train/dev and test files. On a 100-record cut the re-drawn split is not
    the official one (hence verified: false), but every record lands in exactly one split and keeps its
    answer: json: 100 records, final_decision yes 58 / no 26 / maybe 16."""
    layout = {
        "ori_pqal.json": "pubmedqa/ori_pqal.first100.json",
        "test_ground_truth.json": "pubmedqa/official/test_ground_truth.json",
    }
    folder = lay_out(tmp_path, "pubmed_qa", layout, shared_samples)
    assert convert(CATALOG.get("pubmed_qa"), folder)
    tallies = [read_split(CATALOG.get("pubmed_qa"), tmp_path, s) for s in ("train", "dev", "test")]
    ids = [r.id for t in tallies for r in t.items]
    assert sum(t.quarantined for t in tallies) == 0 and len(ids) == len(set(ids)) == 100
    assert Counter(r.answer[0] for t in tallies for r in t.items) == {"yes": 58, "no": 26, "maybe": 16}


def test_biosses_pairs_from_the_rar_equal_bigbio_tsv(tmp_path, shared_samples):
    """Every pair read from the RAR's Word tables through the entry against BigBIO's TSV, counted here
    with csv: the same 100 pair ids, label = the mean of annotator_a..e, both sentences equal after
    whitespace is collapsed. Exactly, 149 of the 200 sentences are equal; the other 51 differ in spacing
    only: BigBIO keeps a trailing space the cell's text ends with (stripped here), and 13 sentences have
    a no-break space (U+00A0) in the Word table where BigBIO has a space (kept as released)."""
    import csv

    tsv = shared_samples / "biosses" / "bigbio_annotation_pairs_scores.tsv"
    with tsv.open(encoding="utf-8", newline="") as fh:
        bigbio = {row["sentence_id"]: row for row in csv.DictReader(fh, delimiter="\t")}
    assert len(bigbio) == 100
    case = next(c for c in CASES if c.dataset == "biosses")
    folder = lay_out(tmp_path, "biosses", case.layout, shared_samples)
    assert convert(CATALOG.get("biosses"), folder) == ["train.tsv", "dev.tsv", "test.tsv"]
    records = {}
    for split in ("train", "dev", "test"):
        tally = read_split(CATALOG.get("biosses"), tmp_path, split)
        assert tally.quarantined == 0, tally.reasons[:3]
        for r in tally.items:
            assert r.id not in records, f"pair {r.id} in two splits"
            records[r.id] = r  # the release's pair number (id_field)
    assert sorted(records, key=int) == sorted(bigbio, key=int)

    def collapse(text: str) -> str:
        return " ".join(text.split())

    exact = 0
    for pid, row in bigbio.items():
        mean = sum(int(row[f"annotator_{a}"]) for a in "abcde") / 5
        got = records[pid]
        assert float(got.label) == pytest.approx(mean, abs=1e-9), (pid, got.label, mean)
        assert collapse(got.text_1) == collapse(row["sentence_1"]), pid
        assert collapse(got.text_2) == collapse(row["sentence_2"]), pid
        exact += (got.text_1 == row["sentence_1"]) + (got.text_2 == row["sentence_2"])
        assert got.label in CATALOG.get("biosses").labels
    assert exact == 149
