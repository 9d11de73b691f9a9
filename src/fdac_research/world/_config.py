"""The configuration of a synthetic world."""

from __future__ import annotations

import dataclasses
import datetime as dt

from fdac_research.config import ConfigBase

__all__ = ["WorldConfig", "CorruptionRates", "WORLD_PRESETS", "preset_config"]


@dataclasses.dataclass(frozen=True)
class WorldConfig(ConfigBase):
    """Everything that determines a synthetic world; the same config gives identical files.

    Parameters
    ----------
    n_families : int
        Care-proceedings cases (one family each).
    seed : int
        Seed of every random draw.
    error_rate : float
        Scale of identifier corruption in agency extracts; the per-record probability of each
        corruption is its base weight in :class:`CorruptionRates` times ``error_rate``.
        At the default 0.1 roughly a quarter of agency records differ from the court record
        in at least one identifier (a moved postcode is the most common difference).
    hidden_confounder : float
        Strength (log-odds per SD) of an unobserved family-level factor that drives both
        referral to FDAC and good outcomes; 0 means no hidden confounding.
    opt_out_rate : float
        Share of families with an objection on record.
    fdac_share : float
        Target share of cases heard in FDAC.
    first_year, last_year : int
        Years applications are issued in.
    extract_date : str
        ISO date the data were extracted: cases with later final hearings are open, outcomes
        not yet observable are empty.
    non_case_ratio : float
        People in agency extracts who are in no case, per person in a case.
    reunification_comparison, reunification_odds_ratio : float
        Comparison-group reunification rate and the true (population ATE) odds ratio of FDAC.
    mother_cessation_comparison, mother_cessation_odds_ratio : float
        Mothers' cessation in the comparison group and the true odds ratio.
    father_cessation_comparison, father_cessation_odds_ratio : float
        Fathers' cessation in the comparison group and the true odds ratio.
    repeat_rate : float
        Share of comparison-group mothers back in court with a later case within seven years
        of a final hearing. Default 0.24: Broadhurst et al. (2017, *Vulnerable birth mothers
        and recurrent care proceedings*, Nuffield Foundation) found about one birth mother
        in four returned within seven years. With the default eleven-year window about one
        case in nine of the world is then the later case of an earlier case of the world
        (328 of 3,000 at the defaults). Proceedings before the window are drawn into
        ``prior_proceedings``, and a later case's mother has at least one more than in her
        earlier case. The pre-window draw alone gives about 17% of mothers some, near the
        FDAC business case's one case in five; with the world's own earlier cases it is
        27% at the defaults. 0 gives a world without repeat people.
    recurrence_hazard_ratio : float
        Planted FDAC effect on the hazard of a later case (proportional hazards, conditional
        on the case's severity). Default 0.44: Harwin et al. (2016) found no family
        disruption over three years for 51% of reunified FDAC mothers against 22% of
        comparison mothers; with constant hazards that is log(0.51) / log(0.22) = 0.44.
    supply_recurrence : bool
        Write ``returned_to_court_3y`` ready-made in ``court_outcomes.csv`` (from the truth).
        Default False: a court record does not know a family's future, so the research build
        derives it from the linked court records.
    """

    n_families: int = 3000
    seed: int = 20261121
    error_rate: float = 0.1
    hidden_confounder: float = 0.0
    opt_out_rate: float = 0.02
    fdac_share: float = 0.45
    first_year: int = 2014
    last_year: int = 2024
    extract_date: str = "2025-03-31"
    non_case_ratio: float = 1.0
    # Calibration targets (docs/fdac-figures.md): Harwin et al. 2016 reunification 25% vs 37%,
    # odds ratio 1.75 (Zhang et al. meta-analysis); mothers' cessation 30% vs 46%
    # (OR about 2.0); fathers 5% vs 25% (Harwin et al. 2014, less complete data).
    reunification_comparison: float = 0.25
    reunification_odds_ratio: float = 1.75
    mother_cessation_comparison: float = 0.30
    mother_cessation_odds_ratio: float = 1.99
    father_cessation_comparison: float = 0.05
    father_cessation_odds_ratio: float = 6.33
    repeat_rate: float = 0.24
    recurrence_hazard_ratio: float = 0.44
    supply_recurrence: bool = False

    def _problems(self) -> list[str]:
        p = []
        if not isinstance(self.n_families, int) or self.n_families < 10:
            p.append(f"n_families must be an integer >= 10, got {self.n_families!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            p.append(f"seed must be a non-negative integer, got {self.seed!r}")
        for name in ("error_rate", "opt_out_rate", "fdac_share"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0 <= v <= 1:
                p.append(f"{name} must be a number in [0, 1], got {v!r}")
        if isinstance(self.error_rate, (int, float)) and 0.5 < self.error_rate <= 1:
            p.append(
                f"error_rate must be at most 0.5 (corruptions would overlap), got {self.error_rate!r}"
            )
        if (
            not isinstance(self.hidden_confounder, (int, float))
            or not 0 <= self.hidden_confounder <= 5
        ):
            p.append(f"hidden_confounder must be in [0, 5], got {self.hidden_confounder!r}")
        if not 0 <= self.non_case_ratio <= 20:
            p.append(f"non_case_ratio must be in [0, 20], got {self.non_case_ratio!r}")
        if not 1990 <= self.first_year <= self.last_year <= 2100:
            p.append(
                f"need 1990 <= first_year <= last_year <= 2100, got {self.first_year}, {self.last_year}"
            )
        try:
            d = dt.date.fromisoformat(self.extract_date)
            if d.year < self.last_year:
                p.append(f"extract_date {self.extract_date} is before last_year {self.last_year}")
        except (TypeError, ValueError):
            p.append(f"extract_date must be an ISO date YYYY-MM-DD, got {self.extract_date!r}")
        for name in ("reunification", "mother_cessation", "father_cessation"):
            rate = getattr(self, f"{name}_comparison")
            odds = getattr(self, f"{name}_odds_ratio")
            if not 0.01 <= rate <= 0.95:
                p.append(f"{name}_comparison must be in [0.01, 0.95], got {rate!r}")
            if not 0.1 <= odds <= 20:
                p.append(f"{name}_odds_ratio must be in [0.1, 20], got {odds!r}")
        if not isinstance(self.repeat_rate, (int, float)) or not 0 <= self.repeat_rate <= 0.9:
            p.append(f"repeat_rate must be a number in [0, 0.9], got {self.repeat_rate!r}")
        hr = self.recurrence_hazard_ratio
        if not isinstance(hr, (int, float)) or not 0.05 <= hr <= 20:
            p.append(f"recurrence_hazard_ratio must be in [0.05, 20], got {hr!r}")
        if not isinstance(self.supply_recurrence, bool):
            p.append(f"supply_recurrence must be true or false, got {self.supply_recurrence!r}")
        return p


@dataclasses.dataclass(frozen=True)
class CorruptionRates:
    """Base weight of each identifier corruption (multiplied by ``error_rate``)."""

    typo_given: float = 0.6
    typo_family: float = 0.6
    nickname: float = 0.8
    name_swap: float = 0.1
    surname_change: float = 1.0  # adult women: married / maiden / double-barrelled surname
    dob_transpose: float = 0.3  # day and month swapped (when the day is <= 12)
    dob_other: float = 0.3  # a digit wrong in day, month or year
    postcode_moved: float = 1.5
    postcode_typo: float = 0.2
    missing_given: float = 0.05
    missing_dob: float = 0.2
    missing_postcode: float = 0.5
    missing_sex: float = 0.3
    duplicate: float = 0.3  # a second record for the same person in one agency


#: Named worlds: ``name -> (description, WorldConfig overrides)``. ``small_site`` is the size
#: real evaluations have (Harwin et al. 2014 compared 90 FDAC families with 101; one site
#: sees a few dozen a year): about 100 FDAC and 100 comparison families.
WORLD_PRESETS: dict[str, tuple[str, dict[str, object]]] = {
    "default": ("3,000 families across nine courts (the package's default world)", {}),
    "small_site": (
        "about 100 FDAC and 100 comparison families, the size of a real evaluation",
        {"n_families": 200, "fdac_share": 0.5},
    ),
}


def preset_config(name: str, **overrides: object) -> WorldConfig:
    """The :class:`WorldConfig` of preset ``name`` (see :data:`WORLD_PRESETS`), with
    ``overrides`` (``None`` values ignored) on top.

    Examples
    --------
    >>> cfg = preset_config("small_site", seed=3)
    >>> cfg.n_families, cfg.fdac_share, cfg.seed
    (200, 0.5, 3)
    """
    if name not in WORLD_PRESETS:
        from fdac_research.exceptions import ConfigError

        raise ConfigError(
            "world preset", [f"no preset {name!r}; known: {', '.join(WORLD_PRESETS)}"]
        )
    values = {**WORLD_PRESETS[name][1], **{k: v for k, v in overrides.items() if v is not None}}
    return dataclasses.replace(WorldConfig(), **values)  # type: ignore[arg-type]
