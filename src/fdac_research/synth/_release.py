"""A synthetic release end to end: hold out real families, fit, sample, measure utility and
privacy, apply the gate, and write the release atomically (or refuse and write nothing).

What a release discloses about the real data, by design: no real minimum or maximum held by
fewer than ``k`` records (top/bottom-coding, checked by the gate); real row counts in the
reports rounded to 10 and the release's own size rounded to 10 cases; real distributions in
the report (children per case, the HTML plots) as shares of counts rounded to 10;
``linkage_quality`` counts rounded to 10. The reports still carry aggregate real figures by
purpose: the FDAC effect estimates on the training families (with their ``n``, which the
output-checking view needs), SDMetrics and pMSE scores, copy rates and attack success rates.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research._io import atomic_dir, sha256_file, write_json, write_table
from fdac_research._progress import Progress
from fdac_research.dataset import EXCLUSIONS_FILE, ResearchData, file_manifest, load_research
from fdac_research.exceptions import ReleaseRefusedError
from fdac_research.synth._base import BaseSynthesizer, check_scale, check_seed
from fdac_research.synth._cart import CARTSynthesizer
from fdac_research.synth._categories import CategoryCodes, apply_category_codes, rare_categories
from fdac_research.synth._fidelity import effect_fidelity
from fdac_research.synth._gate import GateCheck, ReleaseGateConfig, evaluate_gate
from fdac_research.synth._metadata import (
    DATA_TABLES,
    prepare_research,
    rule_violations,
    synth_columns,
)
from fdac_research.synth._names import DEFAULT_MODEL, MAX_TRAIN_CASES, MODEL_NAMES
from fdac_research.synth._privacy import privacy_report
from fdac_research.synth._sdv import HMASynthesizer
from fdac_research.synth._utility import (
    children_per_case,
    foreign_key_validity,
    pmse,
    quality_score,
    round_count,
)

__all__ = [
    "MODELS",
    "DEFAULT_MODEL",
    "make_synthesizer",
    "split_holdout",
    "evaluate_release",
    "ReleaseResult",
    "synthesise",
    "REPORT_JSON",
    "REPORT_HTML",
]

log = logging.getLogger(__name__)

#: Offered synthesizers by name.
MODELS: dict[str, type[BaseSynthesizer]] = {"cart": CARTSynthesizer, "hma": HMASynthesizer}
if tuple(MODELS) != MODEL_NAMES:  # pragma: no cover - kept in step by hand
    raise ImportError(f"synth model names out of step: {tuple(MODELS)} vs {MODEL_NAMES}")
REPORT_JSON = "synthetic_report.json"
REPORT_HTML = "synthetic_report.html"


def make_synthesizer(name: str, seed: int = 0) -> BaseSynthesizer:
    """A new synthesizer called ``name`` (one of :data:`MODELS`)."""
    if name not in MODELS:
        raise ValueError(f"unknown synthesizer {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](seed=seed)  # type: ignore[call-arg]


def split_holdout(
    tables: dict[str, pd.DataFrame],
    fraction: float,
    seed: int,
    families: pd.Series | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Split families into training and held-out parts.

    ``families`` gives the family id of each case id (the research folder's ``family_id``):
    a family's cases then go to the same side, so a mother's second case is never held out
    while her first trains the model (a held-out "unseen" family the model has seen would
    make every privacy baseline look closer than it is). Without it each case is its own
    family. ``fraction`` is the share of families held out.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {fraction!r}")
    case_ids = tables["cases"]["case_id"].astype(str)
    fam = case_ids if families is None else case_ids.map(families).fillna(case_ids)
    ids = np.sort(fam.unique())
    n_hold = int(round(fraction * len(ids)))
    if n_hold < 1 or n_hold >= len(ids):
        raise ValueError(
            f"holdout_fraction {fraction} of {len(ids)} families leaves no training or no "
            "held-out families; use more data or another fraction"
        )
    rng = np.random.default_rng([seed, 0x401D])
    held_families = set(rng.choice(ids, size=n_hold, replace=False))
    held = set(case_ids[fam.isin(held_families).to_numpy()])
    train, hold = {}, {}
    for name in DATA_TABLES:
        df = tables[name]
        mask = df["case_id"].astype(str).isin(held).to_numpy()
        train[name] = df[~mask].reset_index(drop=True)
        hold[name] = df[mask].reset_index(drop=True)
    return train, hold


def sample_families(
    tables: dict[str, pd.DataFrame],
    max_cases: int | None,
    seed: int,
    families: pd.Series | None = None,
) -> tuple[dict[str, pd.DataFrame], int]:
    """At most ``max_cases`` cases of ``tables``, whole families drawn at random.

    Families (``families``: family id by case id; each case its own family without it) are
    taken in a seeded random order until the next one would pass ``max_cases`` (the first is
    always taken). Returns the sampled tables and the number of cases they were drawn from;
    ``max_cases`` of ``None`` or 0, or no more cases than that, returns ``tables`` as they
    are.
    """
    n_cases = len(tables["cases"])
    if not max_cases or n_cases <= max_cases:
        return tables, n_cases
    if max_cases < 10:
        raise ValueError(f"max_cases must be at least 10 (or 0 for all cases), got {max_cases}")
    case_ids = tables["cases"]["case_id"].astype(str)
    fam = case_ids if families is None else case_ids.map(families).fillna(case_ids)
    sizes = fam.value_counts().sort_index()
    rng = np.random.default_rng([seed, 0x5A3F])
    order = sizes.index.to_numpy()[rng.permutation(len(sizes))]
    counts = sizes.loc[order].to_numpy()
    keep = order[: max(1, int(np.searchsorted(np.cumsum(counts), max_cases, side="right")))]
    chosen = set(case_ids[fam.isin(set(keep)).to_numpy()])
    out = {
        name: df[df["case_id"].astype(str).isin(chosen).to_numpy()].reset_index(drop=True)
        for name, df in tables.items()
    }
    return out, n_cases


def _family_ids(data: ResearchData) -> pd.Series | None:
    """Family id by case id, when the research folder has ``family_id`` (issue 14)."""
    cases = data.cases
    if "family_id" not in cases.columns or cases["family_id"].isna().all():
        return None
    ids = cases["case_id"].astype(str)
    return pd.Series(cases["family_id"].astype(str).to_numpy(), index=ids.to_numpy())


def _as_research(t: dict[str, pd.DataFrame], families: pd.Series | None = None) -> ResearchData:
    cases = t["cases"]
    if families is not None:  # the analysis then clusters by family (analysis.case_clusters)
        ids = cases["case_id"].astype(str)
        cases = cases.assign(family_id=ids.map(families).fillna(ids).to_numpy())
    return ResearchData(cases=cases, adults=t["adults"], children=t["children"])


def _finite(obj: Any) -> Any:
    """NaN/inf to ``None`` recursively (JSON without NaN)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _extremes(
    real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], min_count: int
) -> list[str]:
    """Numeric columns whose released minimum or maximum equals the real one *and* is held
    by fewer than ``min_count`` real records (a disclosive extreme; names only).

    An extreme shared by at least ``min_count`` records (say 200 parents with no conviction)
    identifies nobody; one held by a few does.
    """
    out = []
    for name in DATA_TABLES:
        for col in schema.RESEARCH.table(name).columns:
            if col.kind not in ("int", "float") or col.name not in synthetic[name]:
                continue
            r = pd.to_numeric(real[name][col.name], errors="coerce").dropna()
            s = pd.to_numeric(synthetic[name][col.name], errors="coerce").dropna()
            if not (len(r) and len(s)):
                continue
            for label, rv, sv in (("minimum", r.min(), s.min()), ("maximum", r.max(), s.max())):
                if sv == rv and int((r == rv).sum()) < min_count:
                    out.append(f"{name}.{col.name} ({label})")
    return out


