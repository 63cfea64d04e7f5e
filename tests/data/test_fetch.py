"""`taiyi data fetch` against a loopback server: real catalog entries, releases laid out as published.

The datasets are the catalog's own (bc5cdr, hallmarks_of_cancer, med_qa, liveqa, pubmed_qa) with a
``download:`` block pointing at the test's server; their bytes are the bundled demo raw files packed
the way the releases ship them (BC5CDR's CDR_Data.zip, a GitHub commit tarball for HoC, plain JSONL for
MedQA). After the fetch the real data step (``jobs.prepare_dataset``) reads what was fetched, with
sockets blocked, and must produce exactly what it produces from the bundled files.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import tarfile
import zipfile

import pytest

from taiyi_core.catalog import Dataset, load_catalog
from taiyi_core.catalog.download import Download
from taiyi_core.config import load_preset
from taiyi_core.data import jobs
from taiyi_core.fetch import record
from taiyi_core.fetch.engine import WORK_DIR, Options, fetch_many
from taiyi_core.rundir import RunDir
from tests.data.conftest import DEMO_RAW
from tests.data.loopback import FileServer

COMMIT = "3bc6e6d" + "0" * 33


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, download: dict) -> Dataset:
    """The catalog's entry with a download block (validated like one in the YAML)."""
    ds = load_catalog().get(name)
    return ds.model_copy(update={"download": Download.model_validate(download)})


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def demo(rel: str) -> bytes:
    return (DEMO_RAW / rel).read_bytes()


