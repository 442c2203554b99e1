"""Reference percentiles: where one sample sits within a reference cohort.

A reference cohort is summarised by the 101 quantiles (0th to 100th percentile) of each metric over its samples:
Shannon diversity and observed genera after rarefaction to a common depth, the relative abundance of each key
taxon and guild (:mod:`gutstride.analysis.microbiome.taxa`), and the genus-level Bray-Curtis distances between
different people (and between samples of the same person, where the cohort has repeated samples).

The percentile of a value ``v`` is read off the quantile grid ``q_0..q_100`` by linear interpolation,

.. math:: P(v) = k + \\frac{v - q_k}{q_{k+1} - q_k}, \\quad q_k \\le v < q_{k+1},

clipped to [0, 100]; ties over a flat stretch of the grid (many zeros, say) take its middle.

A percentile says where a value sits among the cohort's people, not whether it is healthy: the cohort is not a
reference of healthy athletes, and 16S pipelines differ. The report says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gutstride.errors import BadInputError
from gutstride.model.feature_table import FeatureTable

QUANTILES = np.linspace(0.0, 100.0, 101)
#: Rarefaction depth and seed used for alpha metrics, so that a person's sample and the cohort are comparable.
RAREFACTION_DEPTH = 1000
RAREFACTION_SEED = 42
DIVERSITY_METRICS = ("shannon", "observed_features")


@dataclass
class MetricReference:
    """The quantile grid of one metric over ``n`` reference values."""

    n: int
    quantiles: list[float]

    def percentile(self, value: float) -> float:
        """Percentile rank (0-100) of ``value`` in this reference (see module docstring)."""
        q = np.asarray(self.quantiles)
        if np.isnan(value):
            return float("nan")
        lo = np.searchsorted(q, value, side="left")
        hi = np.searchsorted(q, value, side="right")
        if hi > lo:  # value equals a flat run of quantiles: take the middle of the run
            return float(QUANTILES[lo] + QUANTILES[hi - 1]) / 2.0
        if lo == 0:
            return 0.0
        if lo >= len(q):
            return 100.0
        k = lo - 1
        return float(QUANTILES[k] + (value - q[k]) / (q[k + 1] - q[k]))

    def range(self, low: float = 25.0, high: float = 75.0) -> tuple[float, float]:
        """The values at two percentiles (default the interquartile range)."""
        q = np.asarray(self.quantiles)
        return float(np.interp(low, QUANTILES, q)), float(np.interp(high, QUANTILES, q))


@dataclass
class ReferenceCohort:
    """A named reference: its origin, size, the depth used for alpha metrics, and one grid per metric."""

    name: str
    origin: str
    n_samples: int
    rarefaction_depth: int
    metrics: dict[str, MetricReference] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "reference") -> ReferenceCohort:
        """Parse a reference written by :meth:`to_json`; a malformed file is a :class:`BadInputError`."""
        try:
            raw = json.loads(text)
            metrics = {k: MetricReference(int(v["n"]), [float(x) for x in v["quantiles"]])
                       for k, v in raw["metrics"].items()}
            for key, m in metrics.items():
                if len(m.quantiles) != len(QUANTILES) or np.any(np.diff(m.quantiles) < 0):
                    raise ValueError(f"metric {key}: need {len(QUANTILES)} non-decreasing quantiles")
            return cls(str(raw["name"]), str(raw["origin"]), int(raw["n_samples"]), int(raw["rarefaction_depth"]),
                       metrics)
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInputError(f"{source}: not a gutstride reference file ({exc})") from None


def metric_reference(values: np.ndarray) -> MetricReference:
    """The quantile grid of the finite ``values``."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        raise BadInputError("no finite values to build a reference from")
    return MetricReference(int(finite.size), [float(x) for x in np.percentile(finite, QUANTILES)])


