"""Conversions of the catalog's ``download.convert``, run on real releases (../shared/samples) laid out
under the release's own paths (copied: conversions write), then read through the catalog entry exactly
as the data step reads them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from taiyi_core.catalog import load_catalog
from taiyi_core.fetch import convert
from taiyi_core.fetch.errors import FetchError
from tests.catalog.samples_layout import read_split

CATALOG = load_catalog()


def run_catalog_steps(name: str, folder: Path) -> list[str]:
    return convert.run_steps(name, CATALOG.get(name).download.convert, folder)


def t_lines(folder: Path, pattern: str = "*.ann") -> int:
    return sum(1 for p in folder.glob(pattern) for ln in p.read_text(encoding="utf-8").splitlines()
               if re.match(r"^T\d", ln))


def test_seth_corpus_lines_become_brat_documents_the_reader_pairs(tmp_path, shared_samples):
    corpus = tmp_path / "seth_corpus" / "resources" / "SETH-corpus"
    shutil.copytree(shared_samples / "seth_corpus" / "annotations", corpus / "annotations")
    shutil.copyfile(shared_samples / "seth_corpus" / "corpus.first80.txt", corpus / "corpus.txt")
    written = run_catalog_steps("seth_corpus", tmp_path / "seth_corpus")
    assert len(written) == 80
    tally = read_split(CATALOG.get("seth_corpus"), tmp_path, "train")
    # every mention of the real .ann files lands on its text: the reader checks each span's surface
    assert tally.records == 80 and tally.quarantined == 0
    assert tally.mentions == t_lines(corpus / "annotations") > 0


def test_pubmedqa_split_keeps_every_record_once(tmp_path, shared_samples):
    folder = tmp_path / "pubmed_qa"
    folder.mkdir()
    shutil.copyfile(shared_samples / "pubmedqa" / "ori_pqal.first100.json", folder / "ori_pqal.json")
    shutil.copyfile(shared_samples / "pubmedqa" / "official" / "test_ground_truth.json",
                    folder / "test_ground_truth.json")
    run_catalog_steps("pubmed_qa", folder)
    ori = json.loads((folder / "ori_pqal.json").read_text(encoding="utf-8"))
    test = json.loads((folder / "test_set.json").read_text())
    devs = [json.loads((folder / f"pqal_fold{i}" / "dev_set.json").read_text()) for i in range(10)]
    train0 = json.loads((folder / "pqal_fold0" / "train_set.json").read_text())
    assert len(test) == 50 and sum(len(d) for d in devs) == 50 and all(devs)  # as drawn: uneven when small
    assert sorted([*test, *(p for d in devs for p in d)]) == sorted(ori), "each PMID in one place"
    assert set(train0) == set(ori) - set(test) - set(devs[0])
    for split, n in (("test", 50), ("train", 50 - len(devs[0])), ("dev", len(devs[0]))):
        assert read_split(CATALOG.get("pubmed_qa"), tmp_path, split).records == n


def test_pubmedqa_split_refuses_a_release_whose_test_half_differs(tmp_path):
    folder = tmp_path / "pubmed_qa"
    folder.mkdir()
    labels = ["yes", "no", "maybe"]
    ori = {str(10_000 + i): {"QUESTION": "q", "final_decision": labels[i % 3]} for i in range(20)}
    (folder / "ori_pqal.json").write_text(json.dumps(ori))
    (folder / "test_ground_truth.json").write_text(json.dumps({str(10_000 + i): "yes" for i in range(10)}))
    with pytest.raises(FetchError, match="differs from test_ground_truth.json"):
        run_catalog_steps("pubmed_qa", folder)


def test_paste_parallel_builds_the_tsv_the_tabular_reader_reads(tmp_path):
    folder = tmp_path / "paramed" / "nejm-open-access"
    folder.mkdir(parents=True)
    for split, n in (("train", 3), ("dev", 2), ("test", 2)):
        (folder / f"nejm.{split}.en").write_text("".join(f"English {split} {i}.\n" for i in range(n)))
        (folder / f"nejm.{split}.zh").write_text("".join(f"中文 {split} {i}。\n" for i in range(n)))
    run_catalog_steps("paramed", tmp_path / "paramed")
    first = (tmp_path / "paramed" / "train.tsv").read_text().splitlines()[0]
    assert first == "English train 0.\t中文 train 0。"
    assert read_split(CATALOG.get("paramed"), tmp_path, "train").records == 3
    (folder / "nejm.dev.zh").write_text("only one line\n")
    with pytest.raises(FetchError, match="nejm.dev.en has 2 lines, nejm.dev.zh 1: not line-aligned"):
        run_catalog_steps("paramed", tmp_path / "paramed")


def test_every_catalog_conversion_exists_with_valid_options():
    steps = [(ds.name, c) for ds in CATALOG if ds.download for c in ds.download.convert]
    assert steps
    for name, step in steps:
        try:
            convert.check_options(step)
        except FetchError as exc:
            pytest.fail(f"{name}: {exc}")


def _copy_as(samples: Path, folder: Path, names: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for release_name, sample in names.items():
        shutil.copyfile(samples / sample, folder / release_name)


def test_liveqa_xml_layouts_of_all_three_files(tmp_path, shared_samples):
    s = "liveqa"
    train = f"{s}/TrainingDatasets/TREC-2017-LiveQA-Medical-Train"
    test = f"{s}/TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries"
    _copy_as(shared_samples, tmp_path / s, {
        "TREC-2017-LiveQA-Medical-Train-1.xml": f"{train}-1.first16.xml",
        "TREC-2017-LiveQA-Medical-Train-2.xml": f"{train}-2.first38.xml",
        "TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml": f"{test}.first14.xml"})
    run_catalog_steps("liveqa", tmp_path / s)
    train = [json.loads(ln) for ln in (tmp_path / s / "train.jsonl").read_text().splitlines()]
    ids = [r["id"] for r in train]
    assert len(train) == 16 + 38 and len(set(ids)) == len(ids)  # Train-1 questionid, Train-2 qid
    assert all(r["question"] and r["answer"] and "\t" not in r["answer"] for r in train)
    assert train[16]["question"].startswith("Lyme Disease. 12 years ago")  # BOM + CRLF file, subject kept
    for split, n in (("train", 54), ("test", 14)):
        tally = read_split(CATALOG.get("liveqa"), tmp_path, split)
        assert (tally.records, tally.quarantined) == (n, 0), split


RQE_TRAIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<MEDIQA2019-Task2-RQE-TrainingSet-AMIA2016>
<pair pid="1" value="true"> <chq>Can I take aspirin daily?</chq> <faq>Is daily aspirin safe?</faq> </pair>
<pair pid="2" value="false"> <chq>Knee pain after running.</chq> <faq>What is gout?</faq> </pair>
</MEDIQA2019-Task2-RQE-TrainingSet-AMIA2016>
"""


