"""Identities (names, postcodes) and the corruption of identifiers in agency records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fdac_research import reference

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # letters used in inward codes


def _zipf_weights(n: int, exponent: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _tail_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    first, second = reference.SURNAME_PARTS
    a = rng.choice(np.array(first), n)
    b = rng.choice(np.array(second), n)
    return np.char.add(a.astype(str), b.astype(str)).astype(object)


def sample_surnames(rng: np.random.Generator, n: int, tail_share: float = 0.25) -> np.ndarray:
    """Surnames with a Zipf head of common names and a long tail of composed rarer ones."""
    names = np.array(reference.SURNAMES, dtype=object)
    out = rng.choice(names, n, p=_zipf_weights(len(names), 0.9))
    tail = rng.random(n) < tail_share
    out[tail] = _tail_surnames(rng, int(tail.sum()))
    return out


def sample_given(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    """Given names by sex (``"F"``/``"M"``) with Zipf-like frequencies."""
    out = np.empty(len(sex), dtype=object)
    for code, pool in (("F", reference.FEMALE_NAMES), ("M", reference.MALE_NAMES)):
        idx = np.flatnonzero(sex == code)
        arr = np.array(pool, dtype=object)
        out[idx] = rng.choice(arr, len(idx), p=_zipf_weights(len(arr), 0.8))
    return out


def sample_postcodes(rng: np.random.Generator, local_authority: np.ndarray) -> np.ndarray:
    """Full postcodes in the districts of each person's local authority."""
    out = np.empty(len(local_authority), dtype=object)
    las = pd.unique(local_authority)
    for la in las:
        idx = np.flatnonzero(local_authority == la)
        districts = np.array(reference.LOCAL_AUTHORITIES[la][1], dtype=object)
        out[idx] = random_postcodes(rng, districts, len(idx))
    return out


def random_postcodes(rng: np.random.Generator, districts: np.ndarray, n: int) -> np.ndarray:
    """``n`` postcodes in the given districts (sector digit + two unit letters)."""
    d = rng.choice(districts, n).astype(str)
    sector = rng.integers(0, 10, n).astype(str)
    u = rng.choice(_UNIT_LETTERS, (n, 2))
    unit = np.char.add(u[:, 0].astype(str), u[:, 1].astype(str))
    return np.char.add(np.char.add(np.char.add(d, " "), sector), unit).astype(object)


def typo(rng: np.random.Generator, word: str) -> str:
    """One keying error: substitution, deletion, insertion or adjacent transposition."""
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))  # keep the first letter, as most typos do
    kind = int(rng.integers(0, 4))
    c = str(rng.choice(_LETTERS))
    if kind == 0:
        return word[:i] + c + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + c + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word


def nickname(rng: np.random.Generator, name: str) -> str:
    """An informal form of ``name`` when the nickname table has one, else ``name``."""
    forms = reference.NICKNAMES.get(name)
    return str(rng.choice(np.array(forms, dtype=object))) if forms else name


def corrupt_identities(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    rates: dict[str, float],
    is_adult_female: np.ndarray,
    other_surname: np.ndarray,
    moved_postcode: np.ndarray,
) -> pd.DataFrame:
    """Apply identifier corruption to a copy of ``frame`` (columns given_name, family_name,
    date_of_birth (datetime64[D]), sex, postcode).

    ``rates`` maps each corruption to its per-record probability. ``other_surname`` is the
    surname a woman may be recorded under (maiden or partner's); ``moved_postcode`` is a
    postcode the person may have moved to.
    """
    out = frame.copy()
    n = len(out)
    given = out["given_name"].to_numpy(dtype=object).copy()
    family = out["family_name"].to_numpy(dtype=object).copy()
    dob = out["date_of_birth"].to_numpy(dtype="datetime64[D]").copy()
    post = out["postcode"].to_numpy(dtype=object).copy()
    sex = out["sex"].to_numpy(dtype=object).copy()

    def pick(key: str, eligible: np.ndarray | None = None) -> np.ndarray:
        hit = rng.random(n) < rates.get(key, 0.0)
        return np.flatnonzero(hit if eligible is None else hit & eligible)

    for i in pick("nickname"):
        given[i] = nickname(rng, given[i])
    change = pick("surname_change", is_adult_female)
    barrel = rng.random(len(change)) < 0.3
    for j, i in enumerate(change):
        family[i] = f"{family[i]}-{other_surname[i]}" if barrel[j] else other_surname[i]
    for i in pick("typo_given"):
        given[i] = typo(rng, given[i])
    for i in pick("typo_family"):
        family[i] = typo(rng, family[i])
    swap = pick("name_swap")
    given[swap], family[swap] = family[swap], given[swap]

    # Dates of birth: day/month transposed where that is a valid date, or one field off.
    ts = pd.DatetimeIndex(dob)
    year, month, day = ts.year.to_numpy(), ts.month.to_numpy(), ts.day.to_numpy()
    tr = pick("dob_transpose", (day <= 12) & (day != month))
    month_new, day_new, year_new = month.copy(), day.copy(), year.copy()
    month_new[tr], day_new[tr] = day[tr], month[tr]
    other = pick("dob_other")
    which = rng.integers(0, 3, len(other))
    day_new[other[which == 0]] = np.clip(
        day[other[which == 0]] + rng.choice([-1, 1, 10, -10], int((which == 0).sum())), 1, 28
    )
    month_new[other[which == 1]] = np.clip(
        month[other[which == 1]] + rng.choice([-1, 1], int((which == 1).sum())), 1, 12
    )
    year_new[other[which == 2]] = year[other[which == 2]] + rng.choice(
        [-1, 1, -10, 10], int((which == 2).sum())
    )
    changed = np.union1d(tr, other)
    if len(changed):
        fixed = pd.to_datetime(
            pd.DataFrame(
                {"year": year_new[changed], "month": month_new[changed], "day": day_new[changed]}
            ),
            errors="coerce",
        ).to_numpy(dtype="datetime64[D]")
        ok = ~np.isnat(fixed)
        dob[changed[ok]] = fixed[ok]

    moved = pick("postcode_moved")
    post[moved] = moved_postcode[moved]
    for i in pick("postcode_typo"):
        p = str(post[i])
        post[i] = p[:-2] + str(rng.choice(_UNIT_LETTERS)) + p[-1]

    given[pick("missing_given")] = None
    dob_missing = pick("missing_dob")
    dob[dob_missing] = np.datetime64("NaT")
    post[pick("missing_postcode")] = None
    sex[pick("missing_sex")] = None

    out["given_name"], out["family_name"], out["postcode"], out["sex"] = given, family, post, sex
    out["date_of_birth"] = dob
    return out
