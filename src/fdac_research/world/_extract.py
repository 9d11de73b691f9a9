"""Extract-scale worlds: one agency extract of millions of records, written in chunks.

A national extract (every NHS patient, every person known to the police) holds millions of
people who are in no care-proceedings case and, among them, the few thousand who are. This
module starts from a world written by :func:`~fdac_research.world.generate_world` and
replaces one agency's extract with such a file:

* the court people's own records in that agency (taken from the generated world, so they
  carry its usual identity noise relative to the court's records, duplicates included);
* ``n_records`` in all, the rest people in no case, spread over England and Wales, with
  name frequencies of that size (surnames: the reference list as the common head, with
  Smith at the share it has in Great Britain, and a long tail of rarer composed names) and
  postcode frequencies of real postcode units (a few hundred live units per district);
* the truth (``truth/agency_links.csv``) for every record.

The file is ``agencies/<agency>.parquet``, written chunk by chunk with pyarrow, so memory
holds one chunk (``chunk_size`` records) at a time whatever the size. Chunk *k* is a
function of the seed, the agency, *k* and ``chunk_size`` alone: a larger extract with the
same seed and chunk size starts with the same records. Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fdac_research import reference, schema
from fdac_research._io import atomic_dir, write_json
from fdac_research._progress import progress
from fdac_research.exceptions import ConfigError
from fdac_research.world._config import CorruptionRates, WorldConfig
from fdac_research.world._identity import corrupt_identities, sample_given

__all__ = ["write_extract_world", "national_surnames", "POSTCODE_AREAS"]

log = logging.getLogger(__name__)

#: Share of people in Great Britain called Smith, the most common surname: about 11,838 per
#: million (britishsurnames.co.uk, "Surname statistics for Smith", from the electoral
#: roll); the Registrar General's 1856 count for England and Wales gave 1.36%. The
#: reference surnames are the head of the distribution, scaled so that Smith has this share.
SMITH_SHARE = 0.011838

#: Postcode areas of England and Wales (the letters before the district number).
POSTCODE_AREAS: tuple[str, ...] = tuple(
    """
    AL B BA BB BD BH BL BN BR BS CA CB CF CH CM CO CR CT CV CW DA DE DH DL DN DT DY E EC EN
    EX FY GL GU HA HD HG HP HR HU HX IG IP KT L LA LD LE LL LN LS LU M ME MK N NE NG NN NP
    NR NW OL OX PE PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TF TN
    TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO
    """.split()  # noqa: SIM905 - a compact name list, as in fdac_research.reference
)
#: Districts numbered 1 to this in each area (illustrative numbering; some 2,000 districts
#: in all, the order of the number England and Wales have).
DISTRICTS_PER_AREA = 20
#: Live unit postcodes per district: about 1.8 million live units in some 3,000 districts
#: of the UK (ONS Postcode Directory) is about 600; each unit is a sector digit and two
#: letters, so a district has 10 sectors of 60 live letter pairs.
UNITS_PER_SECTOR = 60

_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
_ID_SPACE = 9 * 10**9  # record numbers are 10 digits from 10**9: never a base world's 9
_ID_STEP = 6_700_417  # a prime not dividing _ID_SPACE: (step * k + offset) is a bijection
_DEFAULT_CHUNK = 250_000


def _zipf(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def national_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` surnames with national frequencies.

    The reference surnames (ordered from most common) are drawn with Zipf weights (exponent
    0.9, as the world generator draws them) scaled so the first, Smith, has
    :data:`SMITH_SHARE`; everyone else has a rarer name composed of two or three reference
    name parts ("Ash" + "bury" + "ton"), drawn uniformly from some 20,000 such names.
    """
    head = _zipf(len(reference.SURNAMES), 0.9)
    head_share = min(SMITH_SHARE / head[0], 1.0)
    out = np.empty(n, dtype=object)
    in_head = rng.random(n) < head_share
    k = int(in_head.sum())
    out[in_head] = rng.choice(np.array(reference.SURNAMES, dtype=object), k, p=head)
    first = np.array(reference.SURNAME_PARTS[0], dtype=object)
    second = np.array([s.lower() for s in reference.SURNAME_PARTS[1]], dtype=object)
    m = n - k
    a, b, c = rng.choice(first, m), rng.choice(second, m), rng.choice(second, m)
    three = rng.random(m) < 0.5
    tail = a + b
    tail[three] = tail[three] + c[three]
    out[~in_head] = tail
    return out


