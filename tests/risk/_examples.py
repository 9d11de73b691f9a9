"""Hand-made tables shared by the risk and report tests."""

from __future__ import annotations

import pandas as pd

#: The table of issue 15 (T2).
T2 = [
    [210, 14, 22, 18, 6],
    [180, 9, 31, 25, 11],
    [95, 3, 0, 12, 2],
    [140, 12, 45, 7, 0],
    [66, 0, 5, 14, 1],
    [120, 16, 11, 19, 10],
]

#: Children by (sex, age band) and outcome (reunified, not): (F, 45+) holds 8 and 14,
#: (M, 18-29) 25 and 5, (M, 45+) 3 and 16.
SEX_AGE = {
    ("F", "0-17"): (30, 25),
    ("F", "18-29"): (40, 35),
    ("F", "30-44"): (22, 18),
    ("F", "45+"): (8, 14),
    ("M", "0-17"): (12, 30),
    ("M", "18-29"): (25, 5),
    ("M", "30-44"): (18, 20),
    ("M", "45+"): (3, 16),
}
OUTCOMES = ["reunified", "not reunified"]


def three_way() -> pd.DataFrame:
    """:data:`SEX_AGE` as a table with a (sex, age) MultiIndex."""
    idx = pd.MultiIndex.from_tuples(list(SEX_AGE), names=["sex", "age"])
    return pd.DataFrame([list(v) for v in SEX_AGE.values()], index=idx, columns=OUTCOMES)
