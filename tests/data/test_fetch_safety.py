"""Archive safety, mirrors, the Hub path (no network: a pre-filled cache with HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import gzip
import io
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from taiyi_core.catalog.download import Download, HubRepo
from taiyi_core.fetch import archive, hub, mirrors
from taiyi_core.fetch.errors import UnsafeArchive


def make_zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return path


def unpack(path: Path, kind: str, dest: Path, limit: int = 10**6, **kw) -> list[str]:
    return archive.unpack(path, kind, dest, members=kw.get("members", []), strip=kw.get("strip", 0),
                          max_bytes=limit)


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize(("member", "why"), [
    ("../x.txt", "escapes the target folder"),
    ("data/../../x.txt", "escapes the target folder"),
    ("/tmp/x.txt", "absolute path"),
])
def test_members_outside_the_target_are_refused(tmp_path, kind, member, why):
    make = make_zip if kind == "zip" else make_tar
    arc = make(tmp_path / f"a.{kind}", {"ok/a.txt": b"a", member: b"evil"})
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchive, match=why):
        unpack(arc, kind, dest)
    assert not list(dest.rglob("*")), "nothing is written before the whole archive is checked"
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd"])
def test_symlinks_out_of_the_target_are_refused(tmp_path, kind, target):
    make = make_zip if kind == "zip" else make_tar
    arc = make(tmp_path / f"a.{kind}", {"d/a.txt": b"a"}, links={"d/link": target})
    with pytest.raises(UnsafeArchive, match="link"):
        unpack(arc, kind, tmp_path / "out")


def test_a_link_inside_the_release_is_skipped_not_refused(tmp_path):
    arc = make_tar(tmp_path / "a.tar.gz", {"d/a.txt": b"a"}, links={"d/b.txt": "a.txt"})
    assert unpack(arc, "tar.gz", tmp_path / "out") == ["d/a.txt"]


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_expanding_past_the_limit_are_refused(tmp_path, kind):
    make = make_zip if kind == "zip" else make_tar
    arc = make(tmp_path / f"bomb.{kind}", {"a.txt": b"0" * 600_000, "b.txt": b"0" * 600_000})
    with pytest.raises(UnsafeArchive, match="more than the limit of 1,000,000"):
        unpack(arc, kind, tmp_path / "out", limit=1_000_000)
    assert not list((tmp_path / "out").rglob("*.txt"))


def test_a_gz_bomb_is_stopped_while_written(tmp_path):
    arc = tmp_path / "big.json.gz"
    arc.write_bytes(gzip.compress(b"0" * 2_000_000))
    with pytest.raises(UnsafeArchive, match="more than the limit"):
        unpack(arc, "gz", tmp_path / "out", limit=1_000_000)
    assert not (tmp_path / "out" / "big.json").exists()


def test_members_and_strip_keep_what_the_readers_need(tmp_path):
    arc = make_tar(tmp_path / "r.tar.gz", {"repo-abc/original-data/train/1.txt": b"t",
                                           "repo-abc/original-data/train/1.a1": b"T1\tProtein 0 1\tt\n",
                                           "repo-abc/README.md": b"readme"})
    out = unpack(arc, "tar.gz", tmp_path / "out", strip=1, members=["original-data/*"])
    assert sorted(out) == ["original-data/train/1.a1", "original-data/train/1.txt"]


def test_mirror_settings():
    m = mirrors.load({"https://github.com": "https://profile.example/gh"},
                     {"TAIYI_MIRROR": "https://github.com=https://env.example/gh, "
                                      "https://raw.githubusercontent.com=https://env.example/raw"})
    got = mirrors.rewrite("https://github.com/o/r/archive/c.tar.gz", m)
    assert got == "https://env.example/gh/o/r/archive/c.tar.gz"
    assert mirrors.rewrite("https://raw.githubusercontent.com/o/r/c/x", m) == "https://env.example/raw/o/r/c/x"
    assert mirrors.rewrite("https://github.com.evil/x", m) == "https://github.com.evil/x", "on a boundary"
    assert mirrors.rewrite("https://zenodo.org/x", m) == "https://zenodo.org/x"
    with pytest.raises(mirrors.MirrorError, match="TAIYI_MIRROR: 'github.com' is not FROM=TO"):
        mirrors.parse("github.com")
    with pytest.raises(mirrors.MirrorError, match="is not an http"):
        mirrors.parse("github.com=mirror")


REVISION = "5c0ffee" + "0" * 33


def prefill_hub_cache(tmp_path: Path, monkeypatch) -> Path:
    """HF_HUB_OFFLINE=1 and a cache laid out as huggingface_hub writes it (blobs + snapshot links)."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    revision = REVISION
    repo = tmp_path / "cache" / "datasets--FreedomIntelligence--huatuo_encyclopedia_qa"
    snap = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for name, body in {"train_datasets.jsonl": b'{"questions": [["q"]], "answers": ["a"]}\n',
                       "test_datasets.jsonl": b'{"questions": [["t"]], "answers": ["b"]}\n',
                       "README.md": b"card\n"}.items():
        blob = repo / "blobs" / name.replace(".", "_")
        blob.write_bytes(body)
        (snap / name).symlink_to(Path("../../blobs") / blob.name)
    return tmp_path / "cache"