def sample_metrics(table: FeatureTable, depth: int = RAREFACTION_DEPTH,
                   seed: int = RAREFACTION_SEED) -> dict[str, np.ndarray]:
    """Per-sample metrics compared with a reference: rarefied genus-level diversity and group abundances.

    Diversity is computed on genus-collapsed counts rarefied to ``depth`` (samples below it get NaN), so that
    tables of different depths and pipelines are compared on a like-for-like basis. Tables of proportions are
    not rarefied (no counts to subsample): their diversity is computed on the proportions, and the report says
    the comparison is approximate. Group abundances use all reads.
    """
    from gutstride.analysis.microbiome.alpha import alpha_diversity
    from gutstride.analysis.microbiome.rarefy import rarefy
    from gutstride.analysis.microbiome.taxa import collapse, group_abundances

    out: dict[str, np.ndarray] = dict(group_abundances(table))
    genera = collapse(table, "genus") if table.taxonomy else table
    index = {sid: i for i, sid in enumerate(table.sample_ids)}
    if genera.value_kind == "counts":
        rarefied, _dropped = rarefy(genera, depth, seed)
    else:
        rarefied = genera
    alpha = alpha_diversity(rarefied, list(DIVERSITY_METRICS))
    for metric in DIVERSITY_METRICS:
        values = np.full(len(table.sample_ids), np.nan)
        for sid, v in alpha[metric].items():
            values[index[str(sid)]] = v
        out[metric] = values
    return out


def genus_distances(table: FeatureTable) -> np.ndarray:
    """Bray-Curtis distance matrix on genus-level relative abundances (each sample scaled to sum 1)."""
    from gutstride.analysis.microbiome.beta import beta_diversity
    from gutstride.analysis.microbiome.taxa import collapse

    genera = collapse(table, "genus") if table.taxonomy else table
    depths = genera.sample_depths()
    scaled = FeatureTable(genera.data.multiply(1.0 / np.where(depths > 0, depths, 1.0)[:, None]).tocsr(),
                          genera.sample_ids, genera.feature_ids, genera.taxonomy, "proportions")
    dm, _ids, _warnings = beta_diversity(scaled, "braycurtis")
    return dm


def build_reference(table: FeatureTable, name: str, origin: str, hosts: list[str] | None = None,
                    depth: int = RAREFACTION_DEPTH, seed: int = RAREFACTION_SEED) -> ReferenceCohort:
    """Summarise a cohort ``table`` as a :class:`ReferenceCohort`.

    Parameters
    ----------
    table
        The cohort, already limited to the samples that belong in it (e.g. faecal samples only).
    name, origin
        How the reference is labelled in reports: what it is, where it comes from.
    hosts
        Optional host (person) id per sample. With repeated samples of a person, distances between them give
        ``within_person_braycurtis``; distances between different hosts give ``between_person_braycurtis``.
        Without hosts every sample counts as a different person.
    """
    if len(table.sample_ids) < 10:
        raise BadInputError(f"a reference needs at least 10 samples; this table has {len(table.sample_ids)}")
    per_sample = sample_metrics(table, depth, seed)
    metrics = {key: metric_reference(values) for key, values in per_sample.items()
               if np.isfinite(values).any()}
    dm = genus_distances(table)
    host = np.asarray(hosts if hosts is not None else table.sample_ids)
    upper = np.triu_indices(len(host), k=1)
    same = host[upper[0]] == host[upper[1]]
    metrics["between_person_braycurtis"] = metric_reference(dm[upper][~same])
    if same.sum() >= 10:
        metrics["within_person_braycurtis"] = metric_reference(dm[upper][same])
    return ReferenceCohort(name, origin, len(table.sample_ids), depth, metrics)


def percentiles(values: dict[str, float], reference: ReferenceCohort) -> dict[str, float]:
    """Percentile of each named value in ``reference`` (metrics the reference lacks are left out)."""
    return {k: reference.metrics[k].percentile(v) for k, v in values.items() if k in reference.metrics}


def describe(reference: ReferenceCohort) -> dict[str, Any]:
    """A short description for reports: name, origin, size, depth and the metrics it covers."""
    return {"name": reference.name, "origin": reference.origin, "n_samples": reference.n_samples,
            "rarefaction_depth": reference.rarefaction_depth, "metrics": sorted(reference.metrics)}
