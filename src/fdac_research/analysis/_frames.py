"""Analysis frames: one row per person with treatment, a binary outcome, covariates, cluster.

:func:`analysis_frame` builds one from a research dataset (docs/data-contract.md §2);
:meth:`AnalysisFrame.from_dataframe` wraps any data frame (simulations, other studies).

Missing covariates
------------------
Every covariate with a missing value gets an indicator column ``<name>_missing`` (1 where
the value was missing) and the missing values are filled: numeric columns with the median of
the observed values, booleans and substance flags with 0. A missing ``substances`` cell (no
linked substance-misuse record) counts no substance and sets ``substances_missing``. This is
the missing-indicator method: simple and keeps every row, but unbiased only if missingness is
itself captured by the indicator (an assumption to state in the report). Columns that are
constant, or duplicate an earlier column, are then dropped (each listed in ``notes``) so
that the models stay identifiable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fdac_research import schema
from fdac_research.analysis._errors import AnalysisError
from fdac_research.analysis._models import single_threaded
from fdac_research.dataset import ResearchData
from fdac_research.refdata import SUBSTANCE_CATEGORIES, substance_categories

__all__ = [
    "AnalysisFrame",
    "analysis_frame",
    "OUTCOME_POPULATIONS",
    "DERIVED_OUTCOMES",
    "NEGATIVE_CONTROLS",
]

log = logging.getLogger(__name__)

#: Outcomes :func:`analysis_frame` knows and the populations each is defined for.
OUTCOME_POPULATIONS: dict[str, tuple[str, ...]] = {
    "reunified": ("children",),
    "returned_to_court_3y": ("children",),
    "ceased_misuse": ("mothers", "fathers", "adults"),
    "any_child_protection_plan": ("mothers", "adults"),
}
#: Outcomes derived from a research column: ``outcome -> (column, what makes it 1)``.
#: ``any_child_protection_plan`` (any plan before the proceedings) is a *negative control*:
#: FDAC cannot have changed it, so an adjusted effect on it points to hidden confounding.
DERIVED_OUTCOMES: dict[str, str] = {"any_child_protection_plan": "child_protection_plans"}
#: Outcomes FDAC cannot change (recorded before the proceedings).
NEGATIVE_CONTROLS: tuple[str, ...] = ("any_child_protection_plan",)
#: The case's covariates, adjusted for in every frame (the analysis and the survival frame).
CASE_COVARIATES = ("application_year", "n_children")
_CASE_COLUMNS = ("case_id", "cohort", "court", "local_authority", *CASE_COVARIATES)
#: What an adult's own covariates are made of (:func:`_person_covariates`).
_PERSON_COLUMNS = (
    "age_at_application",
    "substances",
    "domestic_abuse",
    "mental_health",
    "prior_proceedings",
    "convictions",
)
#: What the mother's covariates of a case (:func:`mother_covariates`) read.
MOTHER_COLUMNS = ("person_id", "case_id", "role", *_PERSON_COLUMNS)
#: The cluster of :func:`analysis_frame` and of the survival frame: ``family_id`` (cases
#: joined by a person named in both, from the research build) when the research data has it,
#: else ``case_id``.
FAMILY_CLUSTER = "family_id"
_ADULT_COLUMNS = ("person_id", "case_id", "role", "sex", *_PERSON_COLUMNS)
_CHILD_COLUMNS = ("person_id", "case_id", "sex", "age_at_application")


@dataclass(frozen=True)
class AnalysisFrame:
    """Rows ready for estimation: treatment and outcome as 0/1, numeric covariates, clusters.

    Build with :func:`analysis_frame` or :meth:`from_dataframe` (which validate); the
    constructor validates too.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per person, with integer 0/1 ``treatment`` and ``outcome`` columns, float
        covariates, and the ``cluster`` column when given. :func:`analysis_frame` also keeps
        derived columns it did not adjust for (constant or collinear ones, see ``notes``).
    outcome : str
        Name of the outcome column.
    covariates : tuple of str
        Columns adjusted for (propensity and outcome models, balance).
    treatment : str
        Name of the treatment column (1 = FDAC).
    cluster : str or None
        Column identifying clusters: children and parents nested in families, and a
        family's cases (a mother in two cases) together. :func:`analysis_frame` uses
        ``family_id`` when the research data has it, else ``case_id`` (said in ``notes``);
        ``None`` treats rows as independent.
    population : str
        What the rows are (``children``, ``mothers`` ...), for labels and truth keys.
    n_dropped : int
        Rows dropped because the outcome was unknown (open case, not yet observable).
    notes : tuple of str
        What was done to the data (missing indicators, dropped columns ...).
    """

    data: pd.DataFrame
    outcome: str
    covariates: tuple[str, ...]
    treatment: str = "treated"
    cluster: str | None = "case_id"
    population: str = "custom"
    n_dropped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _validate(self)

    # -- arrays the estimators use --------------------------------------------------
    @property
    def y(self) -> np.ndarray:
        """Outcome as a float 0/1 array."""
        return self.data[self.outcome].to_numpy(dtype=float)

    @property
    def t(self) -> np.ndarray:
        """Treatment as a float 0/1 array."""
        return self.data[self.treatment].to_numpy(dtype=float)

    @property
    def X(self) -> np.ndarray:  # noqa: N802 - the usual name for a design matrix
        """Covariates as a float matrix (rows x covariates)."""
        if not self.covariates:
            return np.zeros((len(self.data), 0))
        return self.data[list(self.covariates)].to_numpy(dtype=float)

    @property
    def groups(self) -> np.ndarray:
        """Integer cluster codes (each row its own cluster when ``cluster`` is None)."""
        if self.cluster is None:
            return np.arange(len(self.data))
        codes, _ = pd.factorize(self.data[self.cluster], sort=True)
        return codes.astype(np.int64)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return int(self.groups.max()) + 1 if len(self.data) else 0

    @property
    def key(self) -> str:
        """``<outcome>_<population>``, the key of this analysis in ``truth/effects.json``."""
        return f"{self.outcome}_{self.population}"

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        outcome: str,
        treatment: str,
        covariates: Sequence[str] = (),
        cluster: str | None = None,
        population: str = "custom",
    ) -> AnalysisFrame:
        """Wrap a data frame, converting booleans / ``fdac``-``comparison`` to 0/1.

        Raises
        ------
        AnalysisError
            Naming every missing column, non-binary treatment or outcome, missing values,
            a single treatment arm or an outcome without events.
        """
        if not isinstance(df, pd.DataFrame):
            raise AnalysisError(f"expected a pandas DataFrame, got {type(df).__name__}")
        covariates = tuple(covariates)
        needed = [treatment, outcome, *covariates] + ([cluster] if cluster else [])
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise AnalysisError(
                f"analysis data is missing column(s) {missing}; it has {list(df.columns)}"
            )
        data = df.copy()
        data[treatment] = _binary(data[treatment], treatment, positive="fdac")
        data[outcome] = _binary(data[outcome], outcome, positive=None)
        for c in covariates:
            try:
                data[c] = pd.to_numeric(
                    data[c].astype("Float64") if data[c].dtype == "boolean" else data[c]
                ).astype(float)
            except (TypeError, ValueError) as err:
                raise AnalysisError(
                    f"covariate {c!r} is not numeric (example value {data[c].iloc[0]!r}); "
                    "encode categories as 0/1 columns first"
                ) from err
        return cls(
            data=data.reset_index(drop=True),
            outcome=outcome,
            covariates=covariates,
            treatment=treatment,
            cluster=cluster,
            population=population,
        )


def _binary(values: pd.Series, name: str, positive: str | None) -> pd.Series:
    """0/1 integers from booleans, 0/1 numbers or (for treatment) ``fdac``/``comparison``."""
    if values.isna().any():
        example = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise AnalysisError(
            f"column {name!r} has {int(values.isna().sum())} missing value(s) (first at row "
            f"{example}); drop or resolve them before estimation"
        )
    if positive is not None and values.dtype == object:
        bad = sorted(set(values.astype(str)) - set(schema.COHORTS))
        if bad:
            raise AnalysisError(
                f"column {name!r} has value(s) {bad}; expected {list(schema.COHORTS)}"
            )
        return (values == positive).astype(np.int64)
    try:
        out = values.astype(float)
    except (TypeError, ValueError) as err:
        raise AnalysisError(f"column {name!r} must be binary (0/1 or true/false)") from err
    bad = sorted(set(out.unique()) - {0.0, 1.0})
    if bad:
        raise AnalysisError(f"column {name!r} must be binary (0/1 or true/false); found {bad[:5]}")
    return out.astype(np.int64)


def _validate(frame: AnalysisFrame) -> None:
    d = frame.data
    needed = [frame.treatment, frame.outcome, *frame.covariates]
    if frame.cluster:
        needed.append(frame.cluster)
    missing = [c for c in needed if c not in d.columns]
    if missing:
        raise AnalysisError(
            f"analysis data is missing column(s) {missing}; it has {list(d.columns)}"
        )
    label = f"{frame.outcome!r} ({frame.population})"
    if len(d) == 0:
        raise AnalysisError(
            f"no rows with a known outcome for {label} ({frame.n_dropped} dropped as unknown)"
        )
    for c in (frame.treatment, frame.outcome):
        vals = set(pd.unique(d[c]))
        if not vals <= {0, 1}:
            raise AnalysisError(
                f"column {c!r} must hold 0/1 integers; found {sorted(map(str, vals))[:5]}"
            )
    t = d[frame.treatment].to_numpy()
    y = d[frame.outcome].to_numpy()
    for arm, name in ((1, "fdac (treated)"), (0, "comparison")):
        if not (t == arm).any():
            raise AnalysisError(
                f"{label}: no {name} rows; an effect needs both arms (n = {len(d)}, "
                f"all {frame.treatment} = {1 - arm})"
            )
    if y.min() == y.max():
        what = (
            "no outcome events (all 0)" if y.max() == 0 else "no rows without the outcome (all 1)"
        )
        raise AnalysisError(f"{label}: {what} among {len(d)} rows; odds ratios are undefined")
    nan_cov = [c for c in frame.covariates if d[c].isna().any()]
    if nan_cov:
        raise AnalysisError(f"covariate(s) {nan_cov} have missing values; fill them first")
    if frame.cluster and d[frame.cluster].isna().any():
        raise AnalysisError(f"cluster column {frame.cluster!r} has missing values")


# --------------------------------------------------------------------------- research → frame
def _require(df: pd.DataFrame, cols: Sequence[str], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise AnalysisError(f"research table {table!r} is missing column(s) {missing}")


def _person_covariates(adults: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Numeric covariates of adults (one row per person_id); missing left as NaN."""
    out = pd.DataFrame(index=adults.index)
    out[f"{prefix}age"] = adults["age_at_application"].astype("Float64").astype(float)
    subs = substance_categories(adults["substances"]).categories
    out[f"{prefix}substances_missing"] = adults["substances"].isna().astype(float)
    for s in SUBSTANCE_CATEGORIES:
        out[f"{prefix}substance_{s}"] = [float(s in xs) for xs in subs]
    for c in ("domestic_abuse", "mental_health", "prior_proceedings", "convictions"):
        out[f"{prefix}{c}"] = adults[c].astype("Float64").astype(float)
    return out


