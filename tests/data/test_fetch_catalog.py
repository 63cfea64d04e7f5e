"""The catalog's pinned sources, `taiyi data fetch --dry-run`, and `taiyi data add` for gated datasets."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import pytest
from typer.testing import CliRunner

from taiyi_core.catalog import load_catalog
from taiyi_core.cli import app
from tests.data.conftest import DEMO_RAW

CATALOG = load_catalog()
PUBLIC = [ds for ds in CATALOG if ds.access == "public"]
runner = CliRunner()
COMMIT_IN_URL = re.compile(r"/[0-9a-f]{40}(/|\.tar\.gz$|\.zip$)")


def test_every_public_dataset_has_pinned_sources_or_says_why_not():
    missing = [ds.name for ds in PUBLIC if ds.download is None]
    assert not missing, f"public datasets without a download: block (pinned sources or by_hand): {missing}"
    pinned = [ds for ds in PUBLIC if ds.download.fetchable]
    assert len(pinned) >= 40
    for ds in pinned:
        for f in ds.download.files:
            if f.url.startswith(("https://github.com/", "https://raw.githubusercontent.com/")):  # at a commit
                assert COMMIT_IN_URL.search(f.url), f"{ds.name}: {f.url} is not pinned to a commit"
            if f.url.startswith("https://raw.githubusercontent.com/") and f.size and f.size < 4 * 1024**2:
                assert f.sha256, f"{ds.name}: {f.url}: a raw file at a commit has a computable sha256"


def test_dry_run_lists_every_public_dataset_with_its_source(tmp_path):
    result = runner.invoke(app, ["data", "fetch", "--all-public", "--dry-run", "--json",
                                 "--raw-dir", str(tmp_path)], env={"TAIYI_MIRROR": ""})
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert sorted(d["name"] for d in out["datasets"]) == sorted(ds.name for ds in PUBLIC)
    for d in out["datasets"]:
        assert d["source"], d["name"]
        if d["fetchable"]:
            assert d["files"] or d["hub"]
            for f in d["files"]:
                assert f["checksum"] in ("in the catalog", "to be recorded on first download")
        else:
            assert d["source"].startswith("by hand: ") and "taiyi data add" in d["source"]
    s = out["summary"]
    assert s["datasets"] == len(PUBLIC) and s["fetchable"] + s["by_hand"] == len(PUBLIC)
    assert not list(tmp_path.iterdir()), "a dry run writes nothing"


def test_dry_run_table_names_source_checksum_and_destination(tmp_path):
    result = runner.invoke(app, ["data", "fetch", "tmvar_v1", "bc5cdr", "med_qa", "--dry-run",
                                 "--raw-dir", str(tmp_path)], env={"COLUMNS": "250", "TAIYI_MIRROR": ""})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "raw.githubusercontent.com/rockt/SETH/a" in out  # the URL (folded by the table) at a commit
    assert "in the catalog" in out and "to be recorded on first download" in out
    assert "tmvar_v1/train.PubTator.txt" in out and "by hand: " in out


def test_fetch_refuses_unknown_names_and_bad_mirrors(tmp_path):
    result = runner.invoke(app, ["data", "fetch", "bc5cd", "--dry-run"])
    assert result.exit_code == 2 and "did you mean" in result.output and "bc5cdr" in result.output
    result = runner.invoke(app, ["data", "fetch", "bc5cdr", "--dry-run"], env={"TAIYI_MIRROR": "github.com"})
    assert result.exit_code == 2 and "TAIYI_MIRROR" in result.output


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_add_unpacks_a_gated_download_into_place_and_says_what_is_missing(tmp_path):
    """cmeee_v2 needs a Tianchi account: the user's zip (files under one folder) goes into place."""
    train = (DEMO_RAW / "cmeee_v2" / "CMeEE-V2_train.json").read_bytes()
    dev = (DEMO_RAW / "cmeee_v2" / "CMeEE-V2_dev.json").read_bytes()
    raw = tmp_path / "raw"
    full = _zip(tmp_path / "CMeEE-V2.zip", {"CMeEE-V2/CMeEE-V2_train.json": train,
                                            "CMeEE-V2/CMeEE-V2_dev.json": dev})
    result = runner.invoke(app, ["data", "add", "cmeee_v2", str(full), "--raw-dir", str(raw), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "fetched"
    assert (raw / "cmeee_v2" / "CMeEE-V2_train.json").read_bytes() == train
    assert json.loads((raw / "cmeee_v2" / "FETCHED.json").read_text())["how"] == "add"

    half = _zip(tmp_path / "half.zip", {"CMeEE-V2_train.json": train})
    result = runner.invoke(app, ["data", "add", "cmeee_v2", str(half), "--raw-dir", str(tmp_path / "raw2")])
    assert result.exit_code == 1 and "still missing: dev: CMeEE-V2_dev.json" in result.output


def test_add_refuses_the_wrong_download_and_a_checksum_mismatch(tmp_path):
    raw = tmp_path / "raw"
    wrong = _zip(tmp_path / "other.zip", {"notes.txt": b"not the corpus"})
    result = runner.invoke(app, ["data", "add", "cmeee_v2", str(wrong), "--raw-dir", str(raw)])
    assert result.exit_code == 1 and "does not look like this dataset" in result.output
    assert not (raw / "cmeee_v2").exists()
    # a file the catalog pins (tmvar_v1's train.txt at a SETH commit) but with other bytes
    bad = tmp_path / "train.txt"
    bad.write_bytes(b"12345|t|not tmVar\n")
    result = runner.invoke(app, ["data", "add", "tmvar_v1", str(bad), "--raw-dir", str(raw)],
                           env={"COLUMNS": "250"})
    expected = next(f.sha256 for f in CATALOG.get("tmvar_v1").download.files if f.file_name == "train.txt")
    assert result.exit_code == 1
    assert expected in result.output and hashlib.sha256(bad.read_bytes()).hexdigest() in result.output
    assert not (raw / "tmvar_v1").exists()


@pytest.mark.parametrize("name", ["pubmed_qa", "seth_corpus"])
def test_show_says_how_to_fetch(name):
    result = runner.invoke(app, ["catalog", "show", name], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and f"taiyi data fetch {name}" in result.output


def test_profile_mirrors_rewrite_urls_and_the_variable_wins(tmp_path):
    profile = tmp_path / "behind-proxy.yaml"
    profile.write_text("name: behind-proxy\nexecutor: local\nmirrors:\n"
                       "  https://raw.githubusercontent.com: https://mirror.example/raw\n"
                       "  https://github.com: https://mirror.example/gh\n")
    args = ["data", "fetch", "tmvar_v1", "seth_corpus", "--dry-run", "--json", "--profile", str(profile)]
    result = runner.invoke(app, args, env={"TAIYI_MIRROR": "https://github.com=https://env.example/gh"})
    assert result.exit_code == 0, result.output
    urls = {d["name"]: [f["fetch_url"] for f in d["files"]] for d in json.loads(result.output)["datasets"]}
    assert all(u.startswith("https://mirror.example/raw/rockt/SETH/") for u in urls["tmvar_v1"])
    assert urls["seth_corpus"][0].startswith("https://env.example/gh/rockt/SETH/archive/")


def test_the_data_report_hint_says_fetch_or_add():
    from taiyi_core.data.catalog_view import load_views

    views = load_views()
    assert "fetch it: taiyi data fetch bc5cdr" in views["bc5cdr"].download_hint()
    assert "taiyi data add cmeee_v2 PATH" in views["cmeee_v2"].download_hint()


def test_add_applies_the_catalog_members_of_a_known_archive(tmp_path):
    """bc5cdr's catalog entry names CDR_Data.zip with members *.PubTator.txt: a user's copy of that zip
    is unpacked the same way a fetch would (the BioC and README files stay out)."""
    names = ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt")
    members = {f"CDR_Data/CDR.Corpus.v010516/{n}": (DEMO_RAW / "bc5cdr" / "CDR_Data" / n).read_bytes()
               for n in names}
    members["CDR_Data/CDR.Corpus.v010516/CDR_TestSet.BioC.xml"] = b"<collection/>"
    members["CDR_Data/README.txt"] = b"readme"
    zipped = _zip(tmp_path / "CDR_Data.zip", members)
    result = runner.invoke(app, ["data", "add", "bc5cdr", str(zipped), "--raw-dir", str(tmp_path / "raw")])
    assert result.exit_code == 0, result.output
    got = sorted(p.name for p in (tmp_path / "raw" / "bc5cdr").rglob("*") if p.is_file())
    assert got == sorted([*names, "FETCHED.json"])


def test_cli_fetch_through_a_mirror_records_then_is_up_to_date(tmp_path, monkeypatch):
    """The real bc5cdr entry (the publisher's zip, no checksum in the catalog), its host mirrored to a
    loopback server holding a zip laid out as CDR_Data.zip; med_qa beside it is by hand."""
    from tests.data.loopback import FileServer

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    names = ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt")
    members = {f"CDR_Data/CDR.Corpus.v010516/{n}": (DEMO_RAW / "bc5cdr" / "CDR_Data" / n).read_bytes()
               for n in names}
    zipped = _zip(tmp_path / "CDR_Data.zip", members)
    raw = tmp_path / "raw"
    with FileServer({"media/store/files/2016/CDR_Data.zip": zipped.read_bytes()}) as server:
        env = {"TAIYI_MIRROR": f"https://biocreative.bioinformatics.udel.edu={server.base}", "COLUMNS": "200"}
        first = runner.invoke(app, ["data", "fetch", "bc5cdr", "med_qa", "--raw-dir", str(raw)], env=env)
        second = runner.invoke(app, ["data", "fetch", "bc5cdr", "--raw-dir", str(raw), "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert "fetched" in first.output and "by hand" in first.output and "fetched: 1" in first.output
    rec = json.loads((raw / "bc5cdr" / "FETCHED.json").read_text())
    url = CATALOG.get("bc5cdr").download.files[0].url
    assert rec["files"][url]["sha256"] == hashlib.sha256(zipped.read_bytes()).hexdigest()
    assert json.loads(second.output)["datasets"][0]["status"] == "up to date"
