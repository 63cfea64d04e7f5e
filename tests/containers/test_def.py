"""containers/taiyi.def: containers/check.py on the real file and broken copies; spython's second opinion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from containers import check as cc
from taiyi_core.launch import image_lock

DEF_TEXT = cc.DEF_FILE.read_text(encoding="utf-8")
DIGEST_RE = r"@sha256:[0-9a-f]{64}"


def variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    assert old in DEF_TEXT, old
    path = tmp_path / "taiyi.def"
    path.write_text(DEF_TEXT.replace(old, new, count), encoding="utf-8")
    return path


def check(path: Path, lock: Path | None = cc.LOCK_FILE) -> list[str]:
    return cc.check_def(path, lock, cc.PYPROJECT)


def test_real_def_passes_all_checks():
    assert cc.check_def() == []


def test_real_def_is_pinned_and_matches_lock_cuda():
    d = cc.parse_def(DEF_TEXT)
    assert d.header["bootstrap"][0] == "docker"
    frm = d.header["from"][0]
    assert re.search(DIGEST_RE + "$", frm)
    lock = cc.read_lock(cc.LOCK_FILE)
    assert cc.base_image_cuda(frm) == cc.torch_cuda(lock) == (13, 0)
    assert {"post", "environment", "labels", "runscript", "test", "files"} <= set(d.sections)


def test_spython_second_opinion_agrees():
    assert cc.spython_opinion(cc.DEF_FILE) == []


def test_unpinned_base_image(tmp_path):
    frm = cc.parse_def(DEF_TEXT).header["from"][0]
    path = variant(tmp_path, frm, frm.split("@")[0])
    findings = check(path)
    assert any("is not pinned by digest" in f and ":9:" in f for f in findings), findings


@pytest.mark.parametrize("section", ["post", "environment", "labels", "runscript", "test"])
def test_missing_section(tmp_path, section):
    path = variant(tmp_path, f"\n%{section}\n", f"\n%{section}-removed\n")
    assert f"{path}: required section %{section} is missing" in check(path, None)


def test_unpinned_pip_install_is_found(tmp_path):
    path = variant(
        tmp_path, "    /opt/venv/bin/pip check\n", "    /opt/venv/bin/pip install numpy einops==0.8.1\n"
    )
    findings = check(path)
    assert len(findings) == 1 and "pip install: numpy is not pinned exactly" in findings[0], findings
    assert re.search(r"taiyi\.def:\d+: ", findings[0])


def test_lock_without_require_hashes_is_found(tmp_path):
    path = variant(
        tmp_path, "--require-hashes --no-deps --no-build-isolation", "--no-deps --no-build-isolation"
    )
    findings = check(path)
    expected = "installs -r /opt/taiyi/containers/requirements.lock without --require-hashes"
    assert any(expected in f for f in findings), findings


def test_local_install_must_not_reach_an_index(tmp_path):
    path = variant(tmp_path, "--no-deps --no-index --no-build-isolation -e /opt/taiyi", "-e /opt/taiyi")
    findings = check(path)
    assert any("installs local /opt/taiyi without --no-index --no-deps" in f for f in findings), findings


def test_python3_m_pip_and_chained_commands_are_seen(tmp_path):
    path = variant(
        tmp_path,
        "    /opt/venv/bin/pip check\n",
        "    cd /tmp && python3 -m pip install 'rich>=13'; echo done\n",
    )
    findings = check(path)
    assert any("rich is not pinned exactly" in f for f in findings), findings


def test_heredoc_text_is_not_taken_for_commands(tmp_path):
    # A here-document body that mentions pip install is Python text, not a shell command.
    path = variant(
        tmp_path,
        "from importlib.metadata import version\n",
        "# pip install anything\nfrom importlib.metadata import version\n",
    )
    assert check(path) == []


def test_base_image_cuda_must_match_torch(tmp_path):
    path = variant(
        tmp_path,
        "From: nvidia/cuda:13.0.2-runtime-ubuntu24.04",
        "From: nvidia/cuda:12.4.1-runtime-ubuntu22.04",
    )
    findings = check(path)
    assert any("base image has CUDA 12.4 but torch in the lock is built for CUDA 13.0" in f for f in findings)


def test_bitsandbytes_without_kernels_for_torch_cuda(tmp_path):
    from importlib.metadata import version

    bnb = version("bitsandbytes")
    sha = "sha256:" + "d" * 64
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"torch==2.0.0+cu102 --hash={sha}\nbitsandbytes=={bnb} --hash={sha}\n")
    findings = cc.check_cuda("nvidia/cuda:10.2-runtime-ubuntu18.04", cc.read_lock(lock), "def:2")
    assert len(findings) == 1 and f"bitsandbytes=={bnb} ships CUDA kernels for" in findings[0]
    assert "not for CUDA 10.2" in findings[0]


def test_files_must_copy_the_lock(tmp_path):
    path = variant(tmp_path, "    containers/requirements.lock /opt/taiyi/containers/requirements.lock\n", "")
    assert any("%files does not copy the lock 'containers/requirements.lock'" in f for f in check(path))


def test_trimmed_test_section_is_found(tmp_path):
    path = variant(tmp_path, "out = bnb.matmul_4bit(x, wq.t(), quant_state=state)", "out = x @ w.t()")
    assert any("%test does not exercise 'matmul_4bit'" in f for f in check(path))


def test_garbage_header_is_named(tmp_path):
    path = variant(tmp_path, "Bootstrap: docker\n", "Bootstrap docker\n")
    findings = check(path, None)
    assert any(":1: header line is not 'Keyword: value'" in f for f in findings)
    assert any("no 'Bootstrap:' header" in f for f in findings)


def test_spython_is_lenient_where_we_are_not(tmp_path):
    """The reason spython is only a second opinion: it accepts a def we reject."""
    frm = cc.parse_def(DEF_TEXT).header["from"][0]
    path = variant(tmp_path, frm, frm.split("@")[0])
    path.write_text(path.read_text().replace("\n%test\n", "\n%tset\n"))
    from spython.main.parse.parsers import SingularityParser

    SingularityParser(str(path))  # parses without complaint
    findings = check(path)
    assert any("not pinned by digest" in f for f in findings)
    assert any("required section %test is missing" in f for f in findings)


def test_module_entry_point_exit_codes(tmp_path):
    script = str(cc.REPO_ROOT / "containers" / "check.py")
    ok = subprocess.run([sys.executable, script], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok (" in ok.stdout
    frm = cc.parse_def(DEF_TEXT).header["from"][0]
    bad = variant(tmp_path, frm, frm.split("@")[0])
    res = subprocess.run(
        [sys.executable, script, str(bad), str(cc.LOCK_FILE)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "not pinned by digest" in res.stdout


def _heredoc(section: str) -> str:
    body = "\n".join(line for _, line in cc.parse_def(DEF_TEXT).sections[section].body)
    m = re.search(r"<<'PY'\n(.*?)\nPY(?:\n|$)", body, re.S)
    assert m, f"no python here-document in %{section}"
    return m.group(1)


def test_test_section_python_runs_here_on_cpu():
    """The %test script's API calls are right: run it with the CPU path of bitsandbytes.

    Inside the image it runs on the GPU (its default device); that part needs a GPU node.
    """
    env = {**os.environ, "TAIYI_TEST_DEVICE": "cpu"}
    res = subprocess.run([sys.executable, "-c", _heredoc("test")], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "bitsandbytes 4-bit (nf4) matmul on cpu: ok" in res.stdout


def test_post_label_script_labels_what_is_installed():
    """%post measures versions into labels; run it here and compare with image_labels_match_lock."""
    from importlib.metadata import version

    res = subprocess.run([sys.executable, "-c", _heredoc("post")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    labels = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    assert labels["org.taiyi.version.peft"] == version("peft")
    lock = cc.read_lock(cc.LOCK_FILE)
    labels |= {image_lock.LABEL_LOCK_SHA: lock.sha256, image_lock.LABEL_COMMIT: "abc123"}
    prefix = image_lock.LABEL_VERSION_PREFIX
    names = [k.removeprefix(prefix) for k in labels if k.startswith(prefix)]
    differing = sorted(n for n in names if version(n) != lock.version(n))  # e.g. torch here is +cpu
    findings = image_lock.image_labels_match_lock(labels, lock)
    assert [f.split(":")[0] for f in findings] == differing
