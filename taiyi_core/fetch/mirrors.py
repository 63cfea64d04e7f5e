"""Base-URL rewrites for clusters behind a proxy or with an internal mirror.

A mirror maps a URL prefix to another: ``https://github.com=https://mirror.example/github`` turns
``https://github.com/o/r/archive/c.tar.gz`` into ``https://mirror.example/github/o/r/archive/c.tar.gz``.
They come from the profile (``mirrors:`` mapping) and from ``TAIYI_MIRROR`` (``FROM=TO`` pairs
separated by commas or spaces), the variable winning for the same prefix. The longest matching prefix
applies, on a path boundary. Checksums stay those of the catalog: a mirror must serve the same bytes.
The Hub's own mirror variable, ``HF_ENDPOINT``, is honoured by huggingface_hub; a mirror for
``https://huggingface.co`` given here is passed to it as the endpoint.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

ENV_VAR = "TAIYI_MIRROR"
HUB = "https://huggingface.co"


class MirrorError(ValueError):
    """A mirror setting is not ``FROM=TO`` with two http(s) URLs."""


def parse(spec: str, where: str = ENV_VAR) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in re.split(r"[,\s]+", spec.strip()):
        if not item:
            continue
        src, sep, dst = item.partition("=")
        if not sep:
            raise MirrorError(f"{where}: {item!r} is not FROM=TO (e.g. https://github.com=https://mirror/github)")
        out.update(_checked(src, dst, where))
    return out


def _checked(src: str, dst: str, where: str) -> dict[str, str]:
    for url in (src, dst):
        if not re.match(r"^https?://[^/\s]+", url):
            raise MirrorError(f"{where}: {url!r} is not an http(s) URL")
    return {src.rstrip("/"): dst.rstrip("/")}


def load(profile_mirrors: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
         profile_name: str = "profile") -> dict[str, str]:
    """The profile's mirrors overlaid with those of ``TAIYI_MIRROR``."""
    environ = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for src, dst in (profile_mirrors or {}).items():
        out.update(_checked(src, dst, f"{profile_name}: mirrors"))
    out.update(parse(environ.get(ENV_VAR, "")))
    return out


def rewrite(url: str, mirrors: Mapping[str, str]) -> str:
    for prefix in sorted(mirrors, key=len, reverse=True):
        if url == prefix or url.startswith(prefix + "/"):
            return mirrors[prefix] + url[len(prefix):]
    return url


def hub_endpoint(mirrors: Mapping[str, str]) -> str | None:
    """The Hub endpoint a mirror names, or None (huggingface_hub then uses HF_ENDPOINT or its default)."""
    return mirrors.get(HUB)
