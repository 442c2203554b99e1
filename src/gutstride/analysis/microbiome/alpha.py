"""Alpha diversity of every sample of a feature table, vectorised over the sparse matrix.

Each metric is a small function of a samples-by-features CSR matrix that returns one value per sample, computed
from the stored non-zero values and their row index (``numpy.bincount``), so 100,000 samples take about a second.
:func:`alpha_diversity` routes metric names to these functions, as :func:`skbio.diversity.alpha_diversity` does.
Values match scikit-bio's (``shannon`` with ``base=2``, ``simpson``, ``pielou_e``, ``chao1``, ``sobs``) and
QIIME 2's ``diversity alpha`` to 1e-6, including their conventions for degenerate samples: an empty sample has
NaN Shannon, Simpson and Pielou evenness and Chao1 0; a sample with one feature has Pielou evenness 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError

if TYPE_CHECKING:
    import pandas as pd

    from gutstride.ingest.microbiome.table import FeatureTable

Matrix: TypeAlias = sp.csr_array | sp.csr_matrix


def _positive(matrix: Matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """Row index and value of every stored entry > 0, and the number of rows."""
    n = matrix.shape[0]
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    values = np.asarray(matrix.data, dtype=np.float64)
    keep = values > 0
    return rows[keep], values[keep], n


def _row_sum(rows: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """Per-row sums (or counts, without weights) as float64, also when there are no entries."""
    return np.bincount(rows, weights=weights, minlength=n).astype(np.float64, copy=False)


def depth(matrix: Matrix) -> np.ndarray:
    r"""Total of each sample, :math:`N = \sum_i x_i`."""
    rows, values, n = _positive(matrix)
    return _row_sum(rows, values, n)


def observed_features(matrix: Matrix) -> np.ndarray:
    r"""Observed richness :math:`S_{obs}`: the number of features with a value above 0."""
    rows, _, n = _positive(matrix)
    return _row_sum(rows, None, n)


def _shannon_nats(matrix: Matrix) -> np.ndarray:
    """Shannon entropy in nats; NaN for an empty sample."""
    rows, values, n = _positive(matrix)
    totals = _row_sum(rows, values, n)
    p = values / totals[rows]
    entropy = -_row_sum(rows, p * np.log(p), n)
    entropy[totals == 0] = np.nan
    # -sum p log p is >= 0; round-off can leave -1e-16 for a single-feature sample
    return np.maximum(entropy, 0.0, where=~np.isnan(entropy), out=entropy)


def shannon(matrix: Matrix, base: float = 2.0) -> np.ndarray:
    r"""Shannon's diversity index, in bits by default (as QIIME 2 reports it).

    .. math:: H' = -\sum_{i=1}^{S} p_i \log_b p_i, \qquad p_i = x_i / N

    Parameters
    ----------
    matrix
        Samples x features, non-negative.
    base
        Logarithm base :math:`b` (2: bits; ``numpy.e``: nats).

    Returns
    -------
    numpy.ndarray
        One value per sample; NaN for an empty sample.

    References
    ----------
    Shannon, C. E. (1948). A mathematical theory of communication. Bell System Technical Journal 27, 379-423.
    """
    return _shannon_nats(matrix) / np.log(base)


def simpson(matrix: Matrix) -> np.ndarray:
    r"""Simpson's diversity index (Gini-Simpson), as scikit-bio's ``simpson``.

    .. math:: 1 - D, \qquad D = \sum_{i=1}^{S} p_i^2

    Returns
    -------
    numpy.ndarray
        One value per sample in [0, 1); NaN for an empty sample.

    References
    ----------
    Simpson, E. H. (1949). Measurement of diversity. Nature 163, 688.
    """
    rows, values, n = _positive(matrix)
    totals = _row_sum(rows, values, n)
    p = values / totals[rows]
    dominance = _row_sum(rows, p * p, n)
    dominance[totals == 0] = np.nan
    return 1.0 - dominance


def pielou_evenness(matrix: Matrix) -> np.ndarray:
    r"""Pielou's evenness :math:`J'`, as scikit-bio's ``pielou_e``.

    .. math:: J' = \frac{H'}{\ln S_{obs}}

    with :math:`H'` in nats. A sample with one feature has :math:`J' = 1` (scikit-bio's convention) and an empty
    sample NaN.

    References
    ----------
    Pielou, E. C. (1966). The measurement of diversity in different types of biological collections. Journal of
    Theoretical Biology 13, 131-144.
    """
    entropy = _shannon_nats(matrix)
    richness = observed_features(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):
        evenness = entropy / np.log(richness)
    evenness[richness == 1] = 1.0
    return evenness


def chao1(matrix: Matrix) -> np.ndarray:
    r"""Bias-corrected Chao1 richness estimator (scikit-bio's default).

    .. math:: S_{chao1} = S_{obs} + \frac{F_1 (F_1 - 1)}{2 (F_2 + 1)}

    where :math:`F_1` and :math:`F_2` are the numbers of singletons and doubletons. Needs integer counts.

    Raises
    ------
    BadInputError
        Non-integer values (Chao1 is defined on counts only).

    References
    ----------
    Chao, A. (1984). Non-parametric estimation of the number of classes in a population. Scandinavian Journal of
    Statistics 11, 265-270.
    """
    rows, values, n = _positive(matrix)
    if np.any(np.abs(values - np.rint(values)) > 1e-9):
        raise BadInputError("chao1 needs integer counts, but the table holds relative abundances")
    observed = _row_sum(rows, None, n)
    singletons = _row_sum(rows, (values == 1), n)
    doubletons = _row_sum(rows, (values == 2), n)
    return observed + singletons * (singletons - 1) / (2.0 * (doubletons + 1))


#: Metric name -> function of the CSR matrix, in the default column order.
METRICS: dict[str, Callable[[Matrix], np.ndarray]] = {
    "depth": depth,
    "observed_features": observed_features,
    "shannon": shannon,
    "simpson": simpson,
    "pielou_evenness": pielou_evenness,
    "chao1": chao1,
}

#: Other names accepted for the metrics (scikit-bio's and QIIME 2's).
ALIASES = {"sobs": "observed_features", "observed_otus": "observed_features", "pielou_e": "pielou_evenness",
           "gini_simpson": "simpson"}

#: Metrics that need counts; NaN for a table of relative abundances.
COUNT_METRICS = {"chao1"}


def alpha_diversity(table: FeatureTable, metrics: list[str] | None = None) -> pd.DataFrame:
    """Compute alpha-diversity metrics for every sample of ``table``.

    Parameters
    ----------
    table
        Feature table (samples x features). Counts for all metrics; for relative abundances, ``chao1`` is NaN
        and ``depth`` is each sample's total (1).
    metrics
        Names among :data:`METRICS` (or :data:`ALIASES`); all of them by default.

    Returns
    -------
    pandas.DataFrame
        Index: sample ids; one column per metric, named as in :data:`METRICS`.

    Raises
    ------
    BadInputError
        An unknown metric name.
    """
    import pandas as pd

    names = [ALIASES.get(m, m) for m in (metrics or list(METRICS))]
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise BadInputError(f"unknown alpha metric(s) {', '.join(unknown)}: use {', '.join(METRICS)}")
    matrix = sp.csr_array(table.data)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    columns: dict[str, np.ndarray] = {}
    for name in names:
        if name in COUNT_METRICS and table.value_kind != "counts":
            columns[name] = np.full(matrix.shape[0], np.nan)
        else:
            columns[name] = METRICS[name](matrix)
    return pd.DataFrame(columns, index=pd.Index(table.sample_ids, name="sample_id"))
