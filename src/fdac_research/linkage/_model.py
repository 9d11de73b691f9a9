"""The linkage estimator: one interface over the Splink (DuckDB/Spark) and recordlinkage engines."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from fdac_research.exceptions import ConfigError, NotFittedError
from fdac_research.linkage._cluster import cluster_pairs
from fdac_research.linkage._config import LinkageModelConfig
from fdac_research.linkage._prepare import nickname_key_map, prepare
from fdac_research.linkage._uk import uk_person_model

__all__ = ["LinkageModel", "ENGINES", "make_engine"]

log = logging.getLogger(__name__)

ENGINES = ("splink", "recordlinkage")
LINK_TYPES = ("link_only", "dedupe_only", "link_and_dedupe")


def make_engine(engine: str, backend: str = "duckdb", seed: int = 0, **options: Any) -> Any:
    """An engine object by name (``splink`` with ``duckdb``/``spark``, or ``recordlinkage``)."""
    if engine == "splink":
        from fdac_research.linkage._splink_engine import SplinkEngine

        return SplinkEngine(backend=backend, seed=seed, **options)
    if engine == "recordlinkage":
        from fdac_research.linkage._rl_engine import RecordLinkageEngine

        if backend not in ("duckdb", "pandas"):
            raise ConfigError(
                "linkage engine",
                [f"the recordlinkage engine runs in memory; backend {backend!r} is not available"],
            )
        return RecordLinkageEngine(seed=seed, skip_within=tuple(options.get("skip_within", ())))
    raise ConfigError("linkage engine", [f"engine must be one of {list(ENGINES)}, got {engine!r}"])


class LinkageModel:
    """A Fellegi-Sunter linkage model (scikit-learn style estimator).

    Parameters
    ----------
    config : LinkageModelConfig, optional
        The model; defaults to :func:`uk_person_model`. A fitted config (every m, u and the
        prior set) can predict without :meth:`fit`.
    engine : {"splink", "recordlinkage"}
        Splink (SQL) or recordlinkage (in memory, ECM).
    backend : {"duckdb", "spark"}
        Splink backend.
    link_type : {"link_and_dedupe", "link_only", "dedupe_only"}
        Pairs to compare: between datasets, within each, or both.
    seed : int
        Seed for random sampling (u estimation).
    id_column : str
        Record id column of every input frame.
    engine_options : dict, optional
        Passed to the engine (for Splink: ``spark``, ``threads``, ``memory_limit``).

    Attributes
    ----------
    config_ : LinkageModelConfig
        The fitted model (set by :meth:`fit`).
    datasets_ : list of str
        Names of the datasets seen in :meth:`fit`.

    Examples
    --------
    >>> import pandas as pd
    >>> from fdac_research.linkage import LinkageModel
    >>> import pandas as pd
    >>> from fdac_research.linkage import LinkageModel, uk_person_model
    >>> court = pd.DataFrame({"record_id": ["C1"], "given_name": ["William"],
    ...     "family_name": ["Smith"], "date_of_birth": ["1990-03-05"], "sex": ["M"],
    ...     "postcode": ["ST4 6PA"]})
    >>> police = court.assign(record_id="P1", given_name="Bill")
    >>> model = LinkageModel(uk_person_model(), engine="recordlinkage")
    >>> model.prepare({"court": court, "police": police})["police"]["given_name_nick"][0]
    'BILL'
    """

    def __init__(
        self,
        config: LinkageModelConfig | None = None,
        engine: str = "splink",
        backend: str = "duckdb",
        link_type: str = "link_and_dedupe",
        seed: int = 0,
        id_column: str = "record_id",
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.backend = backend
        self.link_type = link_type
        self.seed = seed
        self.id_column = id_column
        self.engine_options = engine_options

    # ------------------------------------------------------------------ helpers
    def _model(self) -> LinkageModelConfig:
        return self.config if self.config is not None else uk_person_model()

    def _engine(self) -> Any:
        return make_engine(self.engine, self.backend, self.seed, **dict(self.engine_options or {}))

    def _check_link_type(self, n: int) -> str:
        if self.link_type not in LINK_TYPES:
            raise ConfigError(
                "LinkageModel",
                [f"link_type must be one of {list(LINK_TYPES)}, got {self.link_type!r}"],
            )
        if n == 1 and self.link_type != "dedupe_only":
            return "dedupe_only"
        if n > 1 and self.link_type == "dedupe_only":
            raise ConfigError("LinkageModel", ["link_type 'dedupe_only' takes one dataset"])
        return self.link_type

    def prepare(
        self,
        data: Mapping[str, pd.DataFrame] | pd.DataFrame,
        model: LinkageModelConfig | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Standardised frames for the engines (``unique_id`` plus derived columns)."""
        model = model or self._model()
        frames = {"data": data} if isinstance(data, pd.DataFrame) else dict(data)
        if not frames:
            raise ConfigError("LinkageModel", ["give at least one dataset"])
        keys = nickname_key_map(model.nicknames)
        return {name: prepare(df, model, name, self.id_column, keys) for name, df in frames.items()}

    # ------------------------------------------------------------------ estimator API
    def fit(
        self,
        data: Mapping[str, pd.DataFrame] | pd.DataFrame,
        labels: pd.DataFrame | None = None,
        prepared: bool = False,
    ) -> LinkageModel:
        """Train without labels (prior, u by random sampling, m by EM), optionally with labels.

        Parameters
        ----------
        data : DataFrame or dict of name -> DataFrame
            One frame to de-duplicate, or several to link.
        labels : DataFrame, optional
            Clerical labels: ``source_l``, ``id_l``, ``source_r``, ``id_r``, ``is_match``.
            Matching pairs inform the m probabilities (Splink engine).
        prepared : bool
            ``data`` is already the output of :meth:`prepare` (saves re-standardising a
            large reference set for every agency).

        Returns
        -------
        LinkageModel
            ``self``, with ``config_`` the fitted model.
        """
        model = self._model()
        frames = self._frames(data, model, prepared)
        link_type = self._check_link_type(len(frames))
        self.config_ = self._engine().fit(model, frames, link_type, labels=labels)
        self.datasets_ = list(frames)
        return self

    def _fitted(self) -> LinkageModelConfig:
        cfg = getattr(self, "config_", None)
        if cfg is not None:
            return cfg
        model = self._model()
        if model.is_fitted:
            return model
        raise NotFittedError("this LinkageModel is not fitted: call fit() or pass a fitted config")

    def _frames(
        self,
        data: Mapping[str, pd.DataFrame] | pd.DataFrame,
        model: LinkageModelConfig,
        prepared: bool,
    ) -> dict[str, pd.DataFrame]:
        if not prepared:
            return self.prepare(data, model)
        return {"data": data} if isinstance(data, pd.DataFrame) else dict(data)

    def predict(
        self,
        data: Mapping[str, pd.DataFrame] | pd.DataFrame,
        floor: float | None = None,
        prepared: bool = False,
    ) -> pd.DataFrame:
        """Scored candidate pairs.

        Returns
        -------
        DataFrame
            ``source_l``, ``id_l``, ``source_r``, ``id_r``, ``match_weight`` (log2 Bayes
            factor including the prior), ``match_probability``, sorted; pairs below the
            model's ``prediction_floor`` (or ``floor``) are dropped.
        """
        model = self._fitted()
        frames = self._frames(data, model, prepared)
        link_type = self._check_link_type(len(frames))
        pairs = self._engine().predict(model, frames, link_type, floor=floor)
        return orient_pairs(pairs, list(frames))

    def cluster(
        self,
        data: Mapping[str, pd.DataFrame] | pd.DataFrame,
        pairs: pd.DataFrame,
        threshold: float | None = None,
        duplicate_free: Iterable[str] = (),
    ) -> pd.DataFrame:
        """Cluster records into people (see :func:`cluster_pairs`)."""
        frames = {"data": data} if isinstance(data, pd.DataFrame) else dict(data)
        records = pd.concat(
            [
                pd.DataFrame(
                    {"source": name, "record_id": df[self.id_column].astype(str).to_numpy()}
                )
                for name, df in frames.items()
            ],
            ignore_index=True,
        )
        thr = self._fitted().match_threshold if threshold is None else threshold
        return cluster_pairs(records, pairs, thr, duplicate_free, source_order=list(frames))


