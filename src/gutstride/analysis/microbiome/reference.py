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

Honest comparisons (:func:`sample_percentiles`)
-----------------------------------------------
- **Same taxonomy only.** A reference records the taxonomy its lineages use (``taxonomy``, e.g. Greengenes 13_8).
  A sample whose lineages come from another taxonomy (SILVA, GTDB, a consumer pipeline; see
  :func:`~gutstride.analysis.microbiome.taxa.detect_taxonomy`), or a shotgun profile against a 16S reference, gets
  no percentile, only a note: genus names, and so genus-level diversity and guilds, differ between them.
- **Never against itself.** A reference keeps one record per member sample (a fingerprint, the host and its
  values). A sample found in the reference (same fingerprint: SHA-256 of its sorted ``feature_id=value`` pairs) is
  compared with the reference *without* it: the quantile grids of the per-sample metrics are rebuilt from the other
  members' values. The distance distributions are not rebuilt (they are not stored per member).
- **Rarefaction uncertainty.** Diversity is computed after rarefying to the reference depth. One random subsample
  gives one value among many, so the sample is rarefied ``n_rarefactions`` times (seeds ``seed``,
  ``seed + 1``...), and the report gives the median percentile and its range (minimum to maximum) over them.
"""

from __future__ import annotations

import hashlib
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
#: How many rarefactions the percentile range of a sample rests on (:func:`sample_percentiles`).
N_RAREFACTIONS = 20
#: Formats of shotgun (metagenomic) profiles, never compared with a 16S amplicon reference.
SHOTGUN_FORMATS = ("metaphlan", "kraken")


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
class ReferenceMember:
    """One sample of a reference cohort: its fingerprint (see :func:`sample_fingerprint`), host and metric values."""

    fingerprint: str
    host: str
    values: dict[str, float]


@dataclass
class ReferenceCohort:
    """A named reference: its origin, size, the depth used for alpha metrics, the taxonomy of its lineages, one grid
    per metric, and its members (so that a sample of the cohort is never compared with itself)."""

    name: str
    origin: str
    n_samples: int
    rarefaction_depth: int
    metrics: dict[str, MetricReference] = field(default_factory=dict)
    taxonomy: str = "unknown"
    members: list[ReferenceMember] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @property
    def taxonomy_family(self) -> str:
        """The taxonomy's name without its version ("Greengenes 13_8" -> "Greengenes")."""
        return self.taxonomy.split()[0] if self.taxonomy else "unknown"

    def member(self, fingerprint: str) -> ReferenceMember | None:
        """The member with this fingerprint, if the sample is part of the reference."""
        return next((m for m in self.members if m.fingerprint == fingerprint), None)

    def without(self, fingerprint: str) -> ReferenceCohort:
        """The reference without the member ``fingerprint``: per-sample metric grids rebuilt from the others."""
        rest = [m for m in self.members if m.fingerprint != fingerprint]
        if len(rest) == len(self.members):
            return self
        metrics = dict(self.metrics)
        for key in {k for m in rest for k in m.values}:
            values = np.array([m.values.get(key, np.nan) for m in rest], dtype=float)
            if np.isfinite(values).any():
                metrics[key] = metric_reference(values)
        return ReferenceCohort(self.name, self.origin, len(rest), self.rarefaction_depth, metrics, self.taxonomy,
                               rest)

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
            members = [ReferenceMember(str(m["fingerprint"]), str(m["host"]),
                                       {k: float(v) for k, v in m["values"].items() if v is not None})
                       for m in raw.get("members", [])]
            return cls(str(raw["name"]), str(raw["origin"]), int(raw["n_samples"]), int(raw["rarefaction_depth"]),
                       metrics, str(raw.get("taxonomy", "unknown")), members)
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
    groups, genera = _unrarefied_metrics(table)
    return {**groups, **_rarefied_diversity(table, genera, depth, seed)}


def _unrarefied_metrics(table: FeatureTable) -> tuple[dict[str, np.ndarray], FeatureTable]:
    """What :func:`sample_metrics` computes once whatever the rarefaction: the group abundances (all reads) and the
    genus-collapsed table."""
    from gutstride.analysis.microbiome.taxa import collapse, group_abundances

    return dict(group_abundances(table)), collapse(table, "genus") if table.taxonomy else table


def _rarefied_diversity(table: FeatureTable, genera: FeatureTable, depth: int, seed: int) -> dict[str, np.ndarray]:
    """The diversity metrics of :func:`sample_metrics` over ``table``'s samples, from its genus table ``genera``
    rarefied to ``depth`` with ``seed`` (proportions are not rarefied)."""
    from gutstride.analysis.microbiome.alpha import alpha_diversity
    from gutstride.analysis.microbiome.rarefy import rarefy

    index = {sid: i for i, sid in enumerate(table.sample_ids)}
    if genera.value_kind == "counts":
        rarefied, _dropped = rarefy(genera, depth, seed)
    else:
        rarefied = genera
    alpha = alpha_diversity(rarefied, list(DIVERSITY_METRICS))
    out: dict[str, np.ndarray] = {}
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


