"""The catalog speaks the readers' language: every entry's ``reader_options`` validate against its reader's
``Options`` model, and the options read the real sample files (shared/samples) without quarantining them.

Entries the readers cannot serve yet are listed here explicitly, so that adding a reader (or the missing
variant/family) fails a test until the list and the catalog entry are updated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from taiyi_core.catalog import Dataset, load_catalog
from taiyi_core.formats import READERS, Quarantined, ReaderError, get_reader

# Readers named by the contracts that taiyi_core.formats does not register yet.
UNIMPLEMENTED_READERS: set[str] = set()

# dataset -> the top-level option keys its reader rejects because the capability is missing (a cblue
# variant, a mapping family), or "<check>" when every key validates but the mapping's check() refuses
# the fields the entry needs. The catalog options state what the entry needs; its notes say "PENDING
# reader support" and why.
PENDING: dict[str, set[str]] = {
    # nested entity/relation documents: the 'kb' mapping family (one mention per row) fails its check
    "mimicause": {"<check>"},
    "biorelex": {"<check>"},
}

CATALOG = load_catalog()


def _rejected_keys(ds: Dataset) -> tuple[set[str], str]:
    """Top-level option keys the reader rejects, and its full message ('' when the options are fine)."""
    reader = READERS[ds.reader]
    try:
        reader.parse_options(ds.reader_options)
    except ReaderError as exc:
        try:
            reader.Options.model_validate(ds.reader_options)
        except ValidationError as verr:
            return {str(e["loc"][0]) if e["loc"] else "<options>" for e in verr.errors()}, str(exc)
        return {"<check>"}, str(exc)  # fields valid one by one, but the mapping's check() failed
    return set(), ""


def test_every_entry_validates_against_its_reader():
    failures = []
    for ds in CATALOG:
        if ds.reader not in READERS or ds.name in PENDING:
            continue
        keys, message = _rejected_keys(ds)
        if keys:
            failures.append(f"{ds.name} [{ds.reader}] ({CATALOG.sources[ds.name]}): {message}")
    assert not failures, f"{len(failures)} catalog entries do not match their reader:\n" + "\n".join(failures)


def test_unimplemented_readers_are_exactly_the_listed_ones():
    missing = {ds.reader for ds in CATALOG if ds.reader not in READERS}
    assert missing == UNIMPLEMENTED_READERS, (
        f"readers named by the catalog but not registered: {sorted(missing)}; "
        f"the test lists {sorted(UNIMPLEMENTED_READERS)} (a new reader landed? update the list and check "
        "the entries' options)"
    )


def test_pending_entries_fail_only_on_the_missing_capability():
    failures = []
    for name, expected in sorted(PENDING.items()):
        if name not in CATALOG:
            failures.append(f"{name}: listed as pending but not in the catalog")
            continue
        ds = CATALOG.get(name)
        keys, message = _rejected_keys(ds)
        if not keys:
            failures.append(
                f"{name}: now validates against {ds.reader!r}; remove it from PENDING and "
                "drop the 'PENDING reader support' note"
            )
        elif keys != expected:
            failures.append(
                f"{name}: rejected keys {sorted(keys)}, expected only {sorted(expected)}: {message}"
            )
        if not any("PENDING reader support" in n for n in ds.notes):
            failures.append(f"{name}: notes do not say which reader support is pending")
    assert not failures, "\n".join(failures)


def test_only_pending_entries_carry_the_pending_note():
    noted = {ds.name for ds in CATALOG if any("PENDING reader support" in n for n in ds.notes)}
    assert noted == set(PENDING), (
        f"noted but not listed: {sorted(noted - set(PENDING))}; "
        f"listed but not noted: {sorted(set(PENDING) - noted)}"
    )


def test_split_lists_only_where_a_corpus_ships_all_splits_together():
    # the readers of these datasets take whole corpora; the id lists select each split's documents
    assert {ds.name for ds in CATALOG if ds.split_lists} == {"hallmarks_of_cancer", "nlm_gene", "medmentions"}


# --------------------------------------------------------------------------- real samples

SAMPLES: list[tuple[str, str, str]] = [  # dataset, split, glob under shared/samples
    ("bc5cdr", "train", "bc5cdr/*.PubTator.txt"),
    ("cmeee_v2", "dev", "cmeee_v2/*.json"),
    ("kuake_qic", "dev", "kuake_qic/*.json"),
    ("pubmed_qa", "train", "pubmedqa/*.json"),
    ("med_qa", "test", "medqa/*.jsonl"),
    ("hallmarks_of_cancer", "train", "hoc/text/*.txt"),
    ("ddi_corpus", "test", "ddi/MedLine/*.xml"),
]


@pytest.mark.parametrize(("name", "split", "pattern"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_catalog_options_read_the_real_samples(shared_samples: Path, name, split, pattern):
    ds = CATALOG.get(name)
    files = sorted(shared_samples.glob(pattern))
    assert files, f"no sample files match {pattern}"
    lang = ds.language if ds.language in ("en", "zh") else "en"
    out = list(get_reader(ds.reader).read(files, ds.reader_options, dataset=name, split=split, lang=lang))
    bad = [q for q in out if isinstance(q, Quarantined)]
    records = [r for r in out if not isinstance(r, Quarantined)]
    assert records, f"{name}: no records read from {pattern}"
    # real, released files: the catalog's options must read (almost) all of them
    assert len(bad) <= len(out) // 20, f"{name}: {len(bad)}/{len(out)} quarantined, e.g. {bad[0].reason}"
    task_families = {"ner": "kb", "re": "kb", "tc": "text", "mcqa": "qa", "yesno": "qa"}
    for es in ds.eval_sets:
        if es.task in task_families:
            assert records[0].family == task_families[es.task], (name, es.name)