def _live_units(seed: int) -> np.ndarray:
    """For each district and sector, the letter pairs in use: ``(districts, 10, UNITS)``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9057]))
    n = len(_district_names())
    keys = rng.random((n * 10, len(_UNIT_LETTERS) ** 2)).argsort(axis=1)[:, :UNITS_PER_SECTOR]
    return keys.reshape(n, 10, UNITS_PER_SECTOR)


def _district_names() -> np.ndarray:
    """Every district: 1 to :data:`DISTRICTS_PER_AREA` in each area, and the districts of
    the world's local authorities (so court people have neighbours in no case)."""
    numbered = {f"{a}{d}" for a in POSTCODE_AREAS for d in range(1, DISTRICTS_PER_AREA + 1)}
    local = {d for _, districts in reference.LOCAL_AUTHORITIES.values() for d in districts}
    return np.array(sorted(numbered | local), dtype=object)


def national_postcodes(rng: np.random.Generator, n: int, units: np.ndarray) -> np.ndarray:
    """``n`` postcodes: a district uniformly, then one of its live units uniformly."""
    names = _district_names()
    d = rng.integers(0, len(names), n)
    s = rng.integers(0, 10, n)
    pair = units[d, s, rng.integers(0, units.shape[2], n)]
    k = len(_UNIT_LETTERS)
    letters = np.char.add(_UNIT_LETTERS[pair // k], _UNIT_LETTERS[pair % k])
    out = np.char.add(np.char.add(names[d].astype(str), " "), s.astype(str))
    return np.char.add(out, letters).astype(object)


def _arrow_schema(table: schema.Table) -> Any:
    import pyarrow as pa

    kinds = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
    return pa.schema([(c.name, kinds.get(c.kind, pa.string())) for c in table.columns])


def _attribute(col: schema.Column, rng: np.random.Generator, n: int) -> Any:
    """Values of an agency attribute for people in no case (never analysed: the research
    dataset only carries court people's records)."""
    if col.kind == "bool":
        return rng.random(n) < 0.1
    if col.kind == "int":
        return rng.poisson(0.3, n).astype(np.int64)
    if col.kind == "float":
        lo = 0.0 if col.minimum is None else float(col.minimum)
        hi = lo + 100.0 if col.maximum is None else float(col.maximum)
        return np.round(rng.uniform(lo, hi, n), 1)
    if col.kind == "category" and col.allowed:
        return rng.choice(np.array(col.allowed, dtype=object), n)
    return np.full(n, None, dtype=object)


def _typed(frame: pd.DataFrame, table: schema.Table) -> Any:
    """``frame`` (contract text or typed values) as an Arrow table of the extract's schema."""
    import pyarrow as pa

    arrays = []
    for c in table.columns:
        s = frame[c.name].astype(object)
        missing = (s.isna() | (s == "")).to_numpy()
        if c.kind == "bool":
            v = s.map({"true": True, "false": False, True: True, False: False})
            values = v.fillna(False).to_numpy(dtype=bool)
            arrays.append(pa.array(values, pa.bool_(), mask=missing))
        elif c.kind in ("int", "float"):
            num = pd.to_numeric(s.mask(pd.Series(missing, index=s.index)), errors="raise")
            t = pa.int64() if c.kind == "int" else pa.float64()
            values = num.fillna(0).to_numpy(dtype=np.int64 if c.kind == "int" else float)
            arrays.append(pa.array(values, t, mask=missing))
        else:
            arrays.append(pa.array(s.fillna("").to_numpy(dtype=object), pa.string(), mask=missing))
    return pa.Table.from_arrays(arrays, schema=_arrow_schema(table))


def _chunk(
    k: int,
    size: int,
    *,
    seed: int,
    agency: str,
    cfg: WorldConfig,
    units: np.ndarray,
    table: schema.Table,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chunk ``k``: ``size`` records of people in no case, and their truth links."""
    rng = np.random.default_rng(
        np.random.SeedSequence([seed, schema.AGENCIES.index(agency) + 1], spawn_key=(k,))
    )
    probs = {f: v * cfg.error_rate for f, v in dataclasses.asdict(CorruptionRates()).items()}
    n_dup = int(rng.binomial(size, probs["duplicate"] / (1 + probs["duplicate"])))
    n_people = size - n_dup
    who = np.concatenate([np.arange(n_people), rng.integers(0, n_people, n_dup)])
    sex = rng.choice(np.array(["F", "M"], dtype=object), n_people)
    # ages 0-89 uniformly: a population extract, children and adults alike
    days = rng.integers(0, 90 * 365, n_people)
    extract = np.datetime64(cfg.extract_date)
    dob = (extract - days.astype("timedelta64[D]")).astype("datetime64[D]")
    clean = pd.DataFrame(
        {
            "given_name": sample_given(rng, sex),
            "family_name": national_surnames(rng, n_people),
            "date_of_birth": dob,
            "sex": sex,
            "postcode": national_postcodes(rng, n_people, units),
        }
    ).iloc[who]
    female_adult = (sex == "F")[who] & (days[who] >= 18 * 365)
    ident = corrupt_identities(
        rng,
        clean.reset_index(drop=True),
        probs,
        female_adult,
        national_surnames(rng, size),
        national_postcodes(rng, size, units),
    )
    ident.loc[rng.random(size) < 0.03, "sex"] = None  # as the generator's agencies record it
    order = rng.permutation(size)
    ident = ident.iloc[order].reset_index(drop=True)
    person = (k * size + who[order]).astype(np.int64)
    number = (_ID_STEP * (k * size + np.arange(size, dtype=np.int64)) + seed) % _ID_SPACE
    prefix = _prefix(agency)
    frame = pd.DataFrame({"record_id": [f"{prefix}{10**9 + x}" for x in number]})
    for c in ident.columns:
        frame[c] = ident[c].to_numpy()
    frame["date_of_birth"] = (
        pd.Series(frame["date_of_birth"]).dt.strftime("%Y-%m-%d").astype(object)
    )
    identity = {"record_id", *ident.columns}
    for col in table.columns:
        if col.name not in identity:
            frame[col.name] = _attribute(col, rng, size)
    truth = pd.DataFrame(
        {
            "agency": agency,
            "record_id": frame["record_id"],
            "true_person_id": [f"N{seed % 1000:03d}{p:010d}" for p in person],
        }
    )
    return frame, truth


def _prefix(agency: str) -> str:
    from fdac_research.world._agencies import _PREFIX

    return _PREFIX[agency]


def _check(n_records: int, agency: str, chunk_size: int, seed: int) -> None:
    problems = []
    if agency not in schema.AGENCIES:
        problems.append(f"agency must be one of {list(schema.AGENCIES)}, got {agency!r}")
    if not isinstance(n_records, int) or isinstance(n_records, bool) or n_records < 1:
        problems.append(f"n_records must be a positive integer, got {n_records!r}")
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 100:
        problems.append(f"chunk_size must be an integer >= 100, got {chunk_size!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        problems.append(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_records, int) and n_records > _ID_SPACE:
        problems.append(f"n_records must be at most {_ID_SPACE:,}, got {n_records:,}")
    if problems:
        raise ConfigError("extract world", problems)


def write_extract_world(
    out: Path | str,
    n_records: int = 10_000_000,
    *,
    agency: str = "health",
    config: WorldConfig | None = None,
    chunk_size: int = _DEFAULT_CHUNK,
    check: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """Write a world whose ``agency`` extract has ``n_records`` records.

    Parameters
    ----------
    out : path
        Folder to write (a sources folder with ``truth/``), replaced atomically.
    n_records : int
        Records in the extract, the court people's own records included (when they alone
        are more, the extract holds just them).
    agency : str
        The agency whose extract is replaced (``agencies/<agency>.csv`` becomes
        ``agencies/<agency>.parquet``).
    config : WorldConfig, optional
        The world's court side (families, seed, error rate...); ``overrides`` replace
        fields. The seed also seeds the extract.
    chunk_size : int
        Records generated and written at once (memory is bounded by one chunk).
    check : bool
        Validate the folder against the data contract when written (reads the whole
        extract: leave it off for tens of millions of records and run ``validate`` later).

    Returns
    -------
    dict
        ``n_records``, ``n_court_records``, ``n_chunks``, ``agency``, ``file``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fdac_research.validation import check_folder
    from fdac_research.world._generate import generate_world

    cfg = config or WorldConfig()
    if overrides:
        cfg = WorldConfig.from_dict({**cfg.to_dict(), **overrides})
    _check(n_records, agency, chunk_size, cfg.seed)
    table = schema.agency_table(agency)
    with atomic_dir(Path(out)) as tmp:
        base = tmp / ".base"
        generate_world(base, cfg)
        for item in sorted(base.iterdir()):
            shutil.move(str(item), str(tmp / item.name))
        base.rmdir()
        court_ids = set(
            pd.read_csv(tmp / "truth" / "people.csv", dtype=str, usecols=["true_person_id"])[
                "true_person_id"
            ]
        )
        links = pd.read_csv(tmp / "truth" / "agency_links.csv", dtype=str, keep_default_na=False)
        mine = links[(links["agency"] == agency) & links["true_person_id"].isin(court_ids)]
        csv = tmp / "agencies" / f"{agency}.csv"
        records = pd.read_csv(csv, dtype=str, keep_default_na=False)
        court_records = records[records["record_id"].isin(set(mine["record_id"]))]
        court_records = court_records.reset_index(drop=True)
        csv.unlink()
        rest = max(n_records - len(court_records), 0)
        n_chunks = -(-rest // chunk_size)
        units = _live_units(cfg.seed)
        truth_path = tmp / "truth" / "agency_links.csv"
        links[links["agency"] != agency].to_csv(truth_path, index=False, lineterminator="\n")
        mine = mine.set_index("record_id").loc[court_records["record_id"]].reset_index()
        court_truth = mine[["agency", "record_id", "true_person_id"]].reset_index(drop=True)
        path = tmp / "agencies" / f"{agency}.parquet"
        # Court people's records go into chunks at random, shuffled among the others (a
        # file whose first rows were the court's people would give the answer away).
        mix = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0x3D1C]))
        home = mix.integers(0, max(n_chunks, 1), len(court_records))
        court_typed = _typed(court_records, table)
        with pq.ParquetWriter(path, _arrow_schema(table), compression="zstd") as writer:
            steps = progress(range(max(n_chunks, 1)), desc=f"{agency} extract", total=n_chunks)
            for k in steps:
                mine_k = np.flatnonzero(home == k)
                parts, truths = [court_typed.take(mine_k)], [court_truth.iloc[mine_k]]
                if k < n_chunks:
                    size = min(chunk_size, rest - k * chunk_size)
                    frame, truth = _chunk(
                        k,
                        chunk_size,
                        seed=cfg.seed,
                        agency=agency,
                        cfg=cfg,
                        units=units,
                        table=table,
                    )
                    # the last chunk is the full chunk cut short: chunks never depend on the total
                    parts.append(_typed(frame.iloc[:size], table))
                    truths.append(truth.iloc[:size])
                    del frame, truth
                both = pa.concat_tables(parts)
                order = mix.permutation(both.num_rows)
                writer.write_table(both.take(order))
                _append(pd.concat(truths, ignore_index=True).iloc[order], truth_path)
                del both, parts, truths
        effects = tmp / "truth" / "effects.json"
        meta = json.loads(effects.read_text(encoding="utf-8"))
        total = len(court_records) + rest
        meta["counts"]["n_agency_records"][agency] = total
        meta["extract"] = {
            "agency": agency,
            "n_records": total,
            "n_court_records": int(len(court_records)),
            "chunk_size": chunk_size,
            "file": f"agencies/{agency}.parquet",
        }
        write_json(meta, effects)
        if check:
            check_folder(tmp, "sources")
    log.info("wrote %s extract of %d records to %s", agency, total, out)
    return {**meta["extract"], "n_chunks": n_chunks}