def evaluate_release(
    train: dict[str, pd.DataFrame],
    holdout: dict[str, pd.DataFrame],
    raw: dict[str, pd.DataFrame],
    synthetic: dict[str, pd.DataFrame],
    *,
    seed: int = 0,
    n_attacks: int = 500,
    extreme_min_count: int = 10,
    category_min_count: int = 10,
    category_codes: CategoryCodes | None = None,
    families: pd.Series | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The utility and privacy reports of a release (see the package docstring).

    ``families`` (family id by case id) makes the real effect estimates cluster by family,
    as the outcomes report does; a release has no families, so its estimates cluster by case.

    ``privacy["real_extremes_reproduced"]`` lists the numeric columns whose released minimum
    or maximum equals the training one while fewer than ``extreme_min_count`` training
    records hold that value; ``privacy["real_categories_reproduced"]`` the columns releasing a
    category that fewer than ``category_min_count`` training families hold.

    The copies, distances and attacks compare the release with the real training and
    held-out families under the release's own category coding (``category_codes``, the
    synthesizer's ``category_codes_``): a coded category is then compared like with like,
    and a coded real family can still be found copied. The extremes are looked for in the real
    values; a released category is rare when fewer than ``category_min_count`` real families
    hold it under the same coding (a synthesizer that codes nothing is checked against the
    real categories themselves).
    """
    utility: dict[str, Any] = {
        "pmse": {t: pmse(train[t], synthetic[t], t) for t in DATA_TABLES},
        "pmse_holdout_baseline": {t: pmse(train[t], holdout[t], t) for t in DATA_TABLES},
        "quality": quality_score(train, synthetic),
        # what real unseen families score on the same measure (the gate's reference)
        "quality_holdout_baseline": quality_score(train, holdout),
        "rules_raw": rule_violations(raw),
        "rules": rule_violations(synthetic),
        "key_validity_raw": foreign_key_validity(raw),
        "key_validity": foreign_key_validity(synthetic),
        "children_per_case": {
            "real": children_per_case(train, rounded=True),
            "synthetic": children_per_case(synthetic),
        },
        # against the training families, which the model saw: the held-out split adds its
        # own sampling noise that no synthesizer can reproduce
        "fidelity": effect_fidelity(_as_research(train, families), _as_research(synthetic)),
    }
    cpc = utility["children_per_case"]
    utility["children_per_case"]["total_variation"] = 0.5 * sum(
        abs(cpc["real"][k] - cpc["synthetic"][k]) for k in cpc["real"]
    )
    codes = category_codes or {}
    privacy = privacy_report(
        apply_category_codes(train, codes),
        apply_category_codes(holdout, codes),
        synthetic,
        n_attacks=n_attacks,
        seed=seed,
    )
    privacy["real_extremes_reproduced"] = _extremes(train, synthetic, extreme_min_count)
    privacy["real_categories_reproduced"] = rare_categories(
        apply_category_codes(train, codes), synthetic, category_min_count
    )
    for key in ("pmse", "pmse_holdout_baseline"):
        for v in utility[key].values():
            v["n_real"] = round_count(v["n_real"])
    for v in utility["pmse_holdout_baseline"].values():
        v["n_synthetic"] = round_count(v["n_synthetic"])  # held-out real rows
    for res in (privacy.get("risk") or {}).values():
        for k in ("n_train", "n_holdout"):
            res[k] = round_count(res[k])
        so = (res.get("singling_out") or {}).get("details", {})
        if "evaluated_on_rows" in so:
            so["evaluated_on_rows"] = round_count(so["evaluated_on_rows"])
    return utility, privacy


@dataclass
class ReleaseResult:
    """What :func:`synthesise` did.

    Attributes
    ----------
    passed : bool
        Whether the release gate passed (and the release was written).
    checks : list of GateCheck
        Every gate check.
    report : dict
        The full JSON report (utility, privacy, gate, model, sizes).
    synthetic : ResearchData
        The synthetic data (written only when ``passed``).
    out : Path or None
        The release folder, when written.
    timings : dict
        Wall seconds of fit, sample and evaluation (not written to files: outputs stay
        byte-identical).
    """

    passed: bool
    checks: list[GateCheck]
    report: dict[str, Any]
    synthetic: ResearchData
    out: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[GateCheck]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        """A plain-text summary: verdict and each check."""
        head = "RELEASE PASSED the gate" if self.passed else "RELEASE REFUSED by the gate"
        lines = [head]
        for c in self.checks:
            mark = "ok  " if c.passed else "FAIL"
            lines.append(
                f"  {mark} {c.name}: {_fmt(c.value)} (threshold {_fmt(c.threshold)}) - {c.detail}"
            )
        return "\n".join(lines)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _linkage_quality(lq: pd.DataFrame | None) -> pd.DataFrame:
    """The release's linkage_quality: counts rounded to 10, rates to 2 decimals."""
    cols = schema.RESEARCH.table("linkage_quality").names
    if lq is None or lq.empty:
        return pd.DataFrame(
            {
                "agency": ["none"],
                "n_records": [0],
                "n_linked": [0],
                "match_threshold": [0.0],
                "precision": [np.nan],
                "recall": [np.nan],
            }
        )
    out = lq[[c for c in cols if c in lq.columns]].copy()
    for c in ("n_records", "n_linked"):
        out[c] = (pd.to_numeric(out[c]).astype(float) / 10).round().mul(10).astype("Int64")
    for c in ("match_threshold", "precision", "recall"):
        if c in out:
            out[c] = pd.to_numeric(out[c]).astype(float).round(2)
    return out


def synthesise(
    research: Path | str | ResearchData,
    out: Path | str | None,
    *,
    model: str | BaseSynthesizer = DEFAULT_MODEL,
    seed: int = 0,
    scale: float = 1.0,
    gate: ReleaseGateConfig | None = None,
    holdout_fraction: float = 0.2,
    report_dir: Path | str | None = None,
    n_attacks: int = 500,
    max_cases: int | None = MAX_TRAIN_CASES,
) -> ReleaseResult:
    """Make a synthetic release of a research dataset, gated on utility and privacy.

    Parameters
    ----------
    research : path or ResearchData
        The real research folder (validated) or loaded data.
    out : path or None
        Release folder (contract research layout + reports + manifest), replaced atomically;
        ``None`` evaluates without writing.
    model : str or BaseSynthesizer
        ``"cart"`` (default) or ``"hma"``, or an unfitted synthesizer object.
    seed : int
        Seeds the holdout split, the synthesizer and the attacks: same inputs and seed give
        byte-identical outputs.
    scale : float
        Synthetic cases relative to the real dataset's cases (the count is rounded to 10
        so that a release does not give the real number of cases).
    gate : ReleaseGateConfig, optional
        Thresholds (defaults documented in :class:`ReleaseGateConfig`).
    holdout_fraction : float
        Share of real families held out as the privacy baseline (never shown to the model).
    report_dir : path, optional
        Where the JSON and HTML reports are also written (always, pass or fail); a refused
        release writes its reports only here.
    n_attacks : int
        Attacks per attack type in the privacy evaluation.
    max_cases : int or None
        With more real cases than this, the release is made from a random sample of whole
        families of at most this many cases (:func:`sample_families`; the held-out split is
        taken from the sample, and the release has ``scale`` times the sample's cases). The
        report says so and gives both sizes. ``None`` or 0 uses every case.

    Raises
    ------
    ReleaseRefusedError
        The gate failed: the message lists every failed check; nothing is written to
        ``out``. The result is attached as ``err.result``.
    """
    seed = check_seed(seed)
    scale = check_scale(scale)
    gate = gate or ReleaseGateConfig()
    data = research if isinstance(research, ResearchData) else load_research(research)
    # A release is made to leave: families who objected to external sharing are not in it.
    listed = data.external_exclusions is not None
    data, n_withheld = data.for_external_use()
    if not listed:
        log.warning(
            "the research folder lists no external-sharing objections (%s absent): the "
            "release assumes there are none",
            EXCLUSIONS_FILE,
        )
    real, n_real_cases = sample_families(prepare_research(data), max_cases, seed, _family_ids(data))
    if len(real["cases"]) < n_real_cases:
        log.warning(
            "synthesising from a random sample of %s of the %s real cases (whole families; "
            "max_cases %s)",
            f"{len(real['cases']):,}",
            f"{n_real_cases:,}",
            f"{max_cases:,}",
        )
    synth = make_synthesizer(model, seed) if isinstance(model, str) else model
    families = _family_ids(data)
    train, holdout = split_holdout(real, holdout_fraction, seed, families)
    timings: dict[str, float] = {}
    # three long phases (fitting is minutes at a few thousand families): one step each
    with Progress("synthesis", total=3) as bar:
        bar.set_status(f"fitting {getattr(synth, 'name', type(synth).__name__)}")
        t0 = time.perf_counter()
        synth.fit(_as_research(train))
        timings["fit_s"] = time.perf_counter() - t0
        bar.update(status="sampling")
        t0 = time.perf_counter()
        # the release's size is rounded to 10 cases so that it does not give the real count
        n_target = max(10, round_count(round(scale * len(real["cases"]))))
        rel_scale = n_target / len(train["cases"])
        raw = synth.sample_raw(rel_scale, seed)
        released = synth.finalise(raw, seed)
        timings["sample_s"] = time.perf_counter() - t0
        bar.update(status="utility and privacy checks")
        synthetic = released.tables()
        t0 = time.perf_counter()
        utility, privacy = evaluate_release(
            train,
            holdout,
            raw,
            synthetic,
            seed=seed,
            n_attacks=n_attacks,
            extreme_min_count=gate.extreme_min_count,
            category_min_count=gate.category_min_count,
            category_codes=getattr(synth, "category_codes_", None),
            families=families,
        )
        checks = evaluate_gate(utility, privacy, gate)
        timings["evaluate_s"] = time.perf_counter() - t0
        bar.update()
    passed = all(c.passed for c in checks)
    source_manifest = None
    if data.folder is not None and (Path(data.folder) / "manifest.json").is_file():
        source_manifest = sha256_file(Path(data.folder) / "manifest.json")
    report = _finite(
        {
            "model": {
                "name": getattr(synth, "name", type(synth).__name__),
                "params": synth.get_params(),
                # the leaf size each tree was given (CART's cross-validated choice)
                **(
                    {"leaf_sizes": synth.leaf_sizes()}  # type: ignore[attr-defined]
                    if callable(getattr(synth, "leaf_sizes", None))
                    else {}
                ),
            },
            "seed": seed,
            "scale": scale,
            "holdout_fraction": holdout_fraction,
            "sizes": {
                "real_cases": round_count(len(real["cases"])),
                # the cases the sample was drawn from (equal to real_cases when not sampled)
                "all_real_cases": round_count(n_real_cases),
                "max_cases": max_cases or None,
                "train_cases": round_count(len(train["cases"])),
                "holdout_cases": round_count(len(holdout["cases"])),
                "synthetic": {t: len(synthetic[t]) for t in DATA_TABLES},
            },
            "source_manifest_sha256": source_manifest,
            "external_sharing_objections": (
                {
                    "cases_withheld": (
                        "fewer than 10" if n_withheld < 10 else str(round_count(n_withheld))
                    )
                }
                if listed
                else {
                    "cases_withheld": None,
                    "note": f"no {EXCLUSIONS_FILE} in the research folder",
                }
            ),
            "utility": utility,
            "privacy": privacy,
            "gate": {
                "passed": passed,
                "config": gate.to_dict(),
                "checks": [c.to_dict() for c in checks],
            },
        }
    )
    result = ReleaseResult(passed, checks, report, released, None, timings)
    if report_dir is not None:
        _write_reports(Path(report_dir), report, train, synthetic)
    if not passed:
        err = ReleaseRefusedError(result.summary() + "\nNothing was written to the release folder.")
        err.result = result  # type: ignore[attr-defined]
        raise err
    if out is not None:
        lq = _linkage_quality(data.linkage_quality)
        with atomic_dir(Path(out)) as tmp:
            for name in DATA_TABLES:
                write_table(
                    synthetic[name][synth_columns(name)],
                    tmp / f"{name}.csv",
                    published=True,
                )
            write_table(lq, tmp / "linkage_quality.csv", published=True)
            _write_reports(tmp, report, train, synthetic)
            manifest = file_manifest(
                tmp,
                made_by="fdac_research.synth",
                synthetic=True,
                model=report["model"],
                seed=seed,
                scale=scale,
                gate_passed=True,
                source_manifest_sha256=source_manifest,
            )
            write_json(manifest, tmp / "manifest.json")
            from fdac_research.validation import check_folder

            check_folder(tmp, "research")
        result.out = Path(out)
    return result


def _write_reports(
    folder: Path,
    report: dict[str, Any],
    real: dict[str, pd.DataFrame],
    synthetic: dict[str, pd.DataFrame],
) -> None:
    from fdac_research.synth._html import render_html

    folder.mkdir(parents=True, exist_ok=True)
    write_json(report, folder / REPORT_JSON)
    (folder / REPORT_HTML).write_text(render_html(report, real, synthetic), encoding="utf-8")
