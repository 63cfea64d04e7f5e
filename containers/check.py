"""Check the Apptainer definition file and its lock before anyone spends an hour building it.

``python containers/check.py [DEF [LOCK]]`` (what ``containers/build.sh`` runs first). Every check
returns findings ("file:line: what is wrong"); none means all passed. Apptainer is not needed.

What standard tools cover and what is left here: pip's own ``--require-hashes`` enforces the lock
inside the build (``%post``), but offline it cannot judge one (it looks every pin up in the index
before checking a hash), so the lock's format is read by ``taiyi_core.launch.image_lock``; each
``pip install`` line is read by pip's own option parser; spython is a second opinion on the file, but
it is lenient (drops unknown sections, accepts an unpinned base image, keeps no line numbers), so the
section split, the pinning rules and the CUDA agreement are checked here.
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from taiyi_core.launch.image_lock import LOCK_FILE, REPO_ROOT, Lock, as_lock, read_lock

DEF_FILE = REPO_ROOT / "containers" / "taiyi.def"
PYPROJECT = REPO_ROOT / "pyproject.toml"

KNOWN_SECTIONS = {
    "arguments", "setup", "files", "post", "environment", "labels", "runscript", "test", "startscript",
    "help", "appinstall", "appfiles", "appenv", "applabels", "apprun", "apptest", "apphelp", "appstart",
}  # fmt: skip
REQUIRED_SECTIONS = ("post", "environment", "labels", "runscript", "test")
# What %test must exercise (word match), so a trimmed test section is caught.
TEST_MUST_MENTION = ("torch", "transformers", "peft", "bitsandbytes", "taiyi_core", "cuda", "matmul_4bit")
# The environment the image's Python sees, for evaluating markers in pyproject dependencies.
IMAGE_MARKER_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.3",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


# --------------------------------------------------------------------------- the lock


def check_lock(lock: Lock | Path | str, pyproject: Path | str = PYPROJECT) -> list[str]:
    """Every pin exact and hashed; every pyproject dependency pinned in range."""
    lock = as_lock(lock)
    findings = list(lock.problems)
    data = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    for dep in data.get("project", {}).get("dependencies", []):
        req = Requirement(dep)
        if req.marker is not None and not req.marker.evaluate(IMAGE_MARKER_ENV):
            continue
        entry = lock.entries.get(canonicalize_name(req.name))
        if entry is None:
            findings.append(f"{lock.path}: {req.name} (pyproject.toml: {dep!r}) is missing from the lock")
        elif not req.specifier.contains(entry.version, prereleases=True):
            findings.append(
                f"{lock.path}:{entry.line}: {req.name}=={entry.version} does not satisfy "
                f"pyproject.toml's {dep!r}"
            )
    return findings


# --------------------------------------------------------------------------- CUDA versions


def _major_minor(text: str) -> tuple[int, int] | None:
    try:
        release = Version(text).release
    except InvalidVersion:
        return None
    return (release[0], release[1]) if len(release) >= 2 else None


def torch_cuda(lock: Lock) -> tuple[int, int] | None:
    """The CUDA version the locked torch is built for: ``+cuXYZ`` local tag, else its CUDA wheels."""
    torch = lock.entries.get("torch")
    if torch is None:
        return None
    local = Version(torch.version).local or ""
    m = re.fullmatch(r"cu(\d+)(\d)", local)
    if m:
        return int(m.group(1)), int(m.group(2))
    if local:  # +cpu, +rocm6.2, ...
        return None
    for name in (
        "cuda-toolkit",
        "nvidia-cuda-runtime",
        "nvidia-cuda-runtime-cu13",
        "nvidia-cuda-runtime-cu12",
    ):
        entry = lock.entries.get(name)
        if entry is not None:
            return _major_minor(entry.version)
    return None


def base_image_cuda(ref: str) -> tuple[int, int] | None:
    """CUDA major.minor from an image reference's tag: nvidia/cuda:13.0.2-..., pytorch:...-cuda12.4-..."""
    tag = ref.split("@", 1)[0].rsplit("/", 1)[-1]
    m = re.search(r"cuda[:\-_]?(\d+)\.(\d+)", tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def bitsandbytes_cuda_builds(version: str) -> set[tuple[int, int]] | None:
    """CUDA versions the installed bitsandbytes wheel ships kernels for, if it is ``version``.

    Read from the wheel's file list (libbitsandbytes_cuda130.so -> 13.0) without importing it;
    None when that version is not installed here, so it cannot be checked.
    """
    try:
        dist = metadata.distribution("bitsandbytes")
    except metadata.PackageNotFoundError:
        return None
    if dist.version != version:
        return None
    builds = set()
    for f in dist.files or []:
        m = re.fullmatch(r"libbitsandbytes_cuda(\d+)(\d)\.(so|dll|dylib)", Path(str(f)).name)
        if m:
            builds.add((int(m.group(1)), int(m.group(2))))
    return builds


def _fmt(v: tuple[int, int] | None) -> str:
    return f"{v[0]}.{v[1]}" if v else "unknown"


def check_cuda(from_ref: str, lock: Lock, where: str) -> list[str]:
    """Base image CUDA == torch's CUDA build, and the locked bitsandbytes ships kernels for it."""
    findings = []
    base = base_image_cuda(from_ref)
    torch = torch_cuda(lock)
    if base is None:
        findings.append(f"{where}: cannot tell the CUDA version of base image {from_ref!r} from its tag")
    if "torch" not in lock.entries:
        findings.append(f"{lock.path}: torch is not in the lock")
    elif torch is None:
        findings.append(
            f"{lock.path}:{lock.entries['torch'].line}: torch=={lock.entries['torch'].version} is not a "
            f"CUDA build (no +cuXYZ tag and no cuda-toolkit / nvidia-cuda-runtime pin)"
        )
    if base and torch and base != torch:
        findings.append(
            f"{where}: base image has CUDA {_fmt(base)} but torch in the lock is built for CUDA {_fmt(torch)}"
        )
    bnb = lock.entries.get("bitsandbytes")
    if bnb is None:
        findings.append(f"{lock.path}: bitsandbytes is not in the lock")
    elif torch is not None:
        builds = bitsandbytes_cuda_builds(bnb.version)
        if builds is not None and torch not in builds:
            shipped = ", ".join(_fmt(b) for b in sorted(builds)) or "none"
            findings.append(
                f"{lock.path}:{bnb.line}: bitsandbytes=={bnb.version} ships CUDA kernels for {shipped}, "
                f"not for CUDA {_fmt(torch)} (torch's build)"
            )
    return findings


# --------------------------------------------------------------------------- the definition file


@dataclass
class Section:
    name: str
    args: str
    line: int  # line of the %name header
    body: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class DefFile:
    path: str
    header: dict[str, tuple[str, int]]  # keyword (lower case) -> (value, line)
    sections: dict[str, Section]
    problems: list[str]


def parse_def(text: str, path: str = "<def>") -> DefFile:
    """Split a definition file into header keywords and %sections (bodies kept verbatim)."""
    header: dict[str, tuple[str, int]] = {}
    sections: dict[str, Section] = {}
    problems: list[str] = []
    current: Section | None = None
    for no, raw in enumerate(text.splitlines(), 1):
        m = re.match(r"^%(\S+)\s*(.*)$", raw)
        if m:
            name = m.group(1).lower()
            if name not in KNOWN_SECTIONS:
                problems.append(f"{path}:{no}: unknown section %{m.group(1)} (Apptainer would not run it)")
            if name in sections:
                problems.append(
                    f"{path}:{no}: section %{name} appears twice (first on line {sections[name].line})"
                )
            current = Section(name, m.group(2).strip(), no)
            sections[name] = current
            continue
        if current is not None:
            current.body.append((no, raw))
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z]+", key.strip()):
            problems.append(f"{path}:{no}: header line is not 'Keyword: value': {stripped!r}")
            continue
        header[key.strip().lower()] = (value.strip(), no)
    return DefFile(path, header, sections, problems)


