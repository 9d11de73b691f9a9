"""A relational sequential-CART synthesizer of the research dataset (synthpop's method on
scikit-learn trees, extended to cases -> adults, children).

Order of synthesis
------------------
1. **cases**, column by column: court, local authority, cohort, application year,
   number of children, the case's adult roles (e.g. ``father;mother``), duration, contested
   final hearing, expert witness; each column conditioned on the ones before it.
2. **mothers** (one per ``mother`` in the roles), each conditioned on her case.
3. **other adults** (fathers, other carers), conditioned on the case, their role and the
   first mother's attributes (:data:`MOTHER_FEATURES`).
4. **children**, exactly ``n_children`` per case, eldest first, each conditioned on the case,
   the mother and the previous sibling's age and placement (siblings' outcomes go together).

Exact copies (an adult row or a whole family identical to a real one on every attribute)
are redrawn (whole families, up to ``max_copy_retries`` rounds, each round drawing and
checking only the families still copying, and at most ``max_copy_redraw_share`` of the
release in all); see :mod:`fdac_research.synth._copies`. Whatever is left is logged and
judged by the release gate.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from fdac_research.synth._base import BaseSynthesizer, check_seed
from fdac_research.synth._cart_tree import ColumnTree, Encoder
from fdac_research.synth._copies import contains_sorted, family_text, row_text, sorted_unique
from fdac_research.synth._enforce import DEFAULT_MIN_TAIL_COUNT, enforce_rules
from fdac_research.synth._metadata import column_specs

__all__ = ["CARTSynthesizer"]

log = logging.getLogger(__name__)

CASE_SEQUENCE = (
    "court",
    "local_authority",
    "cohort",
    "application_year",
    "n_children",
    "adult_roles",
    "duration_weeks",
    "contested_final_hearing",
    "expert_witness",
)
CASE_FEATURES = tuple(c for c in CASE_SEQUENCE if c != "adult_roles")
ADULT_SEQUENCE = (
    "sex",
    "age_at_application",
    "ethnicity",
    "substances",
    "domestic_abuse",
    "mental_health",
    "prior_proceedings",
    "convictions",
    "hearings_attended_pct",
    "ceased_misuse",
)
#: The first mother's attributes that her case's other adults and children are conditioned
#: on: the covariates the evaluation adjusts children's outcomes for (the analysis frame:
#: her age, substances, domestic abuse, mental health, prior proceedings, convictions) and
#: her ethnicity and cessation. Without them a child's outcome would not depend on them in
#: the release, and the adjusted FDAC effect would drift towards the unadjusted one.
_MOTHER_COLUMNS = {  # feature -> the mother's column it copies
    "m_age": "age_at_application",
    "m_ethnicity": "ethnicity",
    "m_substances": "substances",
    "m_domestic_abuse": "domestic_abuse",
    "m_mental_health": "mental_health",
    "m_prior_proceedings": "prior_proceedings",
    "m_convictions": "convictions",
    "m_ceased": "ceased_misuse",
}
MOTHER_FEATURES = tuple(_MOTHER_COLUMNS)
_TEXT_MOTHER = ("m_ethnicity", "m_substances")
CHILD_SEQUENCE = (
    "age_at_application",
    "sex",
    "ethnicity",
    "placement_at_end",
    "reunified",
    "final_order",
    "returned_to_court_3y",
)
SIBLING_FEATURES = ("sib_position", "prev_age", "prev_placement")

_KINDS = {t: {s.name: s.kind for s in column_specs(t)} for t in ("cases", "adults", "children")}
_KINDS["cases"]["adult_roles"] = "categorical"


class _Sequence:
    """Trees for ``columns`` of one table, each given ``conditions`` + earlier columns."""

    def __init__(self, table: str, columns: tuple[str, ...], conditions: tuple[str, ...]) -> None:
        self.table = table
        self.columns = columns
        self.conditions = conditions

    def fit(
        self, df: pd.DataFrame, seed: int, min_samples_leaf: int, select_leaf: bool = False
    ) -> _Sequence:
        self.encoder_ = Encoder().fit(df[list(self.conditions + self.columns)])
        self.trees_: list[ColumnTree] = []
        groups = df["case_id"].astype(str).to_numpy() if select_leaf else None
        # hundreds of small trees and logistic regressions (the cross-validation): a BLAS
        # thread pool only adds overhead to problems this size (ten times slower on a busy
        # two-core machine), and one thread makes the fits' floating-point sums the same
        # whatever the machine's core count
        with threadpool_limits(limits=1):
            for j, col in enumerate(self.columns):
                kind = _KINDS[self.table].get(col, "float")
                smooth = kind == "float" or (kind == "integer" and df[col].nunique() > 25)
                X = self._design(df, j)  # noqa: N806
                tree = ColumnTree(
                    kind, smooth=smooth, min_samples_leaf=min_samples_leaf, select_leaf=select_leaf
                )
                self.trees_.append(tree.fit(X, df[col], seed + j, groups))
        return self

    def leaves(self) -> dict[str, int | str]:
        """The leaf size of each column's tree, ``"logistic"`` where the cross-validation
        chose a logistic regression."""
        return {
            c: "logistic" if t.logit_ is not None else t.leaf_
            for c, t in zip(self.columns, self.trees_, strict=True)
        }

    def _design(self, df: pd.DataFrame, j: int) -> np.ndarray:
        cols = list(self.conditions + self.columns[:j])
        enc = Encoder({c: v for c, v in self.encoder_.categories.items() if c in cols}, cols)
        return enc.transform(df[cols])

    def sample(self, cond: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        out = cond.reset_index(drop=True).copy()
        for j, col in enumerate(self.columns):
            out[col] = self.trees_[j].sample(self._design(out, j), rng).array
        return out


def _roles(adults: pd.DataFrame, case_ids: pd.Series) -> pd.Series:
    joined = adults.groupby("case_id")["role"].agg(lambda r: ";".join(sorted(r)))
    return case_ids.map(joined).fillna("none")


def _mother_features(adults: pd.DataFrame) -> pd.DataFrame:
    """The first mother of each case as ``m_*`` columns, indexed by case_id."""
    m = adults[adults["role"] == "mother"].drop_duplicates("case_id")
    out = {}
    for feat, col in _MOTHER_COLUMNS.items():
        v = m[col]
        out[feat] = v.to_numpy() if feat in _TEXT_MOTHER else v.astype("Float64").to_numpy()
    return pd.DataFrame(out, index=m["case_id"].to_numpy())


def _with_mother(df: pd.DataFrame, mothers: pd.DataFrame) -> pd.DataFrame:
    feats = mothers.reindex(df["case_id"].to_numpy())
    feats.index = df.index
    out = pd.concat([df, feats], axis=1)
    for feat in MOTHER_FEATURES:
        if feat not in _TEXT_MOTHER:
            out[feat] = out[feat].astype(float)
    return out


def _children_order(kids: pd.DataFrame) -> pd.DataFrame:
    """Children eldest first within each case, with sibling position and previous sibling."""
    k = kids.assign(_age=kids["age_at_application"].astype("Float64").fillna(-1))
    k = k.sort_values(["case_id", "_age"], ascending=[True, False], kind="stable")
    k = k.drop(columns="_age").reset_index(drop=True)
    g = k.groupby("case_id", sort=False)
    k["sib_position"] = g.cumcount().astype(float)
    k["prev_age"] = g["age_at_application"].shift(1).astype("Float64").astype(float)
    k["prev_placement"] = g["placement_at_end"].shift(1)
    return k


class CARTSynthesizer(BaseSynthesizer):
    """Relational sequential-CART synthesizer (synthpop's method, scikit-learn trees).

    Parameters
    ----------
    min_samples_leaf : int, default 5
        Smallest leaf of every tree (synthpop ``minbucket``); larger leaves give smoother,
        more private and less faithful data.
    leaf_selection : {"cv", "fixed"}, default "cv"
        ``"cv"``: each column's leaf size is chosen from ``min_samples_leaf`` x 1, 2, 4, 8,
        16 by cross-validation on the training families (one-standard-error rule; see
        :mod:`fdac_research.synth._cart_tree`), so that at the size of a real evaluation the
        trees keep only structure that holds for families they did not see. ``"fixed"``:
        every tree uses ``min_samples_leaf`` (synthpop's behaviour).
    max_copy_retries : int, default 10
        Rounds of redrawing families that copy a real adult row or a real family. Each round
        draws and checks only the families still copying, so a round costs in proportion
        to them, not to the release.
    max_copy_redraw_share : float, default 1.0
        Cap on the work of the redraws: at most this share of the release's families (per
        stratum) is redrawn over all rounds together; when the next round would pass it the
        loop stops and the remaining copies are logged (the release gate refuses a release
        with any family copy). With the default, redrawing costs at most one more release.
    strata : str or None, default "cohort"
        Fit one synthesizer per level of this case column (synthpop's ``strata``) so that
        the FDAC-vs-comparison contrasts the evaluation estimates are not attenuated by
        trees that split on cohort only sometimes. ``None`` fits one model.
    seed : int, default 0
        Seed of the trees' tie-breaking (fitting is otherwise deterministic).
    min_tail_count : int, default 10
        Top/bottom-coding: every released number lies between the k-th smallest and the
        k-th largest training value of its column (see :class:`BaseSynthesizer`); the number
        of children of a case is drawn inside those bounds before the children are.

    Attributes
    ----------
    cases_, mothers_, others_, children_ : fitted column sequences
    real_rows_ : dict of numpy.ndarray
        Text of the training rows and families (for exact-copy removal; never released).
    max_children_ : int
        Largest number of children in a case seen in training.
    strata_models_ : dict of CARTSynthesizer
        One fitted model per stratum (empty when ``strata`` is None).

    Examples
    --------
    >>> from fdac_research.synth import CARTSynthesizer
    >>> synth = CARTSynthesizer(min_samples_leaf=5)  # doctest: +SKIP
    >>> release = synth.fit(research).sample(scale=1.0, seed=1)  # doctest: +SKIP
    """

    name: ClassVar[str] = "cart"

    def __init__(
        self,
        min_samples_leaf: int = 5,
        max_copy_retries: int = 10,
        strata: str | None = "cohort",
        seed: int = 0,
        min_tail_count: int = DEFAULT_MIN_TAIL_COUNT,
        max_copy_redraw_share: float = 1.0,
        leaf_selection: str = "cv",
    ) -> None:
        self.min_samples_leaf = min_samples_leaf
        self.leaf_selection = leaf_selection
        self.max_copy_retries = max_copy_retries
        self.max_copy_redraw_share = max_copy_redraw_share
        self.strata = strata
        self.seed = seed
        self.min_tail_count = min_tail_count

    def _fit(self, tables: dict[str, pd.DataFrame]) -> None:
        problems = []
        if isinstance(self.min_samples_leaf, bool) or not isinstance(self.min_samples_leaf, int):
            problems.append(f"min_samples_leaf must be an integer, got {self.min_samples_leaf!r}")
        elif self.min_samples_leaf < 1:
            problems.append(f"min_samples_leaf must be >= 1, got {self.min_samples_leaf}")
        if not isinstance(self.max_copy_retries, int) or self.max_copy_retries < 0:
            problems.append(
                f"max_copy_retries must be an integer >= 0, got {self.max_copy_retries!r}"
            )
        if self.leaf_selection not in ("cv", "fixed"):
            problems.append(f"leaf_selection must be 'cv' or 'fixed', got {self.leaf_selection!r}")
        share = self.max_copy_redraw_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not share >= 0:
            problems.append(f"max_copy_redraw_share must be a number >= 0, got {share!r}")
        if problems:
            raise ValueError("; ".join(problems))
        if self.strata is not None and self.strata not in ("cohort", "court", "local_authority"):
            raise ValueError(
                f"strata must be None or a case column (cohort, court, local_authority), "
                f"got {self.strata!r}"
            )
        seed = check_seed(self.seed)
        if self.strata is not None:
            self._fit_strata(tables, seed)
            return
        self.strata_models_: dict[str, CARTSynthesizer] = {}
        leaf = self.min_samples_leaf
        cv = self.leaf_selection == "cv"
        cases = tables["cases"].copy()
        adults, kids = tables["adults"], tables["children"]
        cases["adult_roles"] = _roles(adults, cases["case_id"]).to_numpy()
        self.cases_ = _Sequence("cases", CASE_SEQUENCE, ()).fit(cases, seed, leaf, cv)
        case_feats = cases.set_index("case_id")[list(CASE_FEATURES)]
        a = adults.join(case_feats, on="case_id")
        mothers = a[a["role"] == "mother"]
        cond = CASE_FEATURES
        self.mothers_ = _Sequence("adults", ADULT_SEQUENCE, cond).fit(mothers, seed + 100, leaf, cv)
        mfeat = _mother_features(adults)
        others = _with_mother(a[a["role"] != "mother"].reset_index(drop=True), mfeat)
        self.others_ = None
        if len(others):
            self.others_ = _Sequence(
                "adults", ADULT_SEQUENCE, cond + ("role",) + MOTHER_FEATURES
            ).fit(others, seed + 200, leaf, cv)
        k = _with_mother(_children_order(kids).join(case_feats, on="case_id"), mfeat)
        self.children_ = _Sequence(
            "children", CHILD_SEQUENCE, cond + MOTHER_FEATURES + SIBLING_FEATURES
        ).fit(k, seed + 300, leaf, cv)
        self.max_children_ = int(kids.groupby("case_id").size().max())
        self.real_rows_ = {
            "adults": sorted_unique(row_text(adults, "adults")),
            "families": sorted_unique(family_text(tables).to_numpy()),
        }

    # -- sampling ------------------------------------------------------------------
    def _families(self, n: int, rng: np.random.Generator, start: int) -> dict[str, pd.DataFrame]:
        cases = self.cases_.sample(pd.DataFrame(index=range(n)), rng)
        cases.insert(0, "case_id", [f"tmp{start + i}" for i in range(n)])
        lo, hi = self.tail_bounds_["cases"].get("n_children", (0.0, np.inf))
        n_kids = pd.to_numeric(cases["n_children"]).fillna(0).clip(max(lo, 0), hi).astype(int)
        cases["n_children"] = pd.array(n_kids.to_numpy(), dtype="Int64")
        feats = cases[["case_id", *CASE_FEATURES]]
        roles = cases["adult_roles"].str.split(";")
        slots = pd.DataFrame(
            {
                "case_id": cases["case_id"].repeat(roles.str.len()).to_numpy(),  # type: ignore[arg-type]
                "role": np.concatenate(roles.to_numpy()) if n else [],
            }
        )
        slots = slots[slots["role"] != "none"].reset_index(drop=True)
        slots = slots.merge(feats, on="case_id", how="left", sort=False)
        m_slots = slots[slots["role"] == "mother"].reset_index(drop=True)
        mothers = self.mothers_.sample(m_slots, rng)
        mothers = mothers[["case_id", "role", *ADULT_SEQUENCE]]
        mfeat = _mother_features(mothers)
        parts = [mothers]
        o_slots = slots[slots["role"] != "mother"].reset_index(drop=True)
        if len(o_slots) and self.others_ is not None:
            others = self.others_.sample(_with_mother(o_slots, mfeat), rng)
            parts.append(others[["case_id", "role", *ADULT_SEQUENCE]])
        adults = pd.concat(parts, ignore_index=True)
        kids = self._children(feats, n_kids.to_numpy(), mfeat, rng)
        return {"cases": cases.drop(columns="adult_roles"), "adults": adults, "children": kids}

    def _children(
        self, feats: pd.DataFrame, n_kids: np.ndarray, mfeat: pd.DataFrame, rng: np.random.Generator
    ) -> pd.DataFrame:
        out = []
        prev: pd.DataFrame | None = None
        for pos in range(int(n_kids.max()) if len(n_kids) else 0):
            rows = feats[n_kids > pos].reset_index(drop=True)
            cond = _with_mother(rows, mfeat)
            cond["sib_position"] = float(min(pos, self.max_children_ - 1))
            if prev is None:
                cond["prev_age"] = np.nan
                cond["prev_placement"] = np.nan
            else:
                p = prev.set_index("case_id").reindex(cond["case_id"])
                cond["prev_age"] = (
                    p["age_at_application"].astype("Float64").astype(float).to_numpy()
                )
                cond["prev_placement"] = p["placement_at_end"].to_numpy()
            kids = self.children_.sample(cond, rng)
            prev = kids[["case_id", "age_at_application", "placement_at_end"]]
            out.append(kids.assign(_pos=pos))
        if not out:
            return pd.DataFrame(columns=["case_id", *CHILD_SEQUENCE])
        kids = pd.concat(out, ignore_index=True)
        order = pd.Series(range(len(feats)), index=feats["case_id"])
        kids = kids.assign(_c=kids["case_id"].map(order).to_numpy())
        kids = kids.sort_values(["_c", "_pos"], kind="stable").reset_index(drop=True)
        return kids[["case_id", *CHILD_SEQUENCE]]

    def _copies(self, fam: dict[str, pd.DataFrame]) -> np.ndarray:
        """Case ids whose whole family or one of whose adult rows copies a real one.

        Case rows alone are not redrawn: with no continuous value (an open case) they
        coincide with real case rows by chance (about 6% of held-out real cases do), and
        redrawing them would bias the release against such cases. The gate still compares
        their copy rate with the held-out rate.
        """
        # compared as they will be released: coded, rounded and repaired (the repairs of
        # adult rows draw nothing at random, so these are the released adult rows)
        fam = enforce_rules(fam, self.conditionals_, np.random.default_rng(0), self.tail_bounds_)
        a = fam["adults"]
        mask = contains_sorted(self.real_rows_["adults"], row_text(a, "adults"))
        bad = set(a.loc[mask, "case_id"])
        ft = family_text(fam)
        bad |= set(ft.index[contains_sorted(self.real_rows_["families"], ft.to_numpy())])
        return np.array(sorted(bad), dtype=object)

    def leaf_sizes(self) -> dict[str, dict[str, int | str]]:
        """The leaf size of every fitted tree: ``{"<stratum>/<part>": {column: leaf}}`` with
        parts cases, mothers, others and children (no stratum prefix when unstratified)."""
        self._check_fitted()
        return self._leaf_sizes()

    def _leaf_sizes(self) -> dict[str, dict[str, int | str]]:
        if self.strata_models_:
            return {
                f"{level}/{k}": v
                for level, m in self.strata_models_.items()
                for k, v in m._leaf_sizes().items()
            }
        parts = {"cases": self.cases_, "mothers": self.mothers_, "others": self.others_}
        parts["children"] = self.children_
        return {k: seq.leaves() for k, seq in parts.items() if seq is not None}

    def _fit_strata(self, tables: dict[str, pd.DataFrame], seed: int) -> None:
        """One synthesizer per level of ``strata`` (synthpop's ``strata``): differences
        between strata, such as the FDAC effect, are kept exactly in expectation."""
        cases = tables["cases"]
        levels = sorted(cases[self.strata].dropna().astype(str).unique())
        self.strata_models_ = {}
        self.strata_shares_ = {}
        # copies are judged against every training row: an adult row carries no cohort, so
        # one stratum can copy a real adult of another
        real_rows = {
            "adults": sorted_unique(row_text(tables["adults"], "adults")),
            "families": sorted_unique(family_text(tables).to_numpy()),
        }
        for i, level in enumerate(levels):
            ids = set(cases.loc[cases[self.strata].astype(str) == level, "case_id"])
            sub = {
                n: df[df["case_id"].isin(ids)].reset_index(drop=True) for n, df in tables.items()
            }
            model = CARTSynthesizer(
                self.min_samples_leaf,
                self.max_copy_retries,
                strata=None,
                seed=seed + 1000 * i,
                min_tail_count=self.min_tail_count,
                max_copy_redraw_share=self.max_copy_redraw_share,
                leaf_selection=self.leaf_selection,
            )
            # the whole training data's codes and conditionals: copies are judged on rows as
            # they will be released (see _copies)
            model.tail_bounds_ = self.tail_bounds_
            model.conditionals_ = self.conditionals_
            model._fit(sub)
            model.real_rows_ = real_rows
            self.strata_models_[level] = model
            self.strata_shares_[level] = len(ids) / len(cases)

    def _sample_raw(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        if self.strata_models_:
            return self._sample_strata(n_cases, seed)
        return self._sample_one(n_cases, seed)

    def _sample_strata(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        levels = list(self.strata_models_)
        exact = np.array([self.strata_shares_[lv] * n_cases for lv in levels])
        counts = np.floor(exact).astype(int)
        # largest remainders get the cases left over (deterministic)
        for j in np.argsort(-(exact - counts), kind="stable")[: n_cases - counts.sum()]:
            counts[j] += 1
        parts: dict[str, list[pd.DataFrame]] = {"cases": [], "adults": [], "children": []}
        for i, (level, n) in enumerate(zip(levels, counts, strict=True)):
            if n == 0:
                continue
            sub_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            fam = self.strata_models_[level]._sample_one(int(n), sub_seed)
            for name, df in fam.items():
                parts[name].append(df.assign(case_id=f"s{i}-" + df["case_id"].astype(str)))
        return {n: pd.concat(p, ignore_index=True) for n, p in parts.items()}

    def _sample_one(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        rng = np.random.default_rng([seed, 0xCA27])
        fam = self._families(n_cases, rng, 0)
        if not self.max_copy_retries:
            return fam
        pending = self._copies(fam)  # case ids (tmp<i>) whose family copies a real one
        if not len(pending):
            return fam
        budget = int(np.floor(self.max_copy_redraw_share * n_cases))
        replaced = set(pending.tolist())
        parts: dict[str, list[pd.DataFrame]] = {name: [] for name in fam}
        start, redrawn, round_ = n_cases, 0, 0
        while len(pending) and round_ < self.max_copy_retries:
            if redrawn + len(pending) > budget:
                log.warning(
                    "cart: stopping the redraws: %d families still copy a real record and "
                    "redrawing them would pass the cap of %d redrawn families "
                    "(max_copy_redraw_share %g of %d)",
                    len(pending),
                    budget,
                    self.max_copy_redraw_share,
                    n_cases,
                )
                break
            round_ += 1
            log.info(
                "cart: redrawing %d families that copy a real record (round %d of at most "
                "%d; %d of at most %d families redrawn so far)",
                len(pending),
                round_,
                self.max_copy_retries,
                redrawn,
                budget,
            )
            new = self._families(len(pending), rng, start)
            start += len(pending)
            redrawn += len(pending)
            # the redrawn families take the places of the copies, in order
            mapping = dict(zip(new["cases"]["case_id"], pending, strict=True))
            new = {n: df.assign(case_id=df["case_id"].map(mapping)) for n, df in new.items()}
            still = self._copies(new)
            for name, df in new.items():
                parts[name].append(df[~df["case_id"].isin(set(still.tolist()))])
            pending = still
        if len(pending):
            # the last draw of each family still copying stays (the gate judges it)
            if round_:
                for name, df in new.items():
                    parts[name].append(df[df["case_id"].isin(set(pending.tolist()))])
            else:
                replaced -= set(pending.tolist())
            log.warning(
                "cart: %d families still copy a real record after the redraws", len(pending)
            )
        out = {}
        for name, df in fam.items():
            keep = df[~df["case_id"].isin(replaced)]
            out[name] = _in_case_order(pd.concat([keep, *parts[name]], ignore_index=True), n_cases)
        return out


def _in_case_order(df: pd.DataFrame, n_cases: int) -> pd.DataFrame:
    """Rows sorted by their case's original position (``tmp0``, ``tmp1`` ...), stable."""
    pos = pd.Series(np.arange(n_cases), index=[f"tmp{i}" for i in range(n_cases)])
    o = df["case_id"].map(pos).to_numpy()
    return (
        df.assign(_o=o).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    )
