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