def test_hub_repo_from_a_prefilled_cache_offline(tmp_path, monkeypatch):
    prefill_hub_cache(tmp_path, monkeypatch)
    revision = REVISION
    spec = HubRepo(repo="FreedomIntelligence/huatuo_encyclopedia_qa", revision=revision, allow=["*.jsonl"])
    dest = tmp_path / "raw" / "huatuo_encyclopedia_qa"
    written = hub.fetch_repo(spec, dest, cache_dir=tmp_path / "cache")
    assert sorted(written) == ["test_datasets.jsonl", "train_datasets.jsonl"]
    assert not (dest / "train_datasets.jsonl").is_symlink(), "plain files, not links into the cache"
    other = HubRepo(repo="FreedomIntelligence/huatuo_encyclopedia_qa", revision="1" * 40)
    from taiyi_core.fetch.errors import FetchError

    with pytest.raises(FetchError, match="hub FreedomIntelligence/huatuo_encyclopedia_qa@111111111111"):
        hub.fetch_repo(other, dest, cache_dir=tmp_path / "cache")


def test_download_block_validation():
    with pytest.raises(ValueError, match="not both"):
        Download.model_validate({"files": [{"url": "https://x/a"}], "by_hand": "why"})
    with pytest.raises(ValueError, match="40-hex commit"):
        HubRepo(repo="a/b", revision="main")
    with pytest.raises(ValueError, match="relative path"):
        Download.model_validate({"files": [{"url": "https://x/a", "to": "../a"}]})
    with pytest.raises(ValueError, match="archives only"):
        Download.model_validate({"files": [{"url": "https://x/a", "members": ["*"]}]})


def test_the_data_step_never_imports_the_fetch_code():
    """Jobs stay offline: nothing the data and curate steps import can download."""
    code = ("import sys, taiyi_core.data.jobs, taiyi_core.data.prepare, taiyi_core.data.curate; "
            "bad = sorted(m for m in sys.modules if m.startswith('taiyi_core.fetch')); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_hub_dataset_is_fetched_into_place_like_any_other(tmp_path, monkeypatch):
    from taiyi_core.catalog import load_catalog
    from taiyi_core.fetch import record
    from taiyi_core.fetch.engine import Options, fetch_many

    cache = prefill_hub_cache(tmp_path, monkeypatch)
    ds = load_catalog().get("huatuo_encyclopedia_qa")
    ds = ds.model_copy(update={"download": Download.model_validate({"hub": {
        "repo": "FreedomIntelligence/huatuo_encyclopedia_qa", "revision": REVISION, "allow": ["*.jsonl"]}})})
    outcome = fetch_many([ds], Options(raw_dir=tmp_path / "raw", hub_cache=cache))[0]
    assert outcome.status == "incomplete" and "dev: valid*.json*" in outcome.detail  # no dev file in the repo
    rec = record.read(tmp_path / "raw" / "huatuo_encyclopedia_qa")
    assert rec["hub"] == {"repo": ds.download.hub.repo, "revision": REVISION, "files": 2}