def test_mediqa_rqe_pairs_keep_their_labels(tmp_path, shared_samples):
    folder = tmp_path / "mediqa_rqe"
    d = "mediqa_rqe/MEDIQA_Task2_RQE"
    _copy_as(shared_samples, folder, {
        "MEDIQA2019-Task2-RQE-ValidationSet-AMIA2016.xml":
            f"{d}/MEDIQA2019-Task2-RQE-ValidationSet-AMIA2016.first177.xml",
        "MEDIQA2019-Task2-RQE-TestSet-wLabels.xml": f"{d}/MEDIQA2019-Task2-RQE-TestSet-wLabels.first109.xml",
    })
    (folder / "MEDIQA2019-Task2-RQE-TrainingSet-AMIA2016.xml").write_bytes(RQE_TRAIN)  # not among the samples
    run_catalog_steps("mediqa_rqe", folder)
    dev = (shared_samples / d / "MEDIQA2019-Task2-RQE-ValidationSet-AMIA2016.first177.xml").read_text()
    rows = [json.loads(ln) for ln in (folder / "dev.jsonl").read_text().splitlines()]
    assert len(rows) == dev.count("<pair ") == 177
    assert sum(r["value"] == "true" for r in rows) == dev.count('value="true"')
    for split, n in (("train", 2), ("dev", 177), ("test", 109)):
        tally = read_split(CATALOG.get("mediqa_rqe"), tmp_path, split)
        assert (tally.records, tally.quarantined) == (n, 0), split


