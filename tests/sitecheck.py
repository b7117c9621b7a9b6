"""Helpers the report, page, build-safety and browser tests share: file digests, a quiet
build of the tiny fixture site, the collector of URLs a page would fetch, and Debian's
Chromium (required under ``make test``, skipped loudly elsewhere)."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import quiet
from sting_outcomes.site.build import build


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(tiny: dict[str, Path], **kw):
    """Build the tiny site of the ``tiny`` fixture quietly."""
    return build(
        tiny["out"],
        data_dir=tiny["data"],
        notebooks_dir=tiny["notebooks"],
        cache_dir=tiny["cache"],
        progress=quiet,
        **kw,
    )


class ResourceCollector(HTMLParser):
    """Collects the URLs that make a browser fetch something: src/href of script, link, img, iframe…"""

    LOADING = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "link": "href",
        "source": "src",
        "video": "src",
        "audio": "src",
        "embed": "src",
        "object": "data",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = self.LOADING.get(tag)
        for name, value in attrs:
            if value and (name == wanted or name == "srcset"):
                self.urls.append(value)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Debian's chromium. ``make test`` installs it beforehand and sets
    STING_OUTCOMES_REQUIRE_BROWSER=1, so there a missing browser fails; elsewhere the
    browser tests are skipped, loudly. Never installs anything itself."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "BROWSER TESTS SKIPPED: chromium is not installed (make test installs it: apt-get install chromium)"
        if os.environ.get("STING_OUTCOMES_REQUIRE_BROWSER") == "1":
            pytest.fail(reason.replace("SKIPPED", "FAILED"))
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return path
