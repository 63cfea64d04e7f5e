"""``taiyi doctor``: does this login node or laptop have what the suite needs for a profile?"""

from __future__ import annotations

import importlib
import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from taiyi_core.config import REPO_ROOT, ConfigError, Profile, load_preset

PACKAGES = [
    "torch",
    "transformers",
    "peft",
    "bitsandbytes",
    "datasets",
    "accelerate",
    "submitit",
    "rich",
    "pydantic",
]


@dataclass
class Check:
    name: str
    status: str  # pass | fail | warn | skip
    detail: str
    fix: str = ""


def _cmd(args: list[str], timeout: float = 20) -> tuple[int, str]:
    if shutil.which(args[0]) is None:
        return 127, f"{args[0]}: not found on PATH"
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(args)}: no answer within {timeout:.0f}s"
    text = (out.stdout or out.stderr).strip()
    return out.returncode, text.splitlines()[0] if text else ""


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        "python",
        "pass" if ok else "fail",
        f"{platform.python_version()} ({sys.executable})",
        "" if ok else "use Python >= 3.11 (make setup creates .venv with python3)",
    )


def check_packages() -> list[Check]:
    checks = []
    for name in PACKAGES:
        try:
            importlib.import_module(name)
            checks.append(Check(f"package {name}", "pass", metadata.version(name)))
        except Exception as exc:  # a broken install raises more than ImportError (e.g. bitsandbytes)
            checks.append(
                Check(
                    f"package {name}",
                    "fail",
                    f"{type(exc).__name__}: {exc}"[:160],
                    "make setup (CPU) or use the container image (GPU clusters)",
                )
            )
    return checks


def check_slurm(profile: Profile) -> list[Check]:
    fix = "load the SLURM client (module load slurm) or run on the login node; dev: make devcluster-up"
    checks = []
    for args in (
        ["sbatch", "--version"],
        ["squeue", "-h", "-u", "root", "-o", "%i"],
        ["sacct", "-n", "-X", "-S", "now", "-o", "JobID"],
    ):
        rc, text = _cmd(args)
        name = f"slurm {args[0]}"
        if rc == 0:
            checks.append(Check(name, "pass", text or "answers"))
        elif args[0] == "sacct":
            checks.append(
                Check(
                    name,
                    "warn",
                    f"exit {rc}: {text}",
                    "accounting unavailable: taiyi-status falls back to squeue (degraded)",
                )
            )
        else:
            checks.append(Check(name, "fail", f"exit {rc}: {text}", fix))
    part = profile.slurm.partition
    if part:
        rc, text = _cmd(["sinfo", "-h", "-p", part, "-o", "%P %a %D %G"])
        if rc == 0 and text:
            checks.append(Check(f"partition {part}", "pass", text))
        else:
            rc2, parts = _cmd(["sinfo", "-h", "-o", "%P"])
            checks.append(
                Check(
                    f"partition {part}",
                    "fail",
                    f"not found ({text or 'no such partition'})",
                    f"set slurm.partition in slurm/profiles/{profile.name}.yaml; "
                    f"sinfo lists: {parts if rc2 == 0 else '?'}",
                )
            )
    return checks


def wants_gpu(profile: Profile, preset_name: str | None) -> bool:
    steps = profile.resources
    if any((r.gpus_per_node or 0) > 0 for r in steps.values()):
        return True
    if preset_name:
        try:
            preset = load_preset(preset_name)
        except ConfigError:
            return False
        return any(
            r.gpus_per_node > 0 and (steps.get(s) is None or steps[s].gpus_per_node is None)
            for s, r in preset.resources.items()
        )
    return False


def check_gpu(profile: Profile, preset_name: str | None) -> Check:
    if not wants_gpu(profile, preset_name):
        return Check("gpu", "skip", f"profile {profile.name!r} asks for no GPU")
    if profile.executor == "slurm":
        part = profile.slurm.partition
        rc, text = _cmd(["sinfo", "-h", *(["-p", part] if part else []), "-o", "%G"])
        if rc == 0 and "gpu" in text:
            return Check("gpu", "pass", f"partition {part or '(default)'} offers {text}")
        return Check(
            "gpu",
            "fail",
            f"no gres gpu on partition {part or '(default)'} ({text or 'sinfo failed'})",
            "pick a GPU partition in the profile (slurm.partition / gpu_type)",
        )
    try:
        import torch

        if torch.cuda.is_available():
            return Check("gpu", "pass", f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}")
    except Exception as exc:
        return Check("gpu", "fail", f"torch: {exc}", "install the CUDA build of torch or use the container")
    return Check("gpu", "fail", "torch.cuda.is_available() is False", "run on a GPU node or use a CPU preset")


