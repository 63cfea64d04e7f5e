"""`taiyi catalog list/show/check` through typer's CliRunner, and the raw-file sniff rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taiyi_core.catalog import load_catalog
from taiyi_core.catalog.commands import app
from taiyi_core.catalog.rawcheck import check_dataset

runner = CliRunner()

# Small files in the real formats (PubTator: mention lines end with a tab; CBLUE JSON arrays without a
# final newline; MedQA JSONL; PubMedQA object keyed by PMID).
PUBTATOR = (
    "26094|t|Antihypertensive drugs and depression: a reappraisal.\n"
    "26094|a|Eighty-nine new referral hypertensive out-patients completed a mood rating scale.\n"
    "26094\t27\t37\tdepression\tDisease\tD003866\t\n"
    "26094\tCID\tD008750\tD003866\n\n"
)
QIC = json.dumps([{"id": "s1", "query": "心肌缺血如何治疗与调养呢？", "label": "治疗方案"}],
                 ensure_ascii=False)
MEDQA = json.dumps({
    "question": "Which drug?", "answer": "Warfarin", "options": {"A": "Warfarin", "B": "Heparin"},
    "meta_info": "step1", "answer_idx": "A",
}) + "\n"
PQA = json.dumps({"21645374": {"QUESTION": "Do mitochondria play a role?", "CONTEXTS": ["..."],
                               "final_decision": "yes", "LONG_ANSWER": "..."}})


def _put(root: Path, rel: str, content: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


@pytest.fixture
def raw(tmp_path) -> Path:
    root = tmp_path / "raw"
    for stem in ("Training", "Development", "Test"):
        _put(root, f"bc5cdr/CDR_Data/CDR_{stem}Set.PubTator.txt", PUBTATOR)
    _put(root, "kuake_qic/KUAKE-QIC_train.json", QIC)
    _put(root, "kuake_qic/KUAKE-QIC_dev.json", QIC)
    # malformed: CMeEE-V2 is a JSON array, here an object
    _put(root, "cmeee_v2/CMeEE-V2_train.json", '{"text": "x", "entities": []}')
    _put(root, "cmeee_v2/CMeEE-V2_dev.json", "[]")
    # malformed: an empty test file
    _put(root, "med_qa/US/train.jsonl", MEDQA)
    _put(root, "med_qa/US/dev.jsonl", MEDQA)
    _put(root, "med_qa/US/test.jsonl", "")
    # missing: the test split is absent
    _put(root, "pubmed_qa/pqal_fold0/train_set.json", PQA)
    _put(root, "pubmed_qa/pqal_fold0/dev_set.json", PQA)
    return root


def test_list_json_is_parseable_with_fields():
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == len(load_catalog())
    assert sum(1 for r in rows if r["row"]) == 140
    bc5 = next(r for r in rows if r["name"] == "bc5cdr")
    assert bc5["tasks"] == ["ner", "norm", "re"] and bc5["reader"] == "pubtator"
    assert bc5["splits"] == {"train": 500, "dev": 500, "test": 500}
    assert bc5["mix_total"] == 1150 and bc5["stages"] == [1, 2]
    assert set(bc5["eval_sets"]) == {"bc5cdr_chem", "bc5cdr_dise", "bc5cdr_re", "bc5cdr_ner"}
    assert {"name", "language", "role", "access", "url", "licence", "task_codes"} <= set(bc5)


def test_list_filters_and_table():
    result = runner.invoke(app, ["list", "--task", "re", "--lang", "zh"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in ("cmeie_v2", "diakg", "cmedcausal"):
        assert name in result.output
    assert "bc5cdr" not in result.output
    rows = json.loads(runner.invoke(app, ["list", "--task", "re", "--lang", "zh", "--json"]).output)
    assert {r["name"] for r in rows} == {"cmeie_v2", "diakg", "cmedcausal"}


def test_list_bad_filter_is_a_clear_error():
    result = runner.invoke(app, ["list", "--task", "nerr"])
    assert result.exit_code == 2
    assert "unknown task 'nerr'" in result.output and "Traceback" not in result.output


def test_show_tells_where_to_download_and_put_files():
    result = runner.invoke(app, ["show", "kuake_qic", "--raw-dir", "data/raw"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "https://tianchi.aliyun.com/dataset/95414" in out
    assert "data/raw/kuake_qic/KUAKE-QIC_train.json" in out and "data/raw/kuake_qic/KUAKE-QIC_dev.json" in out
    assert "7,624" in out and "dev" in out and "其他" in out


def test_show_json_and_unknown_name():
    data = json.loads(runner.invoke(app, ["show", "biored", "--json"]).output)
    assert data["role"] == "eval" and data["eval_sets"][0]["suites"] == ["zero_shot"]
    assert data["source_file"] == "datasets_en.yaml"
    result = runner.invoke(app, ["show", "biord"])
    assert result.exit_code == 2
    assert "unknown dataset 'biord'" in result.output and "biored" in result.output
    assert "Traceback" not in result.output


def test_check_present_missing_malformed(raw):
    result = runner.invoke(app, ["check", "--raw-dir", str(raw), "--json"])
    assert result.exit_code == 1, result.output  # something is malformed
    report = json.loads(result.output)
    status = {d["name"]: d for d in report["datasets"]}
    assert status["bc5cdr"]["status"] == "present"
    assert status["kuake_qic"]["status"] == "present"
    assert status["cmeee_v2"]["status"] == "malformed"
    assert "wrong top-level JSON type: object, expected array" in status["cmeee_v2"]["problems"][0]
    assert status["med_qa"]["status"] == "malformed"
    assert status["med_qa"]["problems"] == ["US/test.jsonl: empty file"]
    assert status["pubmed_qa"]["status"] == "missing"
    assert status["pubmed_qa"]["splits"]["test"]["missing_globs"] == ["test_set.json"]
    assert status["chemdner"]["status"] == "missing"
    assert any("biocreative" in line for line in status["chemdner"]["instructions"])
    assert report["counts"] == {"present": 2, "malformed": 2, "missing": len(status) - 4}


def test_check_table_prints_instructions_without_traceback(raw):
    result = runner.invoke(app, ["check", "--raw-dir", str(raw), "--role", "eval"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    out = result.output
    assert "Traceback" not in out
    assert "present: 2" in out and "malformed: 2" in out
    assert "how to get the missing datasets" in out
    assert f"{raw}/pubmed_qa/test_set.json" in out
    assert "taiyi data fetch pubmed_qa" in out and "pubmedqa_pqal_split" in out  # the split is code now


def test_check_all_missing_when_raw_dir_absent(tmp_path):
    result = runner.invoke(app, ["check", "--raw-dir", str(tmp_path / "nope"), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["counts"] == {"missing": len(load_catalog())}


@pytest.mark.parametrize(
    ("name", "files", "expected"),
    [
        ("covid_similarity", {"x.csv": "query1,query2,label\na,b,1\n"}, None),
        ("covid_similarity", {"x.csv": "q1,q2,label\na,b,1\n"},
         "missing header column(s) ['query1', 'query2']"),
        ("chinese_medical_dialogue_data", {"IM/内科.csv": "department,title,ask,answer\n内科,头痛,问,答\n"
                                           .encode("gb18030")}, None),
        ("bc7_litcovid", {"BC7-LitCovid-Train.csv": b"pmid,title,abstract,label\n\xff\xfe,\n",
                          "BC7-LitCovid-Dev.csv": "pmid,title,abstract,label\n", "BC7-LitCovid-Test-GS.csv":
                          "pmid,title,abstract,label\n"}, "not decodable as utf-8"),
        ("tcm_ner", {"a/1.txt": "人参"}, "no matching annotation file 1.ann"),
        ("tcm_ner", {"a/1.ann": "T1 drug 0 2 人参\n", "a/1.txt": "人参"}, "not brat standoff"),
        ("bionlp_st_2011_ge", {"BioNLP-ST_2011_genia_train_data_rev1/PMC-1.a1": "T1\tProtein 0 3\tIL2\n",
                               "BioNLP-ST_2011_genia_train_data_rev1/PMC-1.a2": "",
                               "BioNLP-ST_2011_genia_train_data_rev1/PMC-1.txt": "IL2 binds.",
                               "BioNLP-ST_2011_genia_devel_data_rev1/PMC-3.a1": "",
                               "BioNLP-ST_2011_genia_devel_data_rev1/PMC-3.a2": "",
                               "BioNLP-ST_2011_genia_devel_data_rev1/PMC-3.txt": "Nothing.",
                               "BioNLP-ST_2011_genia_test_data/PMC-2.a1": "",
                               "BioNLP-ST_2011_genia_test_data/PMC-2.txt": "Nothing here."}, None),
        ("ncbi_disease", {"NCBItrainset_corpus.txt": "10192393\tbad\n", "NCBIdevelopset_corpus.txt": PUBTATOR,
                          "NCBItestset_corpus.txt": PUBTATOR}, "not PubTator"),
        ("mirna", {"miRNA-Train-Corpus.xml": "<corpus><document/></corpus>",
                   "miRNA-Test-Corpus.xml": "<corpus><document></corpus>"}, "invalid XML"),
        ("huatuogpt_sft_data_v1", {"sft.jsonl": "[1, 2]\n"},
         "wrong top-level JSON type: array, expected jsonl"),
        ("general_dialogue", {"g.jsonl": '{"conversation_id": 1}\n'}, "no 'conversation' key"),
        ("imcs_v2_ner", {"IMCS-V2_train.json": '{"1": {"dialogue": []}}', "dev.json": "[]"},
         "wrong top-level JSON type: array, expected object"),
    ],
)
def test_sniff_rules(tmp_path, name, files, expected):
    for rel, content in files.items():
        _put(tmp_path / name, rel, content)
    result = check_dataset(load_catalog().get(name), tmp_path)
    if expected is None:
        assert result.status == "present", result.problems
    else:
        assert result.status == "malformed"
        assert any(expected in p for p in result.problems), result.problems


def test_real_samples_sniff_as_present(tmp_path, shared_samples):
    """The shared real cuts, laid out as the catalog says, pass the sniff tests."""
    raw = tmp_path / "raw"
    cdr = shared_samples / "bc5cdr" / "CDR_sample.PubTator.txt"
    for stem in ("Training", "Development", "Test"):
        _put(raw, f"bc5cdr/CDR_{stem}Set.PubTator.txt", cdr.read_bytes())
    cmeee = (shared_samples / "cmeee_v2" / "CMeEE-V2_dev.first200.json").read_bytes()
    _put(raw, "cmeee_v2/CMeEE-V2_train.json", cmeee)
    _put(raw, "cmeee_v2/CMeEE-V2_dev.json", cmeee)
    qic = (shared_samples / "kuake_qic" / "KUAKE-QIC_dev.first300.json").read_bytes()
    _put(raw, "kuake_qic/KUAKE-QIC_train.json", qic)
    _put(raw, "kuake_qic/KUAKE-QIC_dev.json", qic)
    medqa = (shared_samples / "medqa" / "US_test.first100.jsonl").read_bytes()
    for split in ("train", "dev", "test"):
        _put(raw, f"med_qa/US/{split}.jsonl", medqa)
    pqa = (shared_samples / "pubmedqa" / "ori_pqal.first100.json").read_bytes()
    for rel in ("pqal_fold0/train_set.json", "pqal_fold0/dev_set.json", "test_set.json"):
        _put(raw, f"pubmed_qa/{rel}", pqa)
    for doc in (shared_samples / "ddi" / "MedLine").glob("*.xml"):
        _put(raw, f"ddi_corpus/Train/MedLine/{doc.name}", doc.read_bytes())
        _put(raw, f"ddi_corpus/Test/Test for DDI Extraction task/MedLine/{doc.name}", doc.read_bytes())
    shutil.copytree(shared_samples / "hoc", raw / "hallmarks_of_cancer")
    pmids = "\n".join(p.stem for p in (shared_samples / "hoc" / "text").glob("*.txt")) + "\n"
    for split in ("train", "dev", "test"):
        _put(raw, f"hallmarks_of_cancer/splits/{split}.txt", pmids)
    cat = load_catalog()
    names = ("bc5cdr", "cmeee_v2", "kuake_qic", "med_qa", "pubmed_qa", "ddi_corpus", "hallmarks_of_cancer")
    for name in names:
        result = check_dataset(cat.get(name), raw)
        assert result.status == "present", (name, result.problems, [s.missing for s in result.splits])