def releases(server: FileServer) -> list[Dataset]:
    """Five datasets served as released; med_qa's train file drops the connection once mid-file."""
    cdr = {f"CDR_Data/CDR.Corpus.v010516/{n}": demo(f"bc5cdr/CDR_Data/{n}") for n in
           ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt")}
    cdr["CDR_Data/README.txt"] = b"BioCreative V CDR corpus\n"
    server.files["ftp/CDR_Data.zip"] = zip_bytes(cdr)
    top = f"Hallmarks-of-Cancer-{COMMIT}"
    hoc = {f"{top}/{kind}/{p.name}": p.read_bytes() for kind in ("text", "labels")
           for p in sorted((DEMO_RAW / "hallmarks_of_cancer" / kind).glob("*.txt"))}
    hoc[f"{top}/README.md"] = b"# Hallmarks of Cancer\n"
    server.files[f"gh/sb895/Hallmarks-of-Cancer/archive/{COMMIT}.tar.gz"] = tar_bytes(hoc)
    for split in ("train", "dev", "test"):
        server.files[f"blurb/hoc/{split}.txt"] = demo(f"hallmarks_of_cancer/splits/{split}.txt")
        server.files[f"medqa/US/{split}.jsonl"] = demo(f"med_qa/US/{split}.jsonl")
    server.drop_once.add("medqa/US/train.jsonl")
    for split in ("train", "test"):
        server.files[f"liveqa/{split}.jsonl"] = demo(f"liveqa/{split}.jsonl")
    server.status["pubmedqa/ori_pqal.json"] = 500
    zipped = server.files["ftp/CDR_Data.zip"]
    return [
        entry("bc5cdr", {"files": [{"url": server.url("ftp/CDR_Data.zip"), "sha256": sha(zipped),
                                    "size": len(zipped), "unpack": "zip", "members": ["*.PubTator.txt"]}]}),
        entry("hallmarks_of_cancer", {"files": [
            {"url": server.url(f"gh/sb895/Hallmarks-of-Cancer/archive/{COMMIT}.tar.gz"), "unpack": "tar.gz",
             "strip": 1, "members": ["text/*", "labels/*"]},
            *({"url": server.url(f"blurb/hoc/{s}.txt"), "to": f"splits/{s}.txt"}
              for s in ("train", "dev", "test")),
        ]}),
        entry("med_qa", {"files": [{"url": server.url(f"medqa/US/{s}.jsonl"),
                                    "sha256": sha(demo(f"med_qa/US/{s}.jsonl")), "to": f"US/{s}.jsonl"}
                                   for s in ("train", "dev", "test")]}),
        entry("liveqa", {"files": [  # the catalog's checksum of train.jsonl is not what the server sends
            {"url": server.url("liveqa/train.jsonl"), "sha256": "0" * 64},
            {"url": server.url("liveqa/test.jsonl"), "sha256": sha(demo("liveqa/test.jsonl"))}]}),
        entry("pubmed_qa", {"files": [{"url": server.url("pubmedqa/ori_pqal.json")}]}),
    ]


@pytest.fixture
def no_proxy(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def test_fetch_releases_then_the_data_step_reads_them(tmp_path, no_proxy, monkeypatch):
    raw = tmp_path / "raw"
    with FileServer() as server:
        datasets = releases(server)
        outcomes = {o.name: o for o in fetch_many(datasets, Options(raw_dir=raw), jobs=3)}
        med_qa_ranges = server.ranges("medqa/US/train.jsonl")

    assert {n: o.status for n, o in outcomes.items()} == {
        "bc5cdr": "fetched", "hallmarks_of_cancer": "fetched", "med_qa": "fetched",
        "liveqa": "failed", "pubmed_qa": "failed"}
    # the interrupted download resumed where it stopped instead of starting over
    assert med_qa_ranges[0] is None
    assert med_qa_ranges[1].startswith("bytes=") and med_qa_ranges[1] != "bytes=0-"
    # a checksum mismatch names the file and both hashes, and leaves nothing in place
    detail = outcomes["liveqa"].detail
    assert "train.jsonl" in detail and "0" * 64 in detail and sha(demo("liveqa/train.jsonl")) in detail
    assert not (raw / "liveqa").exists()
    assert "HTTP 500" in outcomes["pubmed_qa"].detail and not (raw / "pubmed_qa").exists()
    # archives: only the kept members, stripped of the commit folder
    assert sorted(p.name for p in (raw / "bc5cdr").rglob("*") if p.is_file()) == [
        "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt", "CDR_TrainingSet.PubTator.txt",
        "FETCHED.json"]
    hoc = raw / "hallmarks_of_cancer"
    assert (hoc / "text").is_dir() and not (hoc / "README.md").exists()
    # no catalog checksum for the GitHub tarball: the first download recorded it
    rec = record.read(raw / "hallmarks_of_cancer")
    tar_url = datasets[1].download.files[0].url
    assert rec["files"][tar_url]["checksum"] == "recorded by this download"
    assert rec["files"][tar_url]["sha256"] == sha(server.files[tar_url.split("/", 3)[3]])
    assert not any((raw / WORK_DIR).glob("*/downloads/*")), "verified downloads are removed once in place"

    # the real data step reads the fetched files, offline, exactly as it reads the bundled ones
    def refuse(*args, **kwargs):
        raise AssertionError("the data step tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    names = ["bc5cdr", "hallmarks_of_cancer", "med_qa"]
    for raw_dir, run_dir in ((raw, tmp_path / "fetched"), (DEMO_RAW, tmp_path / "bundled")):
        base = load_preset("demo")
        data = base.data.model_copy(update={"raw_dir": str(raw_dir), "datasets": names})
        preset = base.model_copy(update={"data": data})
        for name in names:
            jobs.prepare_dataset(RunDir(run_dir), preset, name)
    for name in names:
        fetched = sorted((tmp_path / "fetched" / "data" / "instruct" / name).glob("*.jsonl"))
        bundled = sorted((tmp_path / "bundled" / "data" / "instruct" / name).glob("*.jsonl"))
        assert [p.name for p in fetched] == [p.name for p in bundled] and fetched
        rows = [(a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))
                for a, b in zip(fetched, bundled, strict=True)]
        assert all(x == y for x, y in rows) and sum(len(x.splitlines()) for x, _ in rows) > 0, name


def test_refetch_is_up_to_date_and_a_changed_file_fails_against_the_record(tmp_path, no_proxy):
    raw = tmp_path / "raw"
    with FileServer() as server:
        hoc = releases(server)[1]
        assert fetch_many([hoc], Options(raw_dir=raw))[0].status == "fetched"
        before = len(server.log)
        assert fetch_many([hoc], Options(raw_dir=raw))[0].status == "up to date"
        assert len(server.log) == before, "an up-to-date dataset is not downloaded again"
        key = f"gh/sb895/Hallmarks-of-Cancer/archive/{COMMIT}.tar.gz"
        old = sha(server.files[key])
        server.files[key] = tar_bytes({f"x-{COMMIT}/text/1.txt": b"changed upstream\n"})
        outcome = fetch_many([hoc], Options(raw_dir=raw, force=True))[0]
    assert outcome.status == "failed"
    assert old in outcome.detail and "recorded in" in outcome.detail and "FETCHED.json" in outcome.detail
    assert (raw / "hallmarks_of_cancer" / "text" / "91000001.txt").is_file(), "what was there stays"


def test_partial_file_from_an_earlier_run_is_resumed_with_range(tmp_path, no_proxy):
    raw = tmp_path / "raw"
    body = demo("med_qa/US/test.jsonl")
    with FileServer({"US/test.jsonl": body}) as server:
        ds = entry("med_qa", {"files": [{"url": server.url("US/test.jsonl"), "sha256": sha(body),
                                         "to": f"US/{s}.jsonl"} for s in ("test",)]})
        dl = raw / WORK_DIR / "med_qa" / "downloads" / "test.jsonl"
        dl.parent.mkdir(parents=True)
        dl.with_name("test.jsonl.part").write_bytes(body[:100])
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        dl.with_name("test.jsonl.part.json").write_text(json.dumps(
            {"url": server.url("US/test.jsonl"), "size": len(body), "etag": etag}))
        outcome = fetch_many([ds], Options(raw_dir=raw))[0]
        assert server.ranges("US/test.jsonl") == ["bytes=100-"]
    assert outcome.status == "incomplete"  # only the test split was fetched: train/dev still missing
    assert "US/train.jsonl" in outcome.detail
    assert (raw / "med_qa" / "US" / "test.jsonl").read_bytes() == body


def test_a_zip_slip_member_fails_its_dataset_only(tmp_path, no_proxy):
    raw = tmp_path / "raw"
    with FileServer() as server:
        good = releases(server)[2]
        server.files["evil.zip"] = zip_bytes({"CDR_Data/../../../escaped.txt": b"x"})
        evil = entry("bc5cdr", {"files": [{"url": server.url("evil.zip"), "unpack": "zip"}]})
        outcomes = fetch_many([evil, good], Options(raw_dir=raw), jobs=2)
    assert [o.status for o in outcomes] == ["failed", "fetched"]
    assert "escapes the target folder" in outcomes[0].detail
    assert not list(tmp_path.rglob("escaped.txt")) and not (raw / "bc5cdr").exists()


def test_mirror_rewrites_the_catalog_url_and_the_record_keeps_the_original(tmp_path, no_proxy, monkeypatch):
    raw = tmp_path / "raw"
    body = demo("liveqa/test.jsonl")
    files = {"gh/o/r/raw/c/test.jsonl": body, "gh/o/r/raw/c/train.jsonl": demo("liveqa/train.jsonl")}
    with FileServer(files) as server:
        monkeypatch.setenv("TAIYI_MIRROR", f"https://github.com={server.base}/gh")
        from taiyi_core.fetch import mirrors

        ds = entry("liveqa", {"files": [{"url": f"https://github.com/o/r/raw/c/{s}.jsonl"}
                                        for s in ("train", "test")]})
        outcome = fetch_many([ds], Options(raw_dir=raw, mirrors=mirrors.load()))[0]
    assert outcome.status == "fetched", outcome.detail
    assert set(record.read(raw / "liveqa")["files"]) == {f"https://github.com/o/r/raw/c/{s}.jsonl"
                                                         for s in ("train", "test")}


def test_a_server_without_range_support_restarts_the_file_cleanly(tmp_path, no_proxy):
    raw = tmp_path / "raw"
    body = demo("med_qa/US/test.jsonl")
    with FileServer({"US/test.jsonl": body}) as server:
        server.ignore_range = True
        server.drop_once.add("US/test.jsonl")
        ds = entry("med_qa", {"files": [{"url": server.url("US/test.jsonl"), "sha256": sha(body),
                                         "to": "US/test.jsonl"}]})
        fetch_many([ds], Options(raw_dir=raw))
        assert len(server.ranges("US/test.jsonl")) == 2
    assert (raw / "med_qa" / "US" / "test.jsonl").read_bytes() == body  # not the half + the whole
