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


_LAYOUT_SCRIPT = """<script>
window.addEventListener('load', function () {
  var overflow = [], alt = [];
  document.querySelectorAll('table').forEach(function (t, i) {
    var box = t.getBoundingClientRect();
    var parent = (t.closest('.jp-OutputArea-output') || t.parentElement).getBoundingClientRect();
    if (box.right > parent.right + 1 || box.right > window.innerWidth) {
      var cap = t.querySelector('caption');
      overflow.push(i + ': ' + Math.round(box.width) + 'px ' + (cap ? cap.textContent : '').slice(0, 60));
    }
  });
  document.querySelectorAll('img').forEach(function (m) {
    var a = (m.getAttribute('alt') || '').trim();
    if (!a || a.indexOf('No description') >= 0) alt.push(m.getAttribute('src').slice(0, 40));
  });
  document.body.setAttribute('data-fdac-check', JSON.stringify(
    {overflow: overflow, alt: alt, tables: document.querySelectorAll('table').length}));
});
</script>"""


def layout_problems(page: Path, width: int = 1400) -> dict[str, list[str]]:
    """Open a copy of ``page`` at ``width`` px with a script that measures every table and
    image: tables wider than their column (or the window) and images without real alt text
    (nbconvert's placeholder "No description has been provided" counts as none)."""
    import json
    import re

    exe = chromium()
    assert exe is not None
    text = page.read_text(encoding="utf-8")
    assert "</body>" in text, f"{page.name} has no </body>"
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / page.name
        probe.write_text(text.replace("</body>", _LAYOUT_SCRIPT + "</body>", 1), encoding="utf-8")
        proc = subprocess.run(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size={width},2000",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'data-fdac-check="([^"]*)"', proc.stdout)
    assert m, f"{page.name}: the layout probe did not run"
    import html

    found = json.loads(html.unescape(m.group(1)))
    return {"overflow": found["overflow"], "alt": found["alt"]}