def check_container(profile: Profile) -> list[Check]:
    if not profile.container:
        return [Check("container", "skip", "profile runs jobs in the host environment (no container: key)")]
    image = Path(str(profile.container.get("image", ""))).expanduser().resolve()  # from the working directory
    checks = []
    if image.exists():
        checks.append(Check("container image", "pass", str(image)))
    else:
        checks.append(
            Check(
                "container image",
                "fail",
                f"{image} not found",
                "make container (on a machine with Apptainer), or point container.image at it",
            )
        )
    runtime = shutil.which("apptainer") or shutil.which("singularity")
    checks.append(
        Check(
            "apptainer",
            "pass" if runtime else "fail",
            runtime or "not on PATH",
            "" if runtime else "module load apptainer (the jobs run through it)",
        )
    )
    if runtime and image.exists():
        checks.append(check_image_labels(runtime, image))
    return checks


def check_sbatch_test_only(profile: Profile) -> Check:
    """``sbatch --test-only`` with the profile's partition, account and qos: SLURM validates them
    (and says when the job would start) without queuing anything."""
    s = profile.slurm
    args = ["sbatch", "--test-only", "--time=1", "--wrap", "true"]
    for flag, value in (("--partition", s.partition), ("--account", s.account), ("--qos", s.qos)):
        if value:
            args.append(f"{flag}={value}")
    if s.constraint:
        args.append(f"--constraint={s.constraint}")
    if shutil.which("sbatch") is None:
        return Check("sbatch --test-only", "skip", "sbatch not on PATH (see slurm sbatch)")
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("sbatch --test-only", "fail", f"{exc}"[:200], "check the SLURM client set-up")
    text = " ".join((out.stderr or out.stdout).split())
    what = ", ".join(
        f"{k}={v}" for k, v in (("partition", s.partition), ("account", s.account), ("qos", s.qos)) if v
    )
    if out.returncode == 0:
        return Check("sbatch --test-only", "pass", f"{what or 'defaults'}: {text}"[:200])
    return Check(
        "sbatch --test-only",
        "fail",
        f"{what or 'defaults'}: {text}"[:300],
        f"fix slurm.partition / account / qos in the profile ({profile.name}); sinfo and sacctmgr show yours",
    )


def check_preset(preset_name: str, overrides: Sequence[str] = ()) -> list[Check]:
    """The preset loads (typed sections), its model is a folder or in the HF cache, its raw data is there."""
    from taiyi_core.model_check import model_problem

    try:
        preset = load_preset(preset_name, overrides)
    except ConfigError as exc:
        return [Check("preset", "fail", str(exc), "fix the key named (README: Presets)")]
    checks = [Check("preset", "pass", f"{preset.name}: every section valid")]
    problem = model_problem(preset.model, preset.name)
    checks.append(
        Check("model", "fail", problem, "download it (to the cache jobs see), fix the path, or convert it")
        if problem
        else Check("model", "pass", preset.model.name_or_path)
    )
    raw = Path(preset.data.raw_dir)
    if not raw.is_dir():
        checks.append(
            Check(
                "raw data", "fail", f"data.raw_dir {raw} not found", "taiyi data fetch, or set data.raw_dir"
            )
        )
        return checks
    from taiyi_core.data.jobs import datasets_to_prepare

    items = list(datasets_to_prepare(preset))
    checks.append(
        Check("raw data", "pass", f"{len(items)} dataset task(s) with files under {raw}")
        if items
        else Check(
            "raw data",
            "fail",
            f"none of the preset's datasets has files under {raw}",
            f"taiyi catalog check --raw-dir {raw} (download instructions per dataset)",
        )
    )
    return checks


def _guarded(name: str, check: Callable[[], Check | list[Check]]) -> list[Check]:
    """A check that raises is a failed check naming the exception: doctor reports every problem."""
    try:
        out = check()
    except Exception as exc:  # noqa: BLE001 - whatever went wrong is the finding
        first = (str(exc).strip().splitlines() or [""])[0]
        return [Check(name, "fail", f"{type(exc).__name__}: {first}"[:300], "see the message")]
    return out if isinstance(out, list) else [out]