def sample_fingerprint(table: FeatureTable, i: int) -> str:
    """SHA-256 of sample ``i``'s sorted ``feature_id=value`` pairs (non-zero values, ``repr`` of the value rounded to
    9 decimals): the same profile gives the same fingerprint whatever its sample id or the file it came in."""
    row = table.data[[i], :]
    row = row.tocoo() if hasattr(row, "tocoo") else row
    pairs = sorted(f"{table.feature_ids[j]}={round(float(v), 9)!r}" for j, v in zip(row.col, row.data, strict=True)
                   if v != 0)
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()


def build_reference(table: FeatureTable, name: str, origin: str, hosts: list[str] | None = None,
                    depth: int = RAREFACTION_DEPTH, seed: int = RAREFACTION_SEED,
                    taxonomy: str | None = None) -> ReferenceCohort:
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
    taxonomy
        The taxonomy of the cohort's lineages ("Greengenes 13_8"); detected from the names when not given.
    """
    from gutstride.analysis.microbiome.taxa import detect_taxonomy

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
    members = [ReferenceMember(sample_fingerprint(table, i), str(host[i]),
                               {k: float(v[i]) for k, v in per_sample.items() if np.isfinite(v[i])})
               for i in range(len(table.sample_ids))]
    return ReferenceCohort(name, origin, len(table.sample_ids), depth, metrics,
                           taxonomy or detect_taxonomy(table), members)


def sample_percentiles(table: FeatureTable, reference: ReferenceCohort, formats: list[str] | None = None,
                       n_rarefactions: int = N_RAREFACTIONS, seed: int = RAREFACTION_SEED) -> list[dict[str, Any]]:
    """Each sample's place in ``reference``, compared honestly (see "Honest comparisons" above).

    Returns one dict per sample: ``sample_id``, ``taxonomy`` (detected), ``comparable`` and a ``note`` when not,
    ``in_reference`` and ``host`` (when the sample is one of the reference's members, which is then left out),
    ``shannon`` (median over the rarefactions), ``shannon_percentile`` (median) and ``shannon_percentile_range``
    (min, max) over ``n_rarefactions`` rarefactions, and ``percentiles`` of the key taxa and guilds (no rarefaction:
    all reads). Percentiles are ``None`` where no comparison is made.
    """
    from gutstride.analysis.microbiome.taxa import detect_taxonomy

    group_values, genera = _unrarefied_metrics(table)
    runs = [_rarefied_diversity(table, genera, reference.rarefaction_depth, seed + k) for k in range(n_rarefactions)]
    shannon = np.array([r["shannon"] for r in runs])  # n_rarefactions x n_samples
    out = []
    for i, sid in enumerate(table.sample_ids):
        taxonomy = detect_taxonomy(table, i)
        fmt = (formats[i] if formats else "") or ""
        note = None
        if fmt.lower() in SHOTGUN_FORMATS:
            note = (f"a shotgun ({fmt}) profile is not compared with {reference.name}, a 16S amplicon reference: no "
                    "percentile")
        elif taxonomy != reference.taxonomy_family:
            note = (f"this sample's taxonomy ({taxonomy}) is not the reference's ({reference.taxonomy}): genus names "
                    "differ between taxonomies, so no percentile is given")
        fingerprint = sample_fingerprint(table, i)
        member = reference.member(fingerprint)
        ref = reference.without(fingerprint) if member else reference
        row: dict[str, Any] = {
            "sample_id": sid, "taxonomy": taxonomy, "comparable": note is None, "note": note,
            "in_reference": member is not None, "host": member.host if member else None,
            "shannon": float(np.nanmedian(shannon[:, i])) if np.isfinite(shannon[:, i]).any() else float("nan"),
            "n_rarefactions": n_rarefactions, "shannon_percentile": None, "shannon_percentile_range": None,
            "percentiles": {},
        }
        if note is None and "shannon" in ref.metrics and np.isfinite(shannon[:, i]).all():
            pct = np.array([ref.metrics["shannon"].percentile(float(v)) for v in shannon[:, i]])
            row["shannon_percentile"] = float(np.median(pct))
            row["shannon_percentile_range"] = (float(pct.min()), float(pct.max()))
        if note is None:
            groups = {k: float(v[i]) for k, v in group_values.items()}
            row["percentiles"] = percentiles({k: v for k, v in groups.items() if np.isfinite(v)}, ref)
        out.append(row)
    return out


def percentiles(values: dict[str, float], reference: ReferenceCohort) -> dict[str, float]:
    """Percentile of each named value in ``reference`` (metrics the reference lacks are left out)."""
    return {k: reference.metrics[k].percentile(v) for k, v in values.items() if k in reference.metrics}


def describe(reference: ReferenceCohort) -> dict[str, Any]:
    """A short description for reports: name, origin, size, depth and the metrics it covers."""
    return {"name": reference.name, "origin": reference.origin, "n_samples": reference.n_samples,
            "rarefaction_depth": reference.rarefaction_depth, "metrics": sorted(reference.metrics),
            "taxonomy": reference.taxonomy,
            "within_person": "within_person_braycurtis" in reference.metrics}