def case_covariates(cases: pd.DataFrame) -> pd.DataFrame:
    """``cases`` with the :data:`CASE_COVARIATES` as floats (missing as NaN)."""
    out = cases.copy()
    for c in CASE_COVARIATES:
        out[c] = out[c].astype("Float64").astype(float)
    return out


def mother_covariates(adults: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The mother's covariates of each case (prefixed ``mother_``, with ``case_id``) and the
    number of cases with more than one mother (the first by ``person_id`` is used)."""
    mothers = adults[adults["role"] == "mother"].sort_values(["case_id", "person_id"])
    n_multi = int(mothers["case_id"].duplicated().sum())
    mothers = mothers.drop_duplicates("case_id")
    mcov = _person_covariates(mothers, "mother_")
    mcov["case_id"] = mothers["case_id"].to_numpy()
    return mcov, n_multi


def with_mother(rows: pd.DataFrame, mcov: pd.DataFrame) -> pd.DataFrame:
    """``rows`` joined to their case's :func:`mother_covariates` (a case without a mother:
    every mother covariate missing, her substances too)."""
    out = rows.merge(mcov, on="case_id", how="left", validate="many_to_one")
    out["mother_substances_missing"] = out["mother_substances_missing"].fillna(1.0)
    return out


def case_clusters(cases: pd.DataFrame) -> tuple[str, str]:
    """The cluster column for rows of ``cases`` and a note saying which it is and why.

    ``family_id`` when the research ``cases`` table has it (a mother with two cases is one
    cluster, not two), else ``case_id`` (an older research folder, or a synthetic release
    without it: a family's cases then count as independent clusters).

    Raises
    ------
    AnalysisError
        When ``family_id`` has missing values (naming a case without one).
    """
    if FAMILY_CLUSTER not in cases.columns:
        return "case_id", (
            "clusters: case_id (the research data has no family_id, from an older research "
            "build or a release without it): cases of one family count as independent"
        )
    missing = cases[FAMILY_CLUSTER].isna()
    if missing.any():
        raise AnalysisError(
            f"research table 'cases', column {FAMILY_CLUSTER!r}: {int(missing.sum())} missing "
            f"value(s) (for example case_id {cases.loc[missing, 'case_id'].iloc[0]!r}); "
            "expected a family for every case: rebuild the research folder"
        )
    n_fam, n_cases = int(cases[FAMILY_CLUSTER].nunique()), int(cases["case_id"].nunique())
    return FAMILY_CLUSTER, (
        f"clusters: {FAMILY_CLUSTER} ({n_fam} families of {n_cases} cases: a family's cases "
        "are one cluster)"
    )


def _female(sex: pd.Series) -> pd.Series:
    return sex.map({"F": 1.0, "M": 0.0})


def _fill_and_prune(
    df: pd.DataFrame, covariates: list[str]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Missing indicator + fill, then drop constant and duplicate covariates."""
    notes: list[str] = []
    cols = list(covariates)
    for c in list(cols):
        miss = df[c].isna()
        if not miss.any():
            continue
        observed = df.loc[~miss, c]
        binary = observed.isin([0.0, 1.0]).all()
        fill = 0.0 if (binary or observed.empty) else float(observed.median())
        ind = f"{c}_missing"
        if ind not in df.columns:
            df[ind] = miss.astype(float)
            cols.insert(cols.index(c) + 1, ind)
        df[c] = df[c].fillna(fill)
        notes.append(f"{c}: {int(miss.sum())} missing, filled with {fill:g} and flagged in {ind}")
    kept: list[str] = []
    basis = np.ones((len(df), 1))
    for c in cols:
        v = df[c].to_numpy(dtype=float)
        if np.all(v == v[0]):
            notes.append(f"{c}: dropped (constant {v[0]:g})")
            continue
        z = (v - v.mean()) / v.std()
        trial = np.column_stack([basis, z])
        if np.linalg.matrix_rank(trial, tol=1e-8 * np.sqrt(len(df))) < trial.shape[1]:
            notes.append(f"{c}: dropped (a linear combination of earlier covariates)")
            continue
        basis = trial
        kept.append(c)
    return df, kept, notes


@single_threaded
def analysis_frame(
    research: ResearchData,
    outcome: str = "reunified",
    population: str | None = None,
) -> AnalysisFrame:
    """Build the analysis frame for one binary outcome and population.

    Parameters
    ----------
    research : ResearchData
        As returned by :func:`fdac_research.dataset.load_research`.
    outcome : {"reunified", "returned_to_court_3y", "ceased_misuse"}
        The binary outcome.
    population : {"children", "mothers", "fathers", "adults"}, optional
        Whose outcome; defaults to ``children`` for child outcomes and ``mothers`` for
        ``ceased_misuse``.

    Returns
    -------
    AnalysisFrame
        Rows with a known outcome; ``n_dropped`` counts the rest. Covariates: the case's
        ``application_year`` and ``n_children``; the adult's own (or, for children, their
        mother's, prefixed ``mother_``) age, a flag per substance,
        domestic abuse, mental health, prior proceedings and convictions; for children their
        age, whether an infant (under 1) and sex; for ``adults`` the role and sex. Missing
        values are handled as the module docstring says. ``court`` and ``local_authority``
        are carried along but not adjusted for (FDAC sits in some courts only, so they would
        break positivity). Clusters: :func:`case_clusters` (``family_id`` when the research
        data has it, else ``case_id``; ``notes`` says which).

    Raises
    ------
    AnalysisError
        Unknown outcome or population, missing research columns, one arm, no events.
    """
    if outcome not in OUTCOME_POPULATIONS:
        raise AnalysisError(
            f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOME_POPULATIONS)}"
        )
    allowed = OUTCOME_POPULATIONS[outcome]
    population = population or allowed[0]
    if population not in allowed:
        raise AnalysisError(
            f"outcome {outcome!r} is defined for population(s) {list(allowed)}, not {population!r}"
        )
    if not isinstance(research, ResearchData):
        raise AnalysisError(
            f"expected ResearchData (dataset.load_research), got {type(research).__name__}"
        )
    cases, adults = research.cases, research.adults
    _require(cases, _CASE_COLUMNS, "cases")
    source = DERIVED_OUTCOMES.get(outcome)
    _require(
        adults,
        _ADULT_COLUMNS
        + (("ceased_misuse",) if outcome == "ceased_misuse" else ())
        + ((source,) if source else ()),
        "adults",
    )
    if source is not None:
        adults = adults.copy()
        plans = adults[source].astype("Float64")
        adults[outcome] = (plans > 0).astype("boolean").where(plans.notna())
    cluster, cluster_note = case_clusters(cases)
    case_part = case_covariates(cases[list(dict.fromkeys((*_CASE_COLUMNS, cluster)))])
    case_part["treated"] = (case_part["cohort"] == "fdac").astype(np.int64)
    covs = list(CASE_COVARIATES)

    if population == "children":
        children = research.children
        _require(children, _CHILD_COLUMNS + (outcome,), "children")
        mcov, n_multi = mother_covariates(adults)
        rows = children[[*_CHILD_COLUMNS, outcome]].copy()
        rows["child_age"] = rows["age_at_application"].astype("Float64").astype(float)
        rows["child_infant"] = (
            (rows["child_age"] < 1).astype(float).where(rows["child_age"].notna())
        )
        rows["child_female"] = _female(rows["sex"])
        person_covs = ["child_age", "child_infant", "child_female"]
        rows = with_mother(rows, mcov)
        person_covs += [c for c in mcov.columns if c != "case_id"]
        extra_notes = (
            [f"{n_multi} case(s) with more than one mother: the first (by person_id) used"]
            if n_multi
            else []
        )
    else:
        sel = adults if population == "adults" else adults[adults["role"] == population.rstrip("s")]
        rows = sel[[*_ADULT_COLUMNS, outcome]].copy()
        pc = _person_covariates(rows, "")
        rows = pd.concat(
            [rows.drop(columns=[c for c in pc.columns if c in rows.columns]), pc], axis=1
        )
        person_covs = list(pc.columns)
        if population == "adults":
            rows["female"] = _female(rows["sex"])
            rows["role_father"] = (rows["role"] == "father").astype(float)
            rows["role_other_carer"] = (rows["role"] == "other_carer").astype(float)
            person_covs += ["female", "role_father", "role_other_carer"]
        extra_notes = []

    unknown_case = ~rows["case_id"].isin(case_part["case_id"])
    if unknown_case.any():
        raise AnalysisError(
            f"{int(unknown_case.sum())} {population} row(s) refer to case_id(s) not in cases "
            f"(for example {rows.loc[unknown_case, 'case_id'].iloc[0]!r})"
        )
    rows = rows.merge(case_part, on="case_id", how="left", validate="many_to_one")
    known = rows[outcome].notna()
    n_dropped = int((~known).sum())
    rows = rows[known].copy()
    rows[outcome] = rows[outcome].astype(bool).astype(np.int64)
    rows = rows.sort_values(["case_id", "person_id"], kind="stable").reset_index(drop=True)
    if rows.empty:
        raise AnalysisError(
            f"no rows with a known outcome for {outcome!r} ({population}); "
            f"{n_dropped} dropped as unknown (open case or not yet observable)"
        )
    rows, kept, notes = _fill_and_prune(rows, covs + person_covs)
    mapped = substance_categories(adults["substances"])
    if mapped.n_unmapped_values:
        extra_notes.append(
            f"substances: {mapped.n_unmapped_values} value(s) not in the package's substance "
            "table (fdac_research.refdata substances.csv) counted as 'other'"
        )
    notes = [
        f"{n_dropped} row(s) dropped: {outcome} unknown (open case or not yet observable)",
        cluster_note,
        *extra_notes,
        *notes,
    ]
    keep_cols = [
        "case_id",
        *([cluster] if cluster != "case_id" else []),
        "person_id",
        "cohort",
        "court",
        "local_authority",
        "treated",
        outcome,
        *[c for c in rows.columns if c in set(covs + person_covs) or c.endswith("_missing")],
    ]
    log.info(
        "analysis frame %s_%s: %d rows, %d dropped; %s",
        outcome,
        population,
        len(rows),
        n_dropped,
        cluster_note,
    )
    return AnalysisFrame(
        data=rows[keep_cols].reset_index(drop=True),
        outcome=outcome,
        covariates=tuple(kept),
        treatment="treated",
        cluster=cluster,
        population=population,
        n_dropped=n_dropped,
        notes=tuple(notes),
    )
