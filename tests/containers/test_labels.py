"""image_labels_match_lock on `apptainer inspect --json` output (fixture shaped like Apptainer's)."""

from __future__ import annotations

import hashlib
import json

import pytest

from taiyi_core.launch import image_lock as cc


@pytest.fixture
def inspect_doc(fixtures):
    return json.loads((fixtures / "containers" / "apptainer_inspect.json").read_text())


@pytest.fixture
def fixture_lock(fixtures):
    return fixtures / "containers" / "requirements.lock"


def test_fixture_lock_is_the_one_the_image_was_built_from(fixture_lock, inspect_doc):
    labels = cc.labels_from_inspect(inspect_doc)
    assert labels[cc.LABEL_LOCK_SHA] == hashlib.sha256(fixture_lock.read_bytes()).hexdigest()
    assert labels["org.label-schema.usage.apptainer.version"].startswith("1.")


def test_matching_image_has_no_findings(fixture_lock, inspect_doc):
    assert cc.image_labels_match_lock(cc.labels_from_inspect(inspect_doc), fixture_lock) == []


def test_image_built_from_another_lock(inspect_doc):
    """The fixture image against the repo's full lock: different file, so it must be rebuilt."""
    findings = cc.image_labels_match_lock(cc.labels_from_inspect(inspect_doc), cc.LOCK_FILE)
    assert len(findings) == 1 and findings[0].startswith("image was built from another lock")


def test_version_drift_and_missing_labels(fixture_lock, inspect_doc):
    labels = cc.labels_from_inspect(inspect_doc)
    labels["org.taiyi.version.torch"] = "2.12.1"
    labels["org.taiyi.version.trl"] = "1.16.0"
    labels["org.taiyi.git_commit"] = "unknown"
    del labels[cc.LABEL_LOCK_SHA]
    findings = cc.image_labels_match_lock(labels, fixture_lock)
    assert findings == [
        "image has no org.taiyi.lock.sha256 label: not built from containers/taiyi.def?",
        "torch: image has 2.12.1, the lock pins 2.13.0",
        "trl: image has 1.16.0, the lock does not pin it",
        "image has no git commit label (org.taiyi.git_commit): build it with containers/build.sh",
    ]


def test_foreign_image_without_our_labels(fixture_lock):
    labels = {
        "org.label-schema.usage.apptainer.version": "1.3.0",
        "org.opencontainers.image.version": "24.04",
    }
    findings = cc.image_labels_match_lock(labels, fixture_lock)
    assert len(findings) == 3
    assert "no org.taiyi.version.* labels" in findings[1]


@pytest.mark.parametrize("doc", [{"labels": {}}, {"data": {"attributes": {"labels": ["x"]}}}, []])
def test_not_inspect_output(doc):
    with pytest.raises(ValueError, match="inspect --json|not a mapping"):
        cc.labels_from_inspect(doc)
