"""n2c2_xml reader: i2b2/n2c2 de-identification and document classification XML (n2c2_xml.py)."""

from __future__ import annotations

import pytest

from taiyi_core.formats import ReaderError
from tests.formats.helpers import assert_reslices, dump, read_all


def n2c2(paths, **options):
    return read_all("n2c2_xml", paths, options)


def test_deid_2006_inline_phi(fixtures):
    path = fixtures / "raw/n2c2/deid_surrogate_train_all_version2.xml"
    records, quarantined = n2c2([path], variant="deid_2006")
    assert dump(records[1]) == {
        "id": "311",
        "dataset": "ds",
        "split": "train",
        "lang": "en",
        "meta": {},
        "family": "kb",
        "document_id": "311",
        "text": "\nPatient Ledoux , Yvonne seen at Fort Wayne .\n",
        "passages": [],
        "entities": [
            {
                "id": "311.T1",
                "type": "PATIENT",
                "text": "Ledoux , Yvonne",
                "spans": [(9, 24)],
                "normalized": [],
                "attributes": {},
            },
            {
                "id": "311.T2",
                "type": "LOCATION",
                "text": "Fort Wayne",
                "spans": [(33, 43)],
                "normalized": [],
                "attributes": {},
            },
        ],
        "relations": [],
        "events": [],
    }
    # the escaped ampersand is one character of the text; offsets after it still re-slice
    assert "Bay Medical Center & discharged" in records[0].text
    assert [(e.type, e.text) for e in records[0].entities] == [
        ("DATE", "01/26/2000"),
        ("DOCTOR", "Kent Bauer"),
        ("HOSPITAL", "Bay Medical Center"),
    ]
    assert_reslices(records)
    assert [(q.record_id, q.line, q.reason) for q in quarantined] == [
        ("312", 14, "unexpected <b> inside <TEXT> (line 16)"),
        ("310", 24, "duplicate record id '310'"),
    ]


def test_deid_2006_label_set(fixtures):
    path = fixtures / "raw/n2c2/deid_surrogate_train_all_version2.xml"
    records, quarantined = n2c2(
        [path], variant="deid_2006", label_set=["DATE", "DOCTOR", "HOSPITAL", "PATIENT"]
    )
    assert [r.id for r in records] == ["310"]
    assert "unknown PHI TYPE 'LOCATION'" in quarantined[0].reason


def test_deid_2014_cdata_and_standoff_tags(fixtures):
    folder = fixtures / "raw/n2c2/deid_2014_train"
    records, quarantined = n2c2(sorted(folder.glob("*.xml")), variant="deid_2014")
    (rec,) = records
    assert rec.id == "220-01" and rec.text.startswith("\n\nRecord date: 2067-05-03\n")
    assert "<b>Note</b> & more." in rec.text  # CDATA content is text, markup included
    assert [(e.id, e.type, e.text, e.spans, e.attributes) for e in rec.entities] == [
        ("220-01.P0", "DATE", "2067-05-03", [(15, 25)], {"category": "DATE"}),
        ("220-01.P1", "PATIENT", "Nelson", [(49, 55)], {"category": "NAME"}),
        ("220-01.P2", "AGE", "64", [(61, 63)], {"category": "AGE"}),
        ("220-01.P3", "DOCTOR", "Yosef Xayachack", [(88, 103)], {"category": "NAME"}),
        ("220-01.P4", "HOSPITAL", "MGH", [(107, 110)], {"category": "LOCATION"}),
    ]
    assert [(q.record_id, q.reason.split(":")[0]) for q in quarantined] == [
        ("220-02", "entity 220-02.P0 surface mismatch at [(12, 18)]"),
        (None, "invalid XML"),
    ]
    by_tag, _ = n2c2([folder / "220-01.xml"], variant="deid_2014", type_from="tag")
    assert [e.type for e in by_tag[0].entities] == ["DATE", "NAME", "AGE", "NAME", "LOCATION"]


def test_smokers_2006_status_labels_and_broken_file(fixtures):
    files = [
        fixtures / "raw/n2c2/smokers_surrogate_train_all_version2.xml",
        fixtures / "raw/n2c2/smokers_broken_train.xml",
    ]
    statuses = ["CURRENT SMOKER", "PAST SMOKER", "SMOKER", "NON-SMOKER", "UNKNOWN"]
    records, quarantined = n2c2(files, variant="smokers_2006", label_set=statuses)
    assert [(r.id, r.labels, r.text) for r in records] == [
        ("641", ["CURRENT SMOKER"], "\nPatient smokes 1 ppd for 20 years.\n"),
        ("642", ["NON-SMOKER"], "\nDenies tobacco < never.\n"),
    ]
    assert records[0].label_set == statuses and records[0].family == "text"
    assert [(q.record_id, q.line, q.reason.split(" (")[0]) for q in quarantined] == [
        ("643", 15, "<RECORD> has no <SMOKING STATUS>"),
        ("644", 20, "unknown smoking status 'HEAVY SMOKER'"),
        # the file is salvaged RECORD by RECORD: the broken one quarantines at its own line
        ("700", 2, "invalid XML in this <RECORD>: xmlParseEntityRef: no name, line 5, column 15"),
    ]


def test_obesity_2008_notes_and_separate_judgments(fixtures):
    notes = fixtures / "raw/n2c2/obesity_patient_records_training.xml"
    judgments = fixtures / "raw/n2c2/obesity_standoff_annotations_training.xml"
    records, (q,) = n2c2([judgments, notes], variant="obesity_2008")
    assert [(r.id, r.labels, r.meta) for r in records] == [
        ("1", ["Asthma", "Obesity"], {"Asthma": "Y", "Obesity": "Y"}),
        ("2", ["CAD"], {"Asthma": "N", "Obesity": "Q", "CAD": "Y"}),
    ]
    assert records[0].text.startswith("\n490646815 | WMC |")
    assert (q.record_id, q.reason) == ("3", "no intuitive judgments for doc '3' (annotation file missing?)")
    textual, _ = n2c2([notes, judgments], variant="obesity_2008", source="textual")
    assert [r.labels for r in textual] == [["Asthma", "Obesity", "Hypertension"], []]
    _, missing = n2c2([notes], variant="obesity_2008")
    assert len(missing) == 3 and all("annotation file missing" in m.reason for m in missing)


def test_cohort_2018_met_criteria(fixtures):
    records, quarantined = n2c2(
        sorted((fixtures / "raw/n2c2/cohort_2018").glob("*.xml")), variant="cohort_2018"
    )
    (rec,) = records
    assert rec.labels == ["ASP-FOR-MI", "CREATININE", "ENGLISH", "HBA1C", "MAJOR-DIABETES", "MAKES-DECISIONS"]
    assert len(rec.meta) == 13 and rec.meta["ABDOMINAL"] == "not met"
    assert [(q.record_id, q.reason) for q in quarantined] == [
        ("101", "no <TAGS> criteria (unlabelled test data?)"),
        (None, "root element is <deIdi2b2>, expected <PatientMatching>"),
    ]


def test_variant_required(fixtures):
    with pytest.raises(ReaderError, match="variant"):
        n2c2([fixtures / "raw/n2c2/obesity_patient_records_training.xml"])
