"""Open pages in headless Chromium and check that every link and image resolves."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag == "img" and a.get("src"):
            self.images.append(a["src"] or "")


def dump_dom(page: Path) -> str:
    """The DOM of ``page`` after Chromium has loaded and rendered it."""
    exe = chromium()
    assert exe is not None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def check_site(index: Path) -> dict[str, int]:
    """Open ``index`` and every local page it links to; every local link must point at an
    existing file and every image must be a decodable inline image or an existing file.
    Returns counts of what was checked."""
    seen: set[Path] = set()
    todo = [index.resolve()]
    n_links = n_images = 0
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        dom = dump_dom(page) if page.suffix == ".html" else ""
        if page.suffix == ".html":
            assert "<body" in dom, f"{page} did not render"
        refs = _Refs()
        refs.feed(dom)
        for href in refs.links:
            url = urlparse(href)
            if url.scheme in ("http", "https", "mailto") or href.startswith("#"):
                continue
            target = (page.parent / unquote(url.path)).resolve()
            assert target.exists(), f"{page.name}: link {href!r} does not resolve"
            n_links += 1
            if target.suffix == ".html":
                todo.append(target)
        for src in refs.images:
            if src.startswith("data:image/png;base64,"):
                data = base64.b64decode(src.split(",", 1)[1])
                assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{page.name}: inline image is not a PNG"
            elif src.startswith("data:image/svg+xml"):
                pass
            else:
                target = (page.parent / unquote(urlparse(src).path)).resolve()
                assert target.is_file(), f"{page.name}: image {src!r} does not resolve"
            n_images += 1
    return {
        "pages": len([p for p in seen if p.suffix == ".html"]),
        "links": n_links,
        "images": n_images,
    }
