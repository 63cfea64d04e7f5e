"""Entries fixed after a fetch rehearsal against real releases (issue 11): each release's layout, built in
tmp exactly as the release ships it (names, nesting, header or none, JSON shape), read through the catalog
entry (its convert steps first, as ``taiyi data fetch`` runs them), plus the real sample where one exists.

pico_extraction: ``sentences.json`` (object ``"PMID:SENIDX" -> text``, no final newline) and
``annotations/<element>_expert.json`` (object ``id -> {"annotations": [[0/1 per token] x 3], "wids"}``);
geokhoj_v1: ``geo_samples_{train,test}.csv`` without a header (GSM id, label, text); mlee:
``MLEE-1.0.2-rev1/standoff/{development/train, development/test, test/test}`` with ``.a1``/``.a2``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taiyi_core.catalog import load_catalog
from taiyi_core.fetch.conversions.standoff import token_votes_brat
from taiyi_core.fetch.errors import FetchError
from tests.catalog.samples_layout import convert, read_split

CATALOG = load_catalog()
PICO_FILES = {"participants": "Participant", "interventions": "Intervention", "outcomes": "Outcome"}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _pico_release(folder: Path, texts: dict[str, str], votes: dict[str, dict[str, list[list[int]]]]) -> None:
    _write(folder / "sentences.json", json.dumps(texts, indent=4))  # the release: indented, no final newline
    for element, table in votes.items():
        body = {sid: {"annotations": v, "wids": [1, 2, 3][: len(v)]} for sid, v in table.items()}
        _write(folder / "annotations" / f"{element}_expert.json", json.dumps(body, indent=4))


def test_pico_votes_become_mentions_by_majority_and_overlaps_survive(tmp_path):
    texts = {"100:0": "Aspirin  was given to 40 adults with pain .", "100:1": "No effect ."}
    #        tokens:  Aspirin was given to 40 adults with pain .
    votes = {
        "participants": {"100:0": [[0, 0, 0, 0, 1, 1, 1, 1, 0]] * 2 + [[0] * 9], "100:1": [[0, 0, 0]] * 3},
        # 2 of 3 mark "Aspirin"; only 1 of 3 marks "given": no mention
        "interventions": {"100:0": [[1, 0, 1, 0, 0, 0, 0, 0, 0], [1] + [0] * 8, [0] * 9],
                          "100:1": [[0, 0, 0]] * 3},
        # two runs of one type, the second over the participants' "pain" (types overlap)
        "outcomes": {"100:0": [[1, 0, 0, 0, 0, 0, 0, 1, 0]] * 3, "100:1": [[0, 1, 0]] * 3},
    }
    folder = tmp_path / "pico_extraction"
    _pico_release(folder, texts, votes)
    written = convert(CATALOG.get("pico_extraction"), folder)
    assert sorted(written) == sorted(f"sentences/{s}.{x}" for s in texts for x in ("txt", "ann"))
    tally = read_split(CATALOG.get("pico_extraction"), tmp_path, "train")
    assert (tally.records, tally.quarantined) == (2, 0), tally.reasons
    got = {r.id: sorted((e.type, e.text, e.spans[0][0]) for e in r.entities) for r in tally.items}
    assert got == {
        "100:0": [("Intervention", "Aspirin", 0), ("Outcome", "Aspirin", 0), ("Outcome", "pain", 37),
                  ("Participant", "40 adults with pain", 22)],
        "100:1": [("Outcome", "effect", 3)],
    }
    assert all(r.text == texts[r.id] for r in tally.items)  # the text as released (double space kept)


def test_pico_refuses_a_sentence_an_annotation_file_lacks(tmp_path):
    folder = tmp_path / "pico_extraction"
    votes = {e: {"1:0": [[0, 0]] * 3} for e in PICO_FILES}
    del votes["outcomes"]["1:0"]
    votes["outcomes"]["9:9"] = [[0]] * 3
    _pico_release(folder, {"1:0": "Two tokens"}, votes)
    refused = r"outcomes_expert.json: 1 sentence\(s\) not annotated \(\['1:0'\]\), 1 annotated id\(s\) that"
    with pytest.raises(FetchError, match=refused + r" are not sentences \(\['9:9'\]\)"):
        convert(CATALOG.get("pico_extraction"), folder)
    votes["outcomes"] = {"1:0": [[0, 0, 1]] * 3}  # three labels for two tokens
    _pico_release(folder, {"1:0": "Two tokens"}, votes)
    with pytest.raises(FetchError, match="outcomes_expert.json, sentence 1:0: expected one 0/1 list of 2"):
        convert(CATALOG.get("pico_extraction"), folder)


# independent count over the sample's annotation files (python, no suite code): per sentence the string
# of column votes ('1' where >= 2 of the 3 experts marked the token), re.findall('1+'): runs and tokens
PICO_SAMPLE = {"participants": (5, 38), "interventions": (18, 31), "outcomes": (16, 48)}


@pytest.mark.parametrize("element", sorted(PICO_SAMPLE))
def test_pico_real_sample_one_element_at_a_time(element, tmp_path, shared_samples):
    """The sample's three annotation files hold 15 different sentences each (none in all three), so each
    file is converted with its own 15 sentences of the real sentences.json (cut in tmp) by the entry's
    step restricted to that file, then read through the entry."""
    src = shared_samples / "pico_extraction" / "data"
    if not src.is_dir():
        pytest.skip(f"sample folder {src} is absent")
    table = json.loads((src / "annotations" / f"{element}_expert.first15.json").read_text(encoding="utf-8"))
    texts = json.loads((src / "sentences.json").read_text(encoding="utf-8"))
    folder = tmp_path / "pico_extraction"
    _write(folder / "sentences.json", json.dumps({sid: texts[sid] for sid in table}))
    release_name = f"annotations/{element}_expert.json"
    (folder / "annotations").mkdir()
    (folder / release_name).symlink_to(src / "annotations" / f"{element}_expert.first15.json")
    options = CATALOG.get("pico_extraction").download.convert[0].options
    token_votes_brat(folder, options["sentences"], {release_name: options["annotations"][release_name]},
                     options["out_dir"])
    tally = read_split(CATALOG.get("pico_extraction"), tmp_path, "train")
    mentions, tokens = PICO_SAMPLE[element]
    assert (tally.records, tally.quarantined, tally.mentions) == (15, 0, mentions), tally.reasons[:3]
    assert sum(len(e.text.split()) for r in tally.items for e in r.entities) == tokens
    assert {e.type for r in tally.items for e in r.entities} == {PICO_FILES[element]}
    assert {r.id for r in tally.items} == set(table)  # the release's sentence ids, kept


def test_geokhoj_headerless_csv_reads_ids_labels_and_quoted_text(tmp_path):
    """As released: no header, ``GSM id,label,text``, the text starting with a space and quoted when it
    holds commas; train repeats some rows whole (the second copy is a duplicate id, quarantined)."""
    rows = ('GSM1,1," Heart_S1 Heart, Prednisolone, 3d strain: Sprague Dawley; dose: 184 mg/kg"\r\n'
            "GSM2,0, 4mo wt10 olfactory bulb \r\n"
            "GSM2,0, 4mo wt10 olfactory bulb \r\n")
    _write(tmp_path / "geokhoj_v1" / "geo_samples_train.csv", rows)
    _write(tmp_path / "geokhoj_v1" / "geo_samples_test.csv", "GSM3,1, A427 NSCLC cell line: A427\r\n")
    entry = CATALOG.get("geokhoj_v1")
    train = read_split(entry, tmp_path, "train")
    assert (train.records, train.quarantined) == (2, 1)
    assert re.search(r"duplicate record id 'GSM2'", train.reasons[0])
    first = train.items[0]
    assert (first.id, first.labels, first.text) == (
        "GSM1", ["perturbation"], " Heart_S1 Heart, Prednisolone, 3d strain: Sprague Dawley; dose: 184 mg/kg")
    assert train.items[1].labels == ["control"] and first.label_set == ["control", "perturbation"]
    test = read_split(entry, tmp_path, "test")
    assert (test.records, test.quarantined, dict(test.labels)) == (1, 0, {"perturbation": 1})


def test_mlee_globs_pick_each_split_from_its_release_folder(tmp_path):
    """MLEE-1.0.2-rev1/standoff: development/train = train, development/test = dev, test/test = test
    (BigBIO's reading); a glob on ``**/test/`` would read the dev documents as test too."""
    root = tmp_path / "mlee" / "MLEE-1.0.2-rev1" / "standoff"
    docs = {"train": "development/train/PMID-1", "dev": "development/test/PMID-2", "test": "test/test/PMID-3"}
    for stem in docs.values():
        _write(root / f"{stem}.txt", "VEGF induces angiogenesis.\n")
        _write(root / f"{stem}.a1", "T1\tGene_or_gene_product 0 4\tVEGF\n")
        event = "Blood_vessel_development"
        _write(root / f"{stem}.a2", f"T2\t{event} 13 25\tangiogenesis\nE1\t{event}:T2\n")
    for split, stem in docs.items():
        tally = read_split(CATALOG.get("mlee"), tmp_path, split)
        assert [r.id for r in tally.items] == [Path(stem).name], split
        assert (tally.quarantined, tally.mentions, tally.events) == (0, 1, 1), tally.reasons
