"""A Hugging Face Hub repository at a pinned revision, through huggingface_hub.

``snapshot_download`` does the work: it honours ``HF_ENDPOINT`` (or the endpoint a mirror names),
``HF_HUB_OFFLINE`` (then only the cache is used) and the cache (``HF_HOME`` / ``HF_HUB_CACHE``), and
verifies what it downloads. The snapshot's files are then copied (links resolved) into the dataset's
folder, so data/raw holds plain files the readers and the stamps can see.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from taiyi_core.catalog.download import HubRepo
from taiyi_core.fetch.errors import FetchError


def fetch_repo(repo: HubRepo, dest: Path, *, endpoint: str | None = None,
               cache_dir: Path | None = None) -> list[str]:
    """Copy the repo's files at ``repo.revision`` (those matching ``repo.allow``) into ``dest / repo.to``."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import filter_repo_objects

    try:
        snapshot = Path(snapshot_download(
            repo.repo, repo_type=repo.repo_type, revision=repo.revision, allow_patterns=repo.allow or None,
            endpoint=endpoint, cache_dir=cache_dir,
        ))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FetchError(f"hub {repo.repo}@{repo.revision[:12]}: {first}") from None
    target = dest / repo.to
    written = []
    files = [p.relative_to(snapshot).as_posix() for p in sorted(snapshot.rglob("*"))
             if p.is_file() and ".cache" not in p.relative_to(snapshot).parts]
    # a cached snapshot folder may hold more than was asked for (other allow patterns, earlier calls)
    for name in filter_repo_objects(files, allow_patterns=repo.allow or None):
        path, rel = snapshot / name, Path(name)
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path.resolve(), out)
        written.append((Path(repo.to) / rel).as_posix() if repo.to != "." else rel.as_posix())
    if not written:
        raise FetchError(f"hub {repo.repo}@{repo.revision[:12]}: no file matches {repo.allow or 'the repo'}")
    return written