def orient_pairs(pairs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Put the earlier dataset of ``order`` on the left (then the smaller id), and sort."""
    rank = {s: i for i, s in enumerate(order)}
    rl = pairs["source_l"].map(rank).fillna(len(rank)).to_numpy()
    rr = pairs["source_r"].map(rank).fillna(len(rank)).to_numpy()
    swap = (rl > rr) | (
        (rl == rr) & (pairs["id_l"].astype(str).to_numpy() > pairs["id_r"].astype(str).to_numpy())
    )
    out = pairs.copy()
    if swap.any():
        for a, b in (("source_l", "source_r"), ("id_l", "id_r")):
            la, lb = out[a].to_numpy(copy=True), out[b].to_numpy(copy=True)
            out[a] = pd.Series(la).where(~swap, pd.Series(lb)).to_numpy()
            out[b] = pd.Series(lb).where(~swap, pd.Series(la)).to_numpy()
    # sorted by source_l, id_l, source_r, id_r (numpy's string sort: code-point order, as
    # Python compares text, but without Python comparisons: millions of pairs)
    keys = [
        out[c].to_numpy(dtype=object).astype(str) for c in ("id_r", "source_r", "id_l", "source_l")
    ]
    out = out.iloc[np.lexsort(keys)].reset_index(drop=True)
    out["match_weight"] = out["match_weight"].astype(float).round(6)
    out["match_probability"] = out["match_probability"].astype(float).round(8)
    return out
