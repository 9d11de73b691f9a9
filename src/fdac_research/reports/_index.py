"""``reports/index.html``: one page linking every report and published table."""

from __future__ import annotations

import html
from pathlib import Path

__all__ = ["write_index"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}
.note{color:#555;font-size:.9rem}"""


def write_index(
    out: Path, reports: list[tuple[str, str, str]], tables: list[str], notes: list[str]
) -> Path:
    """Write ``out/index.html``. ``reports`` holds (file, title, description) triples;
    ``tables`` the relative paths of published CSV tables."""
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(f)}">{html.escape(t)}</a></td><td>{html.escape(d)}</td></tr>'
        for f, t, d in reports
    )
    trows = "\n".join(f'<li><a href="{html.escape(t)}">{html.escape(t)}</a></li>' for t in tables)
    nrows = "\n".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fdac-research reports</title><style>{_CSS}</style></head>
<body>
<h1>fdac-research: published findings</h1>
<p class="note">Every table below passed the statistical disclosure control output check before it was written.
<a href="manifest.json">manifest.json</a> records the code version, parameters, input and output hashes.</p>
<h2>Reports</h2>
<table><tr><th>report</th><th>what it shows</th></tr>
{rows}
</table>
<h2>Published tables (CSV)</h2>
<ul>
{trows}
</ul>
<h2>About these data</h2>
<ul>
{nrows}
</ul>
</body></html>
"""
    path = Path(out) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
