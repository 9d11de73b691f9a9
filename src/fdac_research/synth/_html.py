"""The HTML report of a synthetic release: gate verdict, utility, privacy, real-vs-synthetic
plots (inline SVG, deterministic bytes) and the data dictionary.

Plots show *proportions* in *fixed* bins (ages in bands, counts top-coded, durations in
bands) so that no real minimum, maximum or small count appears; the real proportions are
computed from counts rounded to 10 (a bar's height in the SVG must not give an exact real
count). They still describe the real data in aggregate, so the report goes through output
checking like any other output.
"""

from __future__ import annotations

import html
import io
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fdac_research import schema
from fdac_research.synth._metadata import synth_columns
from fdac_research.synth._utility import rounded_shares

__all__ = ["render_html", "PLOT_BINS"]

#: Fixed bins per numeric column: (edges, labels); the last bin is open-ended.
PLOT_BINS: dict[str, tuple[list[float], list[str]]] = {
    "adults.age_at_application": (
        [10, 18, 25, 30, 35, 40, 50],
        ["<18", "18-24", "25-29", "30-34", "35-39", "40-49", "50+"],
    ),
    "children.age_at_application": ([0, 1, 5, 10, 16], ["0", "1-4", "5-9", "10-15", "16+"]),
    "cases.duration_weeks": ([0, 26, 40, 52, 78], ["<26", "26-39", "40-51", "52-77", "78+"]),
    "cases.n_children": ([0, 1, 2, 3, 4], ["0", "1", "2", "3", "4+"]),
    "adults.hearings_attended_pct": ([0, 25, 50, 75], ["<25", "25-49", "50-74", "75+"]),
    "adults.prior_proceedings": ([0, 1, 2, 3], ["0", "1", "2", "3+"]),
    "adults.convictions": ([0, 1, 2, 3, 5], ["0", "1", "2", "3-4", "5+"]),
}
_SKIP = {
    "cases.case_id",
    "adults.case_id",
    "adults.person_id",
    "children.case_id",
    "children.person_id",
}
_MAX_LEVELS = 10


def _binned(v: pd.Series, key: str) -> pd.Series:
    if key in PLOT_BINS:
        edges, labels = PLOT_BINS[key]
        x = pd.to_numeric(v, errors="coerce").astype(float).to_numpy()
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(labels) - 1)
        out = np.array(labels, dtype=object)[idx]
        return pd.Series(np.where(np.isnan(x), "missing", out), dtype=object)
    s = v.astype(object).where(v.notna(), "missing").astype(str)
    return s


def _shares(real: pd.Series, synth: pd.Series, key: str) -> pd.DataFrame:
    r, s = _binned(real, key), _binned(synth, key)
    if key in PLOT_BINS:
        order = PLOT_BINS[key][1] + ["missing"]
    else:
        counts = r.value_counts()
        order = sorted(counts.index[:_MAX_LEVELS].tolist())
        r = r.where(r.isin(order), "other")
        s = s.where(s.isin(order), "other")
        order = order + ["other"]
    df = pd.DataFrame(
        {
            "real": rounded_shares(r.value_counts()).reindex(order).fillna(0.0),
            "synthetic": s.value_counts(normalize=True).reindex(order).fillna(0.0),
        }
    )
    return df[(df["real"] > 0) | (df["synthetic"] > 0)]


