"""SDV's Hierarchical Modeling Algorithm (HMA) on cases -> adults, children.

SDV (the Synthetic Data Vault) is licensed under the **Business Source License 1.1**: free
for non-production use and for internal use, not for offering SDV as a commercial
synthetic-data service; check the licence before using it in production.

Metadata comes from :func:`fdac_research.synth._metadata.sdv_metadata_dict` (the package
schema), never from SDV's detection on the real data. Every table synthesizer is created
with ``enforce_min_max_values=False`` so SDV does not clip to (and thereby reveal) the real
minimum and maximum; the schema's bounds are applied by the rule enforcement instead.

Determinism: SDV keeps hidden fixed seeds (a numpy seed 73251 for the multi-table sampler,
``FIXED_RNG_SEED`` for each copula model, and rdt transformers' ``RandomState(42/43)``) and
advances them on every call. :meth:`HMASynthesizer._sample_raw` resets all of them and sets
each from the caller's ``seed`` first, so the same seed gives identical output. SDV's
metadata also returns each table's children and parents as Python *sets*
(``Metadata._get_child_map`` / ``_get_parent_map``), whose iteration order follows Python's
string-hash randomisation: with ``PYTHONHASHSEED`` unset, ``adults`` and ``children`` were
augmented (fit) and sampled in an order that changed from process to process, and so did the
release. The wrapper gives its metadata object sorted lists instead (:func:`_sorted_maps`),
so the output no longer depends on the hash seed (tested across processes). SDV saves and
restores numpy's global state around its sampling; the package itself never uses it.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fdac_research.exceptions import DependencyError
from fdac_research.synth._base import BaseSynthesizer
from fdac_research.synth._enforce import DEFAULT_MIN_TAIL_COUNT
from fdac_research.synth._metadata import DATA_TABLES, sdv_metadata_dict

__all__ = ["HMASynthesizer"]

log = logging.getLogger(__name__)


def _sdv() -> Any:
    try:
        from sdv.metadata import Metadata
        from sdv.multi_table import HMASynthesizer as SdvHMA
    except ImportError as err:  # pragma: no cover - sdv is a dependency
        raise DependencyError(
            "the 'hma' synthesizer needs the sdv package (pip install sdv)"
        ) from err
    return Metadata, SdvHMA


class HMASynthesizer(BaseSynthesizer):
    """SDV's HMA multi-table synthesizer behind the package's synthesizer contract.

    Parameters
    ----------
    default_distribution : str, default "truncnorm"
        Marginal distribution of the Gaussian copulas (SDV names: ``norm``, ``beta``,
        ``truncnorm``, ``gamma``, ``uniform``, ``gaussian_kde``).
    seed : int, default 0
        Unused by fitting (HMA's fit is deterministic); kept for the common interface.
    min_tail_count : int, default 10
        Top/bottom-coding of every released number (see :class:`BaseSynthesizer`).

    Attributes
    ----------
    model_ : sdv.multi_table.HMASynthesizer
        The fitted SDV model.
    metadata_ : dict
        The SDV metadata used (derived from the schema).
    """

    name: ClassVar[str] = "hma"

    def __init__(
        self,
        default_distribution: str = "truncnorm",
        seed: int = 0,
        min_tail_count: int = DEFAULT_MIN_TAIL_COUNT,
    ) -> None:
        self.default_distribution = default_distribution
        self.seed = seed
        self.min_tail_count = min_tail_count

    def _fit(self, tables: dict[str, pd.DataFrame]) -> None:
        allowed = ("norm", "beta", "truncnorm", "gamma", "uniform", "gaussian_kde")
        if self.default_distribution not in allowed:
            raise ValueError(
                f"default_distribution must be one of {allowed}, got {self.default_distribution!r}"
            )
        metadata_cls, hma_cls = _sdv()
        self.metadata_ = sdv_metadata_dict()
        metadata = _sorted_maps(metadata_cls.load_from_dict(self.metadata_))
        model = hma_cls(metadata, verbose=False)
        for name in DATA_TABLES:
            model.set_table_parameters(
                name,
                {
                    "enforce_min_max_values": False,
                    "default_distribution": self.default_distribution,
                },
            )
        data = {n: tables[n] for n in DATA_TABLES}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data)
        self.model_ = model

    def _seed_everything(self, seed: int) -> None:
        model = self.model_
        model.reset_sampling()
        model._numpy_seed = int(seed)
        for i, name in enumerate(DATA_TABLES):
            table = model._table_synthesizers[name]
            table._set_random_state(int(seed) * 7 + i)
            hyper = table._data_processor._hyper_transformer
            for j, (_, tr) in enumerate(sorted(hyper.field_transformers.items(), key=_key)):
                if tr is not None and hasattr(tr, "set_random_state"):
                    state = np.random.RandomState([int(seed), i, j])
                    tr.set_random_state(state, "reverse_transform")

    def _sample_raw(self, n_cases: int, seed: int) -> dict[str, pd.DataFrame]:
        self._seed_everything(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.model_.sample(num_rows=n_cases, main_table_name="cases")
        return {n: out[n] for n in DATA_TABLES}


def _key(item: tuple[Any, Any]) -> str:
    return str(item[0])


def _sorted_maps(metadata: Any) -> Any:
    """``metadata`` whose child and parent maps list table names sorted, not in a set.

    SDV iterates these maps to augment tables when fitting and to sample child tables; a set
    of strings iterates in an order that depends on ``PYTHONHASHSEED``. Callers only iterate
    the values or take the keys, so sorted lists in a ``defaultdict(list)`` are a drop-in.
    """

    def ordered(method: Callable[[], dict[str, set[str]]]) -> Callable[[], dict[str, list[str]]]:
        def wrapped() -> dict[str, list[str]]:
            return defaultdict(list, {k: sorted(v) for k, v in sorted(method().items())})

        return wrapped

    metadata._get_child_map = ordered(metadata._get_child_map)
    metadata._get_parent_map = ordered(metadata._get_parent_map)
    return metadata