def run_checks(
    profile: Profile, preset_name: str | None = None, overrides: Sequence[str] = ()
) -> list[Check]:
    checks = _guarded("python", check_python) + _guarded("packages", check_packages)
    if profile.executor == "slurm":
        checks += _guarded("slurm", lambda: check_slurm(profile))
        checks += _guarded("sbatch --test-only", lambda: check_sbatch_test_only(profile))
    checks += _guarded("gpu", lambda: check_gpu(profile, preset_name))
    checks += _guarded("container", lambda: check_container(profile))
    if preset_name:
        checks += _guarded("preset", lambda: check_preset(preset_name, overrides))
    return checks


def submit_probe(profile: Profile) -> Check:
    """Submit a one-second job through the launcher and wait for its answer."""
    import tempfile

    from taiyi_core.config import Resources
    from taiyi_core.launch import JobFailed, Launcher
    from taiyi_core.launch.selftest import hello
    from taiyi_core.rundir import RunDir

    with tempfile.TemporaryDirectory(prefix="taiyi-doctor-", dir=REPO_ROOT) as tmp:
        launcher = Launcher(RunDir(Path(tmp) / "doctor"), profile)
        try:
            sub = launcher.submit_function(
                "doctor", hello, "doctor", resources=Resources(cpus_per_task=1, mem_gb=1, timeout_min=5)
            )
            result = sub.result()
        except JobFailed as exc:
            return Check("submit probe", "fail", str(exc).splitlines()[0], f"read {exc.log}")
        except Exception as exc:  # noqa: BLE001 - sbatch refusing the job (bad partition, account) included
            first = (" ".join(str(exc).split()) or type(exc).__name__)[:300]
            return Check("submit probe", "fail", first, "fix slurm.partition / account / qos in the profile")
        return Check("submit probe", "pass", f"job {sub.job_id} ran on {result['host']}")


def check_image_labels(runtime: str, image: Path) -> Check:
    """The image's labels (versions, lock hash) against containers/requirements.lock in this checkout."""
    from taiyi_core.launch.image_lock import image_labels_match_lock, labels_from_inspect

    try:
        out = subprocess.run(
            [runtime, "inspect", "--json", str(image)], capture_output=True, text=True, timeout=60
        )
        labels = labels_from_inspect(json.loads(out.stdout))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return Check(
            "image labels", "fail", f"{runtime} inspect failed: {exc}"[:200], "rebuild: make container"
        )
    findings = image_labels_match_lock(labels)
    if findings:
        return Check(
            "image labels",
            "fail",
            "; ".join(findings)[:300],
            "the image was built from another lock: make container, or check out its commit",
        )
    return Check("image labels", "pass", "versions and lock hash match containers/requirements.lock")


def container_self_test(image: str, runtime: str = "apptainer") -> str:
    """Runs inside a SLURM job on a GPU node: the image's %test (CUDA visible, bitsandbytes 4-bit matmul)."""
    out = subprocess.run([runtime, "test", "--nv", image], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(
            f"{runtime} test --nv {image} failed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}"
        )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "ok"


def submit_container_test(profile: Profile) -> Check:
    """The image's %test as a short job on the profile's GPU partition (needs Apptainer on the nodes)."""
    import tempfile

    from taiyi_core.config import Resources
    from taiyi_core.launch import JobFailed, Launcher
    from taiyi_core.rundir import RunDir

    if not profile.container:
        return Check("container %test", "skip", "profile has no container: key")
    image = Path(str(profile.container.get("image", ""))).expanduser()
    image = image if image.is_absolute() else REPO_ROOT / image
    host_profile = profile.model_copy(update={"container": None})  # `apptainer test` runs from the host side
    with tempfile.TemporaryDirectory(prefix="taiyi-doctor-", dir=REPO_ROOT) as tmp:
        launcher = Launcher(RunDir(Path(tmp) / "doctor"), host_profile)
        res = Resources(gpus_per_node=1, cpus_per_task=2, mem_gb=16, timeout_min=15)
        sub = launcher.submit_function("doctor-container", container_self_test, str(image), resources=res)
        try:
            return Check("container %test", "pass", f"job {sub.job_id}: {sub.result()}")
        except JobFailed as exc:
            return Check("container %test", "fail", str(exc).splitlines()[0], f"read {exc.log}")
