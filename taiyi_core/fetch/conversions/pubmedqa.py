"""PubMedQA's PQA-L split: 500 test + 10 cross-validation folds of the other 500, as the authors drew it.

The authors' ``preprocess/split_dataset.py pqal`` seeds Python's ``random`` with 0 and splits per label
(yes, no, maybe: shuffle, cut into k parts of ceil(n/k), then move one random PMID from each of the
first k-1 parts into the last when the parts come out uneven), first into 2 halves (CV, test), then the
CV half into 10 folds; fold i's dev set is part i, its train set the other nine. Re-drawn here with the
same generator and the same sequence of calls. The check that it is the same split: the drawn test
half must equal the 500 PMIDs of the official ``test_ground_truth.json`` (it does for the real
``ori_pqal.json``); when that file is present and the counts allow the comparison, a difference stops
the conversion.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError

LABELS = ("yes", "no", "maybe")  # the order the authors' dict lists them in
SEED = 0


def _split(dataset: dict[str, dict], k: int, rng: random.Random) -> list[dict[str, dict]]:
    by_label: dict[str, list[str]] = {label: [] for label in LABELS}
    for pmid, info in dataset.items():
        label = info.get("final_decision")
        if label not in by_label:
            raise FetchError(f"PMID {pmid}: final_decision {label!r} is not one of {', '.join(LABELS)}")
        by_label[label].append(pmid)
    parts: dict[str, list[list[str]]] = {}
    for label, pmids in by_label.items():
        rng.shuffle(pmids)
        size = math.ceil(len(pmids) / k)
        parts[label] = [pmids[i * size:] if i == k - 1 else pmids[i * size:(i + 1) * size] for i in range(k)]
    out = [{p: dataset[p] for label in LABELS for p in parts[label][i]} for i in range(k)]
    if len(out[-1]) != len(out[0]):
        for i in range(k - 1):
            picked = rng.choice(list(out[i]))
            out[-1][picked] = out[i].pop(picked)
    return out


def _dump(obj: dict) -> str:
    return json.dumps(obj, indent=4)


@conversion("pubmedqa_pqal_split")
def pubmedqa_pqal_split(folder: Path, source: str = "ori_pqal.json",
                        ground_truth: str = "test_ground_truth.json", folds: int = 10) -> list[str]:
    """ori_pqal.json -> test_set.json and pqal_fold<i>/{train,dev}_set.json (i < folds)."""
    try:
        dataset = json.loads((folder / source).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(f"{source} not found under {folder}") from None
    if not isinstance(dataset, dict):
        raise FetchError(f"{source}: expected a JSON object keyed by PMID")
    rng = random.Random(SEED)
    cv, test = _split(dataset, 2, rng)
    truth_path = folder / ground_truth
    if truth_path.is_file():
        truth = set(json.loads(truth_path.read_text(encoding="utf-8")))
        if len(dataset) == 2 * len(truth) and set(test) != truth:
            diff = len(set(test) ^ truth)
            raise FetchError(f"the re-drawn test half differs from {ground_truth} in {diff} PMIDs: "
                             f"this {source} is not the released one")
    written = ["test_set.json"]
    write_text(folder / "test_set.json", _dump(test))
    cv_folds = _split(cv, folds, rng)
    for i, dev in enumerate(cv_folds):
        train = {p: info for j, part in enumerate(cv_folds) if j != i for p, info in part.items()}
        write_text(folder / f"pqal_fold{i}" / "dev_set.json", _dump(dev))
        write_text(folder / f"pqal_fold{i}" / "train_set.json", _dump(train))
        written += [f"pqal_fold{i}/dev_set.json", f"pqal_fold{i}/train_set.json"]
    return written
