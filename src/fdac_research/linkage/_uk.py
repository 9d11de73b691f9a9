"""A ready linkage model for people in UK administrative records (the contract's columns)."""

from __future__ import annotations

from fdac_research.linkage._config import (
    ColumnSpec,
    Comparison,
    EMSettings,
    Level,
    LinkageModelConfig,
)

__all__ = ["uk_person_model"]


def uk_person_model(
    *,
    match_threshold: float = 0.9,
    name_similarity: tuple[float, float] = (0.92, 0.8),
    dob_within_years: int = 5,
    prior: float | None = None,
    u_max_pairs: int = 2_000_000,
    dedupe: bool = False,
) -> LinkageModelConfig:
    """The default model for ``given_name``, ``family_name``, ``date_of_birth``, ``sex``,
    ``postcode`` (docs/data-contract.md §1).

    Comparisons (first matching level wins):

    - **given_name**: exact (term-frequency adjusted); given and family name swapped;
      same nickname group (Bill/William); swapped with a typo; Jaro-Winkler >= ``name_similarity[0]``; >=
      ``name_similarity[1]``; else.
    - **family_name**: exact (term-frequency adjusted); Jaro-Winkler >=
      ``name_similarity[0]``; a part of a double-barrelled or hyphenated name in common
      (Smith-Jones / Jones); else. A changed surname (marriage) falls to *else* and is
      carried by the other comparisons.
    - **date_of_birth**: exact; day and month transposed; one character different (a digit
      keyed wrongly); same year and month; within ``dob_within_years`` years; else.
    - **postcode**: unit; sector; district; area; else.
    - **sex**: exact; else.

    Candidate pairs agree on date of birth (or its transposition); on family name and given
    name (or nickname group); on family name and year of birth; on given name and year and
    month of birth; or on postcode and one of given name, family name or year of birth.

    Parameters
    ----------
    match_threshold : float
        Match probability at or above which a pair is a link.
    name_similarity : (float, float)
        Jaro-Winkler thresholds of the two fuzzy name levels.
    dob_within_years : int
        The widest date-of-birth level.
    prior : float, optional
        Probability two random records match; ``None`` estimates it when fitting.
    u_max_pairs : int
        Random pairs sampled to estimate u probabilities.
    dedupe : bool
        The model for de-duplicating one source (the court across cases), where true
        matches are rare: EM's second session blocks on given name and full postcode
        instead of given and family name. An EM session learns only when matches are a
        substantial share of its pairs and enough comparisons are left free to tell the two
        classes apart; across one court, pairs sharing a full name are mostly different
        people with a common name (EM then takes "same given name" for a match and learns
        that a match rarely shares a date of birth), while pairs sharing a given name at one
        address are mostly the same person, with family name, date of birth and sex left
        free.

    Returns
    -------
    LinkageModelConfig
        An unfitted model; change it with :func:`dataclasses.replace` or write your own.

    Examples
    --------
    >>> model = uk_person_model()
    >>> [c.name for c in model.comparisons]
    ['given_name', 'family_name', 'date_of_birth', 'postcode', 'sex']
    """
    hi, lo = name_similarity
    given = Comparison(
        "given_name",
        (
            Level("null", ("given_name",), label="given name missing"),
            Level("exact", ("given_name",), label="exact", tf_adjustment=True),
            Level(
                "columns_reversed",
                ("given_name", "family_name"),
                label="given and family names swapped",
            ),
            Level("exact", ("given_name_nick",), label="nickname (same name group)"),
            Level(
                "columns_reversed",
                ("given_name", "family_name"),
                threshold=hi,
                label="names swapped, with a typo",
            ),
            Level("jaro_winkler", ("given_name",), threshold=hi, label=f"Jaro-Winkler >= {hi}"),
            Level("jaro_winkler", ("given_name",), threshold=lo, label=f"Jaro-Winkler >= {lo}"),
            Level("else", label="different"),
        ),
        description="Given name with nicknames and forename/surname swaps.",
    )
    family = Comparison(
        "family_name",
        (
            Level("null", ("family_name",), label="family name missing"),
            Level("exact", ("family_name",), label="exact", tf_adjustment=True),
            Level("jaro_winkler", ("family_name",), threshold=hi, label=f"Jaro-Winkler >= {hi}"),
            Level(
                "any_exact",
                ("family_name_first", "family_name_last"),
                label="part of a double-barrelled name in common",
            ),
            Level("else", label="different (or changed)"),
        ),
        description="Family name with double-barrelled and changed surnames.",
    )
    dob = Comparison(
        "date_of_birth",
        (
            Level("null", ("date_of_birth",), label="date of birth missing"),
            Level("exact", ("date_of_birth",), label="exact"),
            Level(
                "any_exact", ("date_of_birth", "date_of_birth_dm"), label="day and month transposed"
            ),
            Level("levenshtein", ("date_of_birth",), threshold=1, label="one character different"),
            Level("exact", ("date_of_birth_ym",), label="same year and month"),
            Level(
                "date_within",
                ("date_of_birth",),
                threshold=int(round(365.25 * dob_within_years)),
                label=f"within {dob_within_years} years",
            ),
            Level("else", label="different"),
        ),
        description="Date of birth: exact, transposed, partial.",
    )
    post = Comparison(
        "postcode",
        (
            Level("null", ("postcode",), label="postcode missing"),
            Level("exact", ("postcode",), label="same unit (full postcode)"),
            Level("exact", ("postcode_sector",), label="same sector"),
            Level("exact", ("postcode_district",), label="same district"),
            Level("exact", ("postcode_area",), label="same area"),
            Level("else", label="different area"),
        ),
        description="Postcode at unit, sector, district and area level.",
    )
    sex = Comparison(
        "sex",
        (
            Level("null", ("sex",), label="sex missing"),
            Level("exact", ("sex",), label="same"),
            Level("else", label="different"),
        ),
    )
    return LinkageModelConfig(
        columns=(
            ColumnSpec("given_name", "name"),
            ColumnSpec("family_name", "name"),
            ColumnSpec("date_of_birth", "date"),
            ColumnSpec("postcode", "postcode"),
            ColumnSpec("sex", "category"),
        ),
        comparisons=(given, family, dob, post, sex),
        blocking_rules=(
            ("date_of_birth_key", "given_name_nick"),
            ("date_of_birth_key", "family_name"),
            ("date_of_birth_key", "postcode_district"),
            ("given_name_nick", "family_name", "date_of_birth_year"),
            ("given_name_nick", "family_name", "postcode_district"),
            ("family_name", "date_of_birth_ym", "sex"),
            ("postcode", "given_name_nick"),
            ("postcode", "family_name"),
            ("postcode", "date_of_birth_year"),
        ),
        prior=prior,
        em=EMSettings(
            blocking_rules=(
                ("date_of_birth",),
                ("given_name", "postcode") if dedupe else ("given_name", "family_name"),
            ),
            u_max_pairs=u_max_pairs,
            prior_rules=(("given_name", "family_name", "date_of_birth"),),
            prior_recall=0.75,
        ),
        match_threshold=match_threshold,
        description="UK person model: names, date of birth, postcode, sex (fdac_research.linkage.uk_person_model).",
    )