def _append(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, mode="a", header=False, index=False, lineterminator="\n")


# ---------------------------------------------------------------------- command line
def _command(args: argparse.Namespace) -> int:
    overrides = {
        k: v for k, v in {"n_families": args.families, "seed": args.seed}.items() if v is not None
    }
    summary = write_extract_world(
        args.out,
        args.records,
        agency=args.agency,
        chunk_size=args.chunk_size,
        check=not args.no_check,
        **overrides,
    )
    print(json.dumps(summary, indent=2, sort_keys=True), file=sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``generate-extract`` command."""
    p = sub.add_parser(
        "generate-extract",
        help="write a world with one national-scale agency extract (Parquet, in chunks)",
        description=(
            "Generate a synthetic world, then replace one agency's extract with "
            "agencies/<agency>.parquet of --records records: the court people's records and "
            "people in no case at national name and postcode frequencies, with the truth."
        ),
    )
    p.add_argument("--out", required=True, help="folder to write (replaced atomically)")
    p.add_argument("--records", type=int, default=10_000_000, help="records in the extract")
    p.add_argument("--agency", choices=list(schema.AGENCIES), default="health")
    p.add_argument("--families", type=int, help="families of the court side (default 3000)")
    p.add_argument("--seed", type=int, help="random seed (default: the world's)")
    p.add_argument("--chunk-size", type=int, default=_DEFAULT_CHUNK, help="records per chunk")
    p.add_argument(
        "--no-check",
        action="store_true",
        help="do not validate the written folder (it reads the whole extract)",
    )
    p.set_defaults(func=_command)