def test_mediqa_qa_answer_is_the_reference_rank_one(tmp_path, shared_samples):
    folder = tmp_path / "mediqa_qa"
    sample = shared_samples / "mediqa_qa/MEDIQA_Task3_QA/MEDIQA2019-Task3-QA-ValidationSet.first5.xml"
    names = ("MEDIQA2019-Task3-QA-TrainingSet1-LiveQAMed.xml", "MEDIQA2019-Task3-QA-TrainingSet2-Alexa.xml",
             "MEDIQA2019-Task3-QA-ValidationSet.xml", "MEDIQA2019-Task3-QA-TestSet-wLabels.xml")
    folder.mkdir()
    for name in names:  # only the validation set is among the samples: it stands in for each file
        shutil.copyfile(sample, folder / name)
    run_catalog_steps("mediqa_qa", folder)
    rows = [json.loads(ln) for ln in (folder / "dev.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all(r["answer"] and r["answer"] in r["context"] for r in rows)
    rank1 = r'ReferenceRank="1"[^>]*>\s*<AnswerURL>[^<]*</AnswerURL>\s*<AnswerText>([^<]{40})'
    first_rank1 = re.search(rank1, sample.read_text(encoding="utf-8")).group(1)
    assert rows[0]["id"].endswith(":2") and rows[0]["answer"].startswith(" ".join(first_rank1.split()))
    assert read_split(CATALOG.get("mediqa_qa"), tmp_path, "dev").records == 5


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_drugprot_tables_become_brat_documents(tmp_path):
    """Laid out as the release's drugprot-gs-training-development/{training,development}/ (the misspelt
    'abstracs' file name included)."""
    root = tmp_path / "drugprot" / "drugprot-gs-training-development"
    title, abstract = "Aspirin inhibits COX-1.", "We show aspirin binds COX-1 in cells."
    for split, part in (("training", "train"), ("development", "dev")):
        d = root / split
        _write(d / f"drugprot_{split}_abstracs.tsv", f"1000{part == 'dev'}\t{title}\t{abstract}\n")
        start = len(title) + 1 + abstract.index("COX-1")
        _write(d / f"drugprot_{split}_entities.tsv",
               f"1000{part == 'dev'}\tT1\tCHEMICAL\t0\t7\tAspirin\n"
               f"1000{part == 'dev'}\tT2\tGENE-Y\t{start}\t{start + 5}\tCOX-1\n")
        _write(d / f"drugprot_{split}_relations.tsv", f"1000{part == 'dev'}\tINHIBITOR\tArg1:T1\tArg2:T2\n")
    run_catalog_steps("drugprot", tmp_path / "drugprot")
    ann = (tmp_path / "drugprot" / "train" / "1000False.ann").read_text()
    assert ann.splitlines()[-1] == "R1\tINHIBITOR Arg1:T1 Arg2:T2"
    tally = read_split(CATALOG.get("drugprot"), tmp_path, "train")
    assert (tally.records, tally.quarantined, tally.mentions, tally.relations) == (1, 0, 2, 1)
    _write(root / "training" / "drugprot_training_relations.tsv", "1000False\tINHIBITOR\tArg1:T1\tArg2:T9\n")
    with pytest.raises(FetchError, match="drugprot_training_relations.tsv, line 1: Arg2:T9 names no entity"):
        run_catalog_steps("drugprot", tmp_path / "drugprot")


def test_meddialog_utterances_carry_their_speaker(tmp_path):
    folder = tmp_path / "meddialog"
    for split in ("train", "dev", "test"):
        _write(folder / "english" / f"english-{split}.json", json.dumps([
            {"description": "chest pain", "utterances": ["patient: I have chest pain.", "Doctor: How long?"]},
            {"description": "x", "utterances": ["patient: thanks: it helped"]}]))
    run_catalog_steps("meddialog", folder)
    rows = json.loads((folder / "english-train-utterances.json").read_text())
    assert rows[:2] == [{"utterance": "I have chest pain.", "speaker": "patient"},
                        {"utterance": "How long?", "speaker": "doctor"}]
    assert rows[2] == {"utterance": "thanks: it helped", "speaker": "patient"}  # only the first ':' splits
    tally = read_split(CATALOG.get("meddialog"), tmp_path, "train")
    assert (tally.records, tally.quarantined) == (3, 0)
    _write(folder / "english" / "english-dev.json", json.dumps([{"utterances": ["no speaker prefix"]}]))
    with pytest.raises(FetchError, match="english-dev.json: dialogue 0: utterance 'no speaker prefix'"):
        run_catalog_steps("meddialog", folder)


def test_scifact_labels_come_from_the_evidence(tmp_path):
    folder = tmp_path / "scifact"
    support = [{"sentences": [0], "label": "SUPPORT"}]
    contradict = [{"sentences": [1], "label": "CONTRADICT"}]
    claims = [{"id": 1, "claim": "A causes B.", "evidence": {"11": support}},
              {"id": 2, "claim": "C prevents D.", "evidence": {"12": contradict}},
              {"id": 3, "claim": "E is F.", "evidence": {}, "cited_doc_ids": [13]}]
    for split in ("train", "dev"):
        _write(folder / "data" / f"claims_{split}.jsonl", "".join(json.dumps(c) + "\n" for c in claims))
    run_catalog_steps("scifact", folder)
    rows = [json.loads(ln) for ln in (folder / "claims_train_labels.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == ["SUPPORT", "CONTRADICT", "NOINFO"]
    assert read_split(CATALOG.get("scifact"), tmp_path, "dev").records == 3


def test_cmedqa2_joins_questions_answers_and_positive_candidates(tmp_path, shared_samples):
    """The real test candidates' header (question_id,ans_id,cnt,label) and the train layout (pos/neg)."""
    folder = tmp_path / "cmedqa2"
    head = (shared_samples / "cmedqa" / "cMedQA2_test_candidates.first200.txt").read_text().splitlines()[:4]
    rows = [ln.split(",") for ln in head[1:]]
    qids, aids = sorted({r[0] for r in rows}), sorted({r[1] for r in rows})
    _write(folder / "questions.csv", "question_id,content\n" + "".join(f"{q},问题{q}\n" for q in qids))
    _write(folder / "answers.csv",
           "ans_id,question_id,content\n" + "".join(f"{a},{qids[0]},回答{a}\n" for a in aids))
    _write(folder / "test_candidates.txt", "\n".join(head) + "\n")
    _write(folder / "dev_candidates.txt", "\n".join(head) + "\n")
    _write(folder / "train_candidates.txt",
           f"question_id,pos_ans_id,neg_ans_id\n{qids[0]},{aids[0]},{aids[1]}\n")
    run_catalog_steps("cmedqa2", folder)
    positives = [r for r in rows if r[3] == "1"]
    assert read_split(CATALOG.get("cmedqa2"), tmp_path, "test").records == len(positives) > 0
    assert read_split(CATALOG.get("cmedqa2"), tmp_path, "train").records == 1


def test_books_are_one_record_each(tmp_path):
    folder = tmp_path / "medical_books_zh"
    _write(folder / "books" / "内科学.txt", "第一章 绪论\n")
    _write(folder / "books" / "外科学.txt", "第一章 无菌术\n")
    run_catalog_steps("medical_books_zh", folder)
    assert read_split(CATALOG.get("medical_books_zh"), tmp_path, "train").records == 2


def test_evidence_inference_join_on_the_real_pilot_annotations(tmp_path, shared_samples):
    """The release's pilot files have the columns of the merged ones (which are over 4 MB and not among
    the samples): they stand in under the merged names; the real test id list is used as released."""
    src = shared_samples / "evidence_inference" / "annotations"
    folder = tmp_path / "evidence_inference"
    (folder / "annotations" / "splits").mkdir(parents=True)
    shutil.copyfile(src / "additional_files" / "prompts_pilot_run.csv",
                    folder / "annotations" / "prompts_merged.csv")
    shutil.copyfile(src / "additional_files" / "annotations_pilot_run.csv",
                    folder / "annotations" / "annotations_merged.csv")
    splits = folder / "annotations" / "splits"
    shutil.copyfile(src / "splits" / "test_article_ids.txt", splits / "test_article_ids.txt")
    import csv

    notes = list(csv.DictReader((src / "additional_files" / "annotations_pilot_run.csv").open(newline="")))
    test_ids = set((src / "splits" / "test_article_ids.txt").read_text().split())
    others = sorted({n["PMCID"] for n in notes} - test_ids)
    (splits / "train_article_ids.txt").write_text("\r\n".join(others[:-2]) + "\r\n")
    (splits / "validation_article_ids.txt").write_text("\r\n".join(others[-2:]) + "\r\n")
    run_catalog_steps("evidence_inference", folder)
    valid = [n for n in notes if n["Valid Label"] == "True" and n["Valid Reasoning"] == "True"]
    for split, ids in (("train", set(others[:-2])), ("dev", set(others[-2:])), ("test", test_ids)):
        expected = sum(1 for n in valid if n["PMCID"] in ids)
        tally = read_split(CATALOG.get("evidence_inference"), tmp_path, split)
        assert (tally.records, tally.quarantined) == (expected, 0), split
    rows = list(csv.DictReader((folder / "train.csv").open(newline="")))
    assert rows and all(r["label"] != "invalid prompt" for r in rows)
    assert not any(r["question"].endswith(" .") or "  " in r["question"] for r in rows)  # fields trimmed


GENETAG_SENTENCES = ("@@101 The/TAG SAPK/TAG pathway/TAG and/TAG IL-2/TAG receptor/TAG alpha/TAG ./.\n"
                     "@@102 No/TAG genes/TAG here/TAG ./.\n")
GENETAG_GOLD = ("@@101|1 1SAP\n"  # the real release's missing '|' and a text that differs from the token
                "@@101|4 6|IL-2 receptor alpha\n"
                "@@101|4 4|IL-2\n")  # nested in the longer mention: noted, not tagged


def test_genetag_token_indices_become_bio_and_the_rest_is_noted(tmp_path):
    folder = tmp_path / "genetag"
    for sub in ("train", "round1", "test"):
        _write(folder / "original-data" / sub / "TOKENIZED_CORPUS", GENETAG_SENTENCES)
        _write(folder / "original-data" / sub / "Gold.format", GENETAG_GOLD)
    run_catalog_steps("genetag", folder)
    first = (folder / "train.conll").read_text().split("\n\n")[0].splitlines()
    assert first[:2] == ["The\tO", "SAPK\tB-GENE"] and first[4:7] == ["IL-2\tB-GENE", "receptor\tI-GENE",
                                                                       "alpha\tI-GENE"]
    notes = (folder / "conversion_notes.tsv").read_text().splitlines()
    assert len(notes) == 1 + 3 * 2 and "overlaps a longer mention" in notes[2] and "SAP" in notes[1]
    tally = read_split(CATALOG.get("genetag"), tmp_path, "dev")
    assert (tally.records, tally.quarantined, tally.mentions) == (2, 0, 2)


def test_cellfinder_documents_go_to_bigbio_split_folders(tmp_path, shared_samples):
    """The two real documents of the sample, plus stand-ins for the other eight of the release."""
    src = tmp_path / "cellfinder" / "original-data" / "cellfinder1_brat"
    shutil.copytree(shared_samples / "cellfinder" / "cellfinder1_brat", src)
    step = CATALOG.get("cellfinder").download.convert[0]
    for doc in (d for ids in step.options["splits"].values() for d in ids):
        if not (src / f"{doc}.txt").exists():
            _write(src / f"{doc}.txt", "stand-in\n")
            _write(src / f"{doc}.ann", "")
    run_catalog_steps("cellfinder", tmp_path / "cellfinder")
    assert (tmp_path / "cellfinder" / "train" / "16316465.ann").is_file()
    assert (tmp_path / "cellfinder" / "test" / "15971941.txt").is_file()
    for split, doc in (("train", "16316465"), ("test", "15971941")):
        tally = read_split(CATALOG.get("cellfinder"), tmp_path, split)
        expected = t_lines(shared_samples / "cellfinder" / "cellfinder1_brat", f"{doc}.ann")
        assert (tally.records, tally.quarantined, tally.mentions) == (5, 0, expected), split
    (tmp_path / "cellfinder" / "original-data" / "cellfinder1_brat" / "99999999.txt").write_text("new\n")
    with pytest.raises(FetchError, match=r"present but in no split \['99999999'\]"):
        run_catalog_steps("cellfinder", tmp_path / "cellfinder")


def test_blurb_hoc_split_lists_become_one_id_per_line(tmp_path, shared_samples):
    folder = tmp_path / "hallmarks_of_cancer"
    for part in ("text", "labels"):
        shutil.copytree(shared_samples / "hoc" / part, folder / part)
    pmids = sorted(p.stem for p in (folder / "text").glob("*.txt"))
    index = folder / "blurb" / "data_generation" / "indexing" / "HoC"
    for split, ids in (("train", pmids[:20]), ("dev", pmids[20:25]), ("test", pmids[25:])):
        _write(index / f"{split}_pmid.tsv", ",".join(f"{i}.txt" for i in ids) + "\n")  # BLURB: one line
    run_catalog_steps("hallmarks_of_cancer", folder)
    assert (folder / "splits" / "dev.txt").read_text().split() == pmids[20:25]
    for split, ids in (("train", pmids[:20]), ("dev", pmids[20:25]), ("test", pmids[25:])):
        tally = read_split(CATALOG.get("hallmarks_of_cancer"), tmp_path, split)  # one record per abstract
        assert (tally.records, tally.quarantined) == (len(ids), 0), split
    _write(index / "dev_pmid.tsv", f"{pmids[0]}.txt,{pmids[0]}.txt\n")
    with pytest.raises(FetchError, match="ids listed twice"):
        run_catalog_steps("hallmarks_of_cancer", folder)


def test_anem_documents_go_where_the_release_lists_put_them(tmp_path):
    root = tmp_path / "an_em" / "AnEM-1.0.4"
    for doc in ("PMID-1", "PMID-2", "PMC-3", "PMC-4", "PMC-5"):
        _write(root / "standoff" / f"{doc}.txt", "The liver.\n")
        _write(root / "standoff" / f"{doc}.ann", "T1\tOrgan 4 9\tliver\n")
    _write(root / "development" / "train-files.list", "PMID-1\nPMID-2\n")
    _write(root / "development" / "test-files.list", "PMC-3\n")
    _write(root / "test" / "test-files.list", "PMC-4\n")  # PMC-5 is in no list: it stays out of every split
    run_catalog_steps("an_em", tmp_path / "an_em")
    for split, n in (("train", 2), ("dev", 1), ("test", 1)):
        tally = read_split(CATALOG.get("an_em"), tmp_path, split)
        assert (tally.records, tally.quarantined, tally.mentions) == (n, 0, n), split
    assert (root / "standoff" / "PMC-5.txt").is_file()
    _write(root / "development" / "train-files.list", "PMID-9\n")
    with pytest.raises(FetchError, match=r"listed but absent \[.*'PMID-9'\]"):
        run_catalog_steps("an_em", tmp_path / "an_em")


# ------------------------------------------------------------------ BIOSSES: Word tables in a RAR

BIOSSES_RAR = "BIOSSES-Dataset.rar"


def _biosses_steps(**options):
    from taiyi_core.catalog.download import ConvertStep

    (step,) = CATALOG.get("biosses").download.convert
    return [ConvertStep(step=step.step, options={**step.options, **options})]


def _docx(body: str) -> bytes:
    import io
    import zipfile

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>')
    return buf.getvalue()


def _row(*cells: str) -> str:
    return "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells) + "</w:tr>"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"<html>404 Not Found</html>", "BIOSSES-Dataset.rar: not a RAR archive"),
        (b"PK\x03\x04" + b"\0" * 40, "BIOSSES-Dataset.rar: not a RAR archive"),
    ],
    ids=["html-page", "zip"],
)
def test_biosses_file_that_is_not_a_rar_is_refused_by_name(tmp_path, content, message):
    (tmp_path / BIOSSES_RAR).write_bytes(content)
    with pytest.raises(FetchError, match=f"^biosses: conversion biosses_word_tables: {message}"):
        convert.run_steps("biosses", CATALOG.get("biosses").download.convert, tmp_path)
    assert not list(tmp_path.glob("*.tsv"))


def test_biosses_truncated_rar_is_refused_by_name(tmp_path, shared_samples):
    data = (shared_samples / "biosses" / BIOSSES_RAR).read_bytes()
    (tmp_path / BIOSSES_RAR).write_bytes(data[: len(data) // 2])
    with pytest.raises(FetchError, match=r"BIOSSES-Dataset\.rar: not a readable RAR archive: \w+ RAR file"):
        convert.run_steps("biosses", CATALOG.get("biosses").download.convert, tmp_path)
    assert not list(tmp_path.glob("*.tsv"))


def test_biosses_member_or_split_mismatch_is_named(tmp_path, shared_samples):
    shutil.copyfile(shared_samples / "biosses" / BIOSSES_RAR, tmp_path / BIOSSES_RAR)
    with pytest.raises(FetchError, match=r"member pattern '\*/Scores\.docx' matches 0 members"):
        convert.run_steps("biosses", _biosses_steps(scores="*/Scores.docx"), tmp_path)
    splits = dict(CATALOG.get("biosses").download.convert[0].options["splits"])
    splits["train.tsv"] = [*splits["train.tsv"][1:], 101, 2]  # one pair dropped, one unknown, one twice
    with pytest.raises(FetchError, match="listed twice: 2; not in the release: 101; in no split: 78$"):
        convert.run_steps("biosses", _biosses_steps(splits=splits), tmp_path)


def test_docx_without_the_expected_table_is_refused_by_name():
    from taiyi_core.fetch.word_tables import find_table

    header = ["", "Sentence 1", "Sentence 2"]
    with pytest.raises(FetchError, match=r"^x\.rar:A\.docx: expected one table with header .* found 0 "):
        find_table(_docx("<w:p><w:r><w:t>no table here</w:t></w:r></w:p>"), "x.rar:A.docx", header)
    other = _docx(f"<w:tbl>{_row('Sentence No', 'Annotator A')}{_row('1', '4')}</w:tbl>")
    with pytest.raises(FetchError, match=r"found 0 \(1 table\(s\); first rows: \[\['Sentence No'"):
        find_table(other, "A.docx", header)
    short = _docx(f"<w:tbl>{_row('', 'Sentence 1', 'Sentence 2')}{_row('1', 'a')}</w:tbl>")
    with pytest.raises(FetchError, match=r"A\.docx: table row 2 has 2 cells, expected 3"):
        find_table(short, "A.docx", header)
    with pytest.raises(FetchError, match=r"A\.docx: not a \.docx \(not a zip archive\)"):
        find_table(b"not a zip", "A.docx", header)
    tables = find_table(
        _docx(f"<w:tbl>{_row(' ', 'sentence  1', 'Sentence 2')}"
              "<w:tr><w:tc><w:p><w:r><w:t>7 </w:t></w:r></w:p></w:tc>"
              "<w:tc><w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t>"
              "<w:delText>gone</w:delText><w:noBreakHyphen/><w:t>d\u00ad</w:t></w:r></w:p><w:p/></w:tc>"
              "<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p><w:p><w:r><w:t>y</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"),
        "A.docx", header,
    )
    assert tables == [["7", "a b c-d", "x y"]]  # tabs, breaks and paragraphs: one space; no deleted text


def test_biosses_scores_outside_the_scale_are_refused():
    from taiyi_core.fetch.conversions.word_tables import _mean

    assert [_mean(list(s), "S.docx", "1") for s in ("44444", "00001", "32322")] == ["4.0", "0.2", "2.4"]
    with pytest.raises(FetchError, match=r"S\.docx: pair 9: scores \['5', '4', '4', '4', '4'\] are not"):
        _mean(["5", "4", "4", "4", "4"], "S.docx", "9")