def _figure(real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame], table: str) -> str:
    cols = [c for c in synth_columns(table) if f"{table}.{c}" not in _SKIP]
    ncol = 3
    nrow = int(np.ceil(len(cols) / ncol))
    fig = Figure(figsize=(11, 2.6 * nrow))
    for i, c in enumerate(cols):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        sh = _shares(real[table][c], synth[table][c], f"{table}.{c}")
        x = np.arange(len(sh))
        ax.bar(x - 0.2, sh["real"], 0.4, label="real", color="#4c72b0")
        ax.bar(x + 0.2, sh["synthetic"], 0.4, label="synthetic", color="#dd8452")
        ax.set_xticks(x)
        ax.set_xticklabels([str(i_)[:14] for i_ in sh.index], rotation=45, ha="right", fontsize=7)
        ax.set_title(c, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "fdac-synth", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return "" if v is None else str(v)


def _sample_note(sizes: dict[str, Any]) -> str:
    """A sentence when the release was made from a sample of the real cases."""
    every = sizes.get("all_real_cases")
    if not every or every <= sizes["real_cases"]:
        return ""
    return (
        f"<p><b>Made from a sample.</b> The real data hold about {every:,} cases; the "
        f"synthesizer was trained, and the release judged, on a random sample of whole "
        f"families, about {sizes['real_cases']:,} cases (at most {sizes['max_cases']:,}). "
        "The utility and privacy figures below are the sample's.</p>"
    )


def render_html(
    report: dict[str, Any], real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]
) -> str:
    """The report as one self-contained HTML page (same inputs -> same bytes)."""
    u, p, g = report["utility"], report["privacy"], report["gate"]
    verdict = "PASSED" if g["passed"] else "REFUSED"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Synthetic release report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:"
        "collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}.FAIL{color:#b00}"
        "</style></head><body>",
        f"<h1>Synthetic release report: gate {verdict}</h1>",
        f"<p>Model <b>{html.escape(report['model']['name'])}</b> "
        f"{html.escape(str(report['model']['params']))}, seed {report['seed']}, scale "
        f"{report['scale']}; about {report['sizes']['train_cases']} training and "
        f"{report['sizes']['holdout_cases']} held-out real cases (rounded to 10; a family's cases, a mother's later case "
        "among them, are all on one side).</p>",
        _sample_note(report["sizes"]),
        "<h2>Release gate</h2>",
        _table([{**c, "passed": "ok" if c["passed"] else "FAIL"} for c in g["checks"]]),
        "<h2>Utility</h2><h3>pMSE with two-way interactions (S_pMSE ~1 ideal, &lt;3 good)</h3>",
        _table(
            [
                {
                    "table": t,
                    "s_pmse": v["s_pmse"],
                    "held-out real s_pmse": u["pmse_holdout_baseline"][t]["s_pmse"],
                    "pmse": v["pmse"],
                    "parameters": v["n_parameters"],
                }
                for t, v in u["pmse"].items()
            ]
        ),
        f"<h3>SDMetrics quality score: {u['quality']['score']:.3f}</h3>",
        _table([{"property": k, "score": v} for k, v in u["quality"]["properties"].items()]),
        "<h3>Analysis fidelity: FDAC vs comparison, risk difference (95% CI)</h3>",
        _table(
            [
                {
                    "outcome": f"{r['outcome']} ({r['population']})",
                    "method": r["method"],
                    "real": _effect(r.get("real")),
                    "synthetic": _effect(r.get("synthetic")),
                    "CIs overlap": r["ci_overlap"],
                    "inside real CI": r["inside_real_ci"],
                    "CI overlap (Karr)": r["overlap"],
                }
                for r in u["fidelity"]
            ]
        ),
        "<h3>Rules (violation rates before and after enforcement)</h3>",
        _table(
            [
                {
                    "rule": k,
                    "description": v["description"],
                    "model output": u["rules_raw"]["rules"][k]["rate"],
                    "released": v["rate"],
                }
                for k, v in u["rules"]["rules"].items()
            ]
        ),
        "<h3>Keys and children per case</h3>",
        _table(
            [
                {
                    "table": k,
                    "valid keys (model output)": v,
                    "valid keys (released)": u["key_validity"][k],
                }
                for k, v in u["key_validity_raw"].items()
            ]
        ),
        _table(
            [
                {"children": k, "real": v, "synthetic": u["children_per_case"]["synthetic"][k]}
                for k, v in u["children_per_case"]["real"].items()
            ]
        ),
        "<h2>Privacy</h2><h3>Exact copies of real training records</h3>",
        _table(
            [
                {"records": k, "synthetic": v, "held-out real": p["exact_copies"]["holdout"][k]}
                for k, v in p["exact_copies"]["synthetic"].items()
            ]
        ),
        "<h3>Real extremes</h3><p>Every released number is top- and bottom-coded at the k-th "
        "largest and k-th smallest training value of its column. Numeric columns whose released "
        "minimum or maximum equals the real one while fewer than "
        f"{g['config'].get('extreme_min_count', '?')} training records hold it: "
        + html.escape(", ".join(p.get("real_extremes_reproduced", [])) or "none")
        + "</p>",
    ]
    for pop, res in (p.get("risk") or {}).items():
        d = res["distances"]
        parts.append(f"<h3>{pop}: distances and attacks</h3>")
        parts.append(
            _table(
                [
                    {
                        "measure": "share closer to training than held-out (0.5 ideal)",
                        "value": d["share_closer_to_train"],
                    },
                    {
                        "measure": "median DCR synthetic to training",
                        "value": d["dcr_synthetic_to_train"]["median"],
                    },
                    {
                        "measure": "median DCR held-out to training",
                        "value": d["dcr_holdout_to_train"]["median"],
                    },
                ]
            )
        )
        attacks = {"singling_out": res.get("singling_out"), "linkability": res.get("linkability")}
        attacks.update({f"inference[{k}]": v for k, v in (res.get("inference") or {}).items()})
        parts.append(
            _table(
                [
                    {
                        "attack": k,
                        "risk": a["risk"]["value"],
                        "risk 95% CI": [a["risk"]["lower"], a["risk"]["upper"]],
                        "main success": a["main"]["value"],
                        "control success": a["control"]["value"],
                    }
                    for k, a in attacks.items()
                    if a is not None
                ]
            )
        )
    parts.append(
        "<h2>Real vs synthetic distributions (training data; proportions, fixed bins)</h2>"
    )
    for t in ("cases", "adults", "children"):
        parts.append(f"<h3>{t}</h3>")
        parts.append(_figure(real, synthetic, t))
    dd = schema.describe(schema.RESEARCH)
    parts.append("<h2>Data dictionary (quasi-identifiers and roles)</h2>")
    parts.append(_table(dd.to_dict("records")))  # type: ignore[arg-type]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _effect(e: dict[str, Any] | None) -> str:
    if not e:
        return "not estimable"
    return f"{e['risk_difference']:.3f} ({e['ci'][0]:.3f}, {e['ci'][1]:.3f})"