def _shell_commands(body: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Shell command lines of a section: continuations joined, here-document bodies skipped."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    heredoc: str | None = None
    for no, raw in body:
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        if not buf:
            start = no
        if raw.rstrip().endswith("\\"):
            buf.append(raw.rstrip()[:-1])
            continue
        buf.append(raw)
        line = " ".join(part.strip() for part in buf)
        buf = []
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        if line.strip() and not line.strip().startswith("#"):
            out.append((start, line))
    return out


def _expand(word: str, variables: dict[str, str]) -> str:
    """Substitute $NAME / ${NAME} set earlier in the same section (unknown ones are left as they are)."""
    return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: variables.get(m.group(1), m.group(0)), word)


def _pip_install_args(command: str) -> list[list[str]]:
    """Arguments after ``install`` for every pip install in one shell line (pip, pip3, python -m pip)."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return []
    found = []
    for i, tok in enumerate(tokens):
        if tok != "install" or i == 0:
            continue
        prev = tokens[i - 1]
        is_pip = re.fullmatch(r"pip[0-9.]*", Path(prev).name) is not None
        if is_pip:
            args = []
            for t in tokens[i + 1 :]:
                if t and set(t) <= set(";&|"):
                    break
                args.append(t)
            found.append(args)
    return found


def _parse_pip_install(args: list[str]) -> tuple[Any, list[str]]:
    """pip's own ``install`` option parser (so every option pip knows, and its value, is read as pip
    reads it); (None, []) when pip rejects the options."""
    # setuptools first: pip's locations module removes setuptools' distutils shim and loads the
    # stdlib distutils, after which any later `import setuptools` in this process (torch's inductor
    # does one to compile kernels) fails its own assertion. With setuptools loaded first, both agree.
    import setuptools  # noqa: F401
    from pip._internal.commands import create_command

    command = create_command("install", isolated=True)  # no PIP_* variables or user config
    command.parser.exit = _refuse  # type: ignore[method-assign]  # optparse would print and exit
    try:
        options, positional = command.parse_args(list(args))
    except _PipUsageError:
        return None, []
    return options, list(positional)


class _PipUsageError(Exception):
    pass


def _refuse(status: int = 0, msg: str | None = None) -> NoReturn:
    raise _PipUsageError(msg or "")


def check_pip_install(args: list[str]) -> list[str]:
    """Problems with one ``pip install`` (empty when it installs only hashed, pinned or local things)."""
    problems = []
    options, positional = _parse_pip_install(args)
    if options is None:
        return [f"pip cannot read these install options: {' '.join(args)!r}"]
    req_files: list[str] = list(options.requirements)
    editable: list[str] = list(options.editables)
    local = list(editable)
    for p in positional:
        if "://" in p:
            problems.append(f"installs from a URL without a pin or hash: {p!r}")
        elif p.startswith(("/", ".", "~", "$")) or "/" in p:
            local.append(p)
        else:
            try:
                req = Requirement(p)
            except InvalidRequirement:
                problems.append(f"cannot read requirement {p!r}")
                continue
            specs = list(req.specifier)
            if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
                problems.append(f"{req.name} is not pinned exactly (got {p!r})")
    if req_files and not options.require_hashes:
        problems.append(f"installs -r {', '.join(req_files)} without --require-hashes")
    for f in req_files:
        if not f.endswith(".lock"):
            problems.append(f"installs -r {f!r}, which is not a .lock file")
    if local and not (options.no_index and options.ignore_dependencies):
        problems.append(
            f"installs local {', '.join(local)} without --no-index --no-deps (could fetch unpinned deps)"
        )
    if not req_files and not positional and not editable:
        problems.append("pip install with nothing to install")
    return problems


def check_def(
    def_path: Path | str = DEF_FILE,
    lock_path: Path | str | None = LOCK_FILE,
    pyproject: Path | str | None = PYPROJECT,
) -> list[str]:
    """All findings for a definition file (and its lock, when given)."""
    def_path = Path(def_path)
    d = parse_def(def_path.read_text(encoding="utf-8"), str(def_path))
    findings = list(d.problems)
    bootstrap = d.header.get("bootstrap")
    frm = d.header.get("from")
    if bootstrap is None:
        findings.append(f"{def_path}:1: no 'Bootstrap:' header")
    elif bootstrap[0] != "docker":
        findings.append(
            f"{def_path}:{bootstrap[1]}: Bootstrap is {bootstrap[0]!r}; expected 'docker' (digest-pinned)"
        )
    if frm is None:
        findings.append(f"{def_path}:1: no 'From:' header")
    elif not _DIGEST.search(frm[0]):
        findings.append(
            f"{def_path}:{frm[1]}: base image {frm[0]!r} is not pinned by digest (@sha256:<64 hex>)"
        )
    for name in REQUIRED_SECTIONS:
        if name not in d.sections:
            findings.append(f"{def_path}: required section %{name} is missing")
    post = d.sections.get("post")
    if post is not None:
        n_pip = 0
        variables: dict[str, str] = {}
        for no, command in _shell_commands(post.body):
            assignment = re.fullmatch(r"\s*(?:export\s+)?([A-Za-z_]\w*)=(\S*)\s*", command)
            if assignment:
                variables[assignment.group(1)] = _expand(assignment.group(2).strip("'\""), variables)
            for args in _pip_install_args(command):
                n_pip += 1
                args = [_expand(a, variables) for a in args]
                findings += [f"{def_path}:{no}: pip install: {p}" for p in check_pip_install(args)]
        if n_pip == 0:
            findings.append(f"{def_path}:{post.line}: %post installs nothing with pip (expected the lock)")
    env = d.sections.get("environment")
    if env is not None and not any("HF_HOME" in line for _, line in env.body):
        findings.append(f"{def_path}:{env.line}: %environment does not set HF_HOME (cache on a bind mount)")
    test = d.sections.get("test")
    if test is not None:
        text = "\n".join(line for _, line in test.body)
        for word in TEST_MUST_MENTION:
            if not re.search(rf"\b{re.escape(word)}\b", text):
                findings.append(f"{def_path}:{test.line}: %test does not exercise {word!r}")
    runscript = d.sections.get("runscript")
    if runscript is not None and not any(re.search(r"\btaiyi\b", line) for _, line in runscript.body):
        findings.append(f"{def_path}:{runscript.line}: %runscript does not run the taiyi CLI")
    if lock_path is not None:
        lock = read_lock(lock_path)
        findings += check_lock(lock, pyproject) if pyproject is not None else list(lock.problems)
        files = d.sections.get("files")
        rel = _relative_to_repo(Path(lock_path))
        if files is None or not any(line.split()[:1] == [rel] for _, line in files.body if line.split()):
            findings.append(f"{def_path}: %files does not copy the lock {rel!r} into the image")
        if frm is not None:
            findings += check_cuda(frm[0], lock, f"{def_path}:{frm[1]}")
    return findings


def _relative_to_repo(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def spython_opinion(def_path: Path | str = DEF_FILE) -> list[str]:
    """A second opinion from spython's parser: it must read the file and see the same base image.

    spython is lenient (drops unknown sections, lower-cases headers), so this only catches files it
    cannot make sense of; ``check_def`` is the validator.
    """
    from spython.logger import bot
    from spython.main.parse.parsers import SingularityParser

    def_path = Path(def_path)
    level, bot.level = bot.level, -5  # its warnings ("SETUP is error prone") are not findings
    try:
        recipe = SingularityParser(str(def_path)).recipe
    except Exception as exc:  # spython raises bare exceptions on malformed input
        return [f"{def_path}: spython could not parse it: {exc}"]
    finally:
        bot.level = level
    findings = []
    layer = next(iter(recipe.values())) if isinstance(recipe, dict) and recipe else recipe
    from_header = getattr(layer, "fromHeader", None) or ""
    ours = parse_def(def_path.read_text(encoding="utf-8"), str(def_path)).header.get("from", ("", 0))[0]
    if from_header.strip().lower() != ours.strip().lower():
        findings.append(f"{def_path}: spython reads the base image as {from_header!r}, we read {ours!r}")
    install = "\n".join(getattr(layer, "install", []) or [])
    if "--require-hashes" not in install:
        findings.append(f"{def_path}: spython sees no hash-checked pip install in %post")
    return findings


def main(argv: list[str] | None = None) -> int:
    """``python containers/check.py [DEF [LOCK]]``: print findings, exit 1 if any."""
    args = sys.argv[1:] if argv is None else argv
    def_path = Path(args[0]) if args else DEF_FILE
    lock_path = Path(args[1]) if len(args) > 1 else LOCK_FILE
    findings = check_def(def_path, lock_path) + spython_opinion(def_path)
    for f in findings:
        print(f)
    if not findings:
        cuda = _fmt(torch_cuda(read_lock(lock_path)))
        print(f"{def_path}: ok (sections, digest, pinned installs, lock, CUDA {cuda})")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
