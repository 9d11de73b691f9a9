"""The in-memory engine: candidate pairs and comparison levels in pandas, the classifier from
recordlinkage (ECM, the unsupervised Fellegi-Sunter estimator of Herzog, Scheuren & Winkler).

For small jobs and as an independent cross-check of the Splink engine: the same blocking and
the same levels, but a different estimator: ECM on one binary agreement feature per comparison.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from fdac_research.exceptions import FdacResearchError, TrainingError
from fdac_research.linkage._blocking import block_pairs, symmetric_rules
from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._levels import comparison_vectors

__all__ = ["RecordLinkageEngine", "candidate_pairs"]

log = logging.getLogger(__name__)

_MAX_PAIRS = 20_000_000


def candidate_pairs(
    model: LinkageModelConfig,
    frames: dict[str, pd.DataFrame],
    link_type: str,
    skip_within: tuple[str, ...] = (),
) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Candidate pairs from the model's blocking rules (union, no duplicates).

    Returns one ``(left_name, right_name, il, ir)`` per dataset pair compared: between
    datasets for linking, within each dataset for de-duplication.
    """
    names = list(frames)
    jobs: list[tuple[str, str | None]] = []
    if link_type in ("link_only", "link_and_dedupe"):
        jobs += [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    if link_type in ("dedupe_only", "link_and_dedupe"):
        jobs += [(n, None) for n in names if n not in skip_within or link_type == "dedupe_only"]
    out = []
    for ln, rn in jobs:
        left = frames[ln]
        right = None if rn is None else frames[rn]
        parts = [
            pd.DataFrame(dict(zip(("il", "ir"), block_pairs(left, right, r), strict=True)))
            for r in symmetric_rules(model.blocking_rules)
        ]
        pairs = (
            pd.concat(parts, ignore_index=True)
            .drop_duplicates()
            .sort_values(["il", "ir"], kind="stable")
        )
        if len(pairs) > _MAX_PAIRS:
            raise FdacResearchError(
                f"the recordlinkage engine would compare {len(pairs):,} pairs of {ln} and {rn or ln}; "
                f"it holds at most {_MAX_PAIRS:,} in memory. Use --engine splink (DuckDB) or stricter blocking rules."
            )
        out.append((ln, rn or ln, pairs["il"].to_numpy(), pairs["ir"].to_numpy()))
    return out


def _top_level(comp: object) -> int:
    levels = comp.levels  # type: ignore[attr-defined]
    return next(k for k, lv in enumerate(levels) if not lv.is_null)


def _features(model: LinkageModelConfig, gamma: pd.DataFrame) -> pd.DataFrame:
    """One binary feature per comparison: agreement at its top (exact) level.

    This is the classic ECM set-up (binary agreement patterns, the 'jaro' initialisation
    assumes 1 means agreement); the lower, partial levels are the Splink engine's job.
    """
    return pd.DataFrame(
        {
            c.name: (gamma[f"gamma_{c.name}"].to_numpy() == _top_level(c)).astype(np.int8)
            for c in model.comparisons
        },
        index=gamma.index,
    )


class RecordLinkageEngine:
    """In-memory engine with recordlinkage's ECM classifier.

    Parameters
    ----------
    seed : int
        Unused by ECM (deterministic given the pairs); kept for a uniform engine interface.
    max_iterations : int, optional
        ECM iterations (default: the model's ``em.max_iterations`` times 4).
    skip_within : tuple of str
        Datasets whose records are not compared with each other.
    """

    name = "recordlinkage"
    backend = "pandas"

    def __init__(
        self, seed: int = 0, max_iterations: int | None = None, skip_within: tuple[str, ...] = ()
    ) -> None:
        self.seed = seed
        self.skip_within = tuple(skip_within)
        self.max_iterations = max_iterations

    def _vectors(
        self, model: LinkageModelConfig, frames: dict[str, pd.DataFrame], link_type: str
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        meta, gammas = [], []
        for ln, rn, il, ir in candidate_pairs(model, frames, link_type, self.skip_within):
            g = comparison_vectors(model, frames[ln], frames[rn], il, ir)
            gammas.append(g)
            meta.append(
                pd.DataFrame(
                    {
                        "source_l": ln,
                        "id_l": frames[ln]["unique_id"].to_numpy(dtype=object)[il],
                        "source_r": rn,
                        "id_r": frames[rn]["unique_id"].to_numpy(dtype=object)[ir],
                    }
                )
            )
        if not meta:
            raise FdacResearchError("no datasets to compare")
        return pd.concat(meta, ignore_index=True), pd.concat(gammas, ignore_index=True)

    def fit(
        self,
        model: LinkageModelConfig,
        frames: dict[str, pd.DataFrame],
        link_type: str,
        labels: pd.DataFrame | None = None,
    ) -> LinkageModelConfig:
        """Fit ECM on the candidate pairs; store its per-level P(x=1|M) and P(x=1|U) as m, u."""
        from recordlinkage import ECMClassifier

        meta, gamma = self._vectors(model, frames, link_type)
        between = (meta["source_l"] != meta["source_r"]).to_numpy()
        if (
            between.any()
        ):  # train on pairs between datasets: within-dataset pairs are mostly relatives
            gamma = gamma[between].reset_index(drop=True)
        if len(gamma) == 0:
            raise TrainingError(
                "the blocking rules produced no candidate pairs; nothing to train on"
            )
        x = _features(model, gamma)
        clf = ECMClassifier(
            binarize=None, max_iter=self.max_iterations or 4 * model.em.max_iterations
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(x)
        m_probs, u_probs = clf.m_probs, clf.u_probs
        m_u: dict[str, list[tuple[float | None, float | None]]] = {}
        for comp in model.comparisons:
            top = _top_level(comp)
            m1 = float(m_probs.get(comp.name, {}).get(1, 1e-9))
            u1 = float(u_probs.get(comp.name, {}).get(1, 1e-9))
            vals: list[tuple[float | None, float | None]] = []
            for k, lv in enumerate(comp.levels):
                if lv.is_null:
                    vals.append((None, None))
                elif k == top:
                    vals.append((m1, u1))
                else:  # ECM sees only 'agree' / 'not agree': every lower level shares 1 - m, 1 - u
                    vals.append((max(1e-9, 1 - m1), max(1e-9, 1 - u1)))
            m_u[comp.name] = vals
        prior = float(np.clip(clf.p, 1e-9, 1 - 1e-9))
        log.info("ECM: %d candidate pairs, estimated share of matches %.4f", len(x), prior)
        return model.with_parameters(prior, m_u)

    def predict(
        self,
        model: LinkageModelConfig,
        frames: dict[str, pd.DataFrame],
        link_type: str,
        floor: float | None = None,
    ) -> pd.DataFrame:
        """Score candidate pairs with the binary-feature ECM model stored in ``model``."""
        meta, gamma = self._vectors(model, frames, link_type)
        x = _features(model, gamma)
        prior = model.prior if model.prior is not None else 1e-4
        logit = np.full(len(x), np.log2(prior / (1 - prior)))
        for comp in model.comparisons:
            top = comp.levels[_top_level(comp)]
            m = min(max(top.m_probability or 1e-9, 1e-9), 1 - 1e-9)
            u = min(max(top.u_probability or 1e-9, 1e-9), 1 - 1e-9)
            on = x[comp.name].to_numpy() == 1
            logit += np.where(on, np.log2(m / u), np.log2((1 - m) / (1 - u)))
        out = meta.copy()
        out["match_weight"] = logit
        out["match_probability"] = 1.0 / (1.0 + np.power(2.0, -logit))
        for c in gamma.columns:
            out[c] = gamma[c].to_numpy()
        thr = model.prediction_floor if floor is None else floor
        return out[out["match_probability"] >= thr].reset_index(drop=True)
