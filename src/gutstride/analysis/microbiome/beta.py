"""Beta diversity: a square distance matrix between every pair of samples of a feature table.

Metrics (``u``, ``v`` are two samples' rows; ``m(u, v) = sum_k min(u_k, v_k)``):

- ``braycurtis``: ``BC(u, v) = sum_k |u_k - v_k| / sum_k (u_k + v_k) = 1 - 2 m(u, v) / (sum u + sum v)``
  (Bray and Curtis, 1957), on the values as given.
- ``jaccard``: on presence/absence, ``1 - |A and B| / |A or B|``, as scikit-bio (which casts to Boolean first).
- ``unweighted_unifrac`` and ``weighted_unifrac`` (unnormalised, QIIME 2's default): see
  :mod:`gutstride.analysis.microbiome.phylo`. Features absent from the tree are left out with a warning.
- ``aitchison``: Euclidean distance between robust centred log-ratio (rCLR) transforms. For a sample with non-zero
  values ``x_k``, ``k in S``: ``rclr(x)_k = log x_k - (1/|S|) sum_{j in S} log x_j`` for ``k in S`` and 0 for the
  zeros, which stay zeros (the "robust" CLR of Martino et al.'s robust Aitchison PCA, 2019). No pseudo-count is
  added. Two samples with the same non-zero pattern and proportional values are at distance 0 (up to rounding).

Two empty samples are at distance 0 from each other under every ratio metric.

Computation: Bray-Curtis, Jaccard and both UniFracs reduce to sums of minima of sparse rows, evaluated by a
compiled kernel that scatters one row and walks the other's non-zeros, in parallel over rows; Jaccard's and
unweighted UniFrac's rows are weighted presence, whose sums of minima are a matrix product, computed by BLAS when
the table is dense enough (:mod:`gutstride.analysis.microbiome._pairwise`). Aitchison uses a sparse Gram matrix,
``d^2 = |a|^2 + |b|^2 - 2 a.b``, with pairs whose ``d^2`` is within rounding of zero recomputed directly. Rows are
processed in blocks of ``chunk_size`` samples; ``dtype=np.float32`` halves the memory of the result (intermediate
sums stay in float64, so float32 results differ from float64 ones only by the final rounding).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError, MissingDataError

if TYPE_CHECKING:
    import skbio

    from gutstride.model.feature_table import FeatureTable
    from gutstride.model.tree import Tree

#: Metric names accepted by :func:`beta_diversity` (and ``gutstride beta --metric``).
METRICS = ("braycurtis", "jaccard", "unweighted_unifrac", "weighted_unifrac", "aitchison")
PHYLOGENETIC = ("unweighted_unifrac", "weighted_unifrac")


def beta_diversity(
    table: FeatureTable,
    metric: str,
    tree: Tree | skbio.TreeNode | None = None,
    dtype: type = np.float64,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Distances between every pair of samples of ``table``.

    Parameters
    ----------
    table
        Samples-by-features table of non-negative values (counts or proportions).
    metric
        One of :data:`METRICS`.
    tree
        Rooted tree with branch lengths whose tips are feature ids; required by the UniFrac metrics.
    dtype
        ``numpy.float64`` (default) or ``numpy.float32`` for the returned matrix.
    chunk_size
        Samples per block of rows (default: blocks of about 64 MB of intermediates).

    Returns
    -------
    (numpy.ndarray, list of str, list of str)
        The symmetric ``n x n`` matrix with a zero diagonal, the sample ids in its order, and warnings.

    Raises
    ------
    BadInputError
        Unknown metric or dtype, negative or non-finite values, ``chunk_size < 1``, no feature in the tree
        (UniFrac), or every distance is 0 (two or more samples, all empty or identical): a matrix of zeros is
        never returned in silence.
    MissingDataError
        A UniFrac metric without a tree.
    """
    from gutstride.analysis.microbiome._pairwise import minsum_distances

    if metric not in METRICS:
        raise BadInputError(f"unknown beta diversity metric {metric!r}; choose one of {', '.join(METRICS)}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise BadInputError(f"dtype must be float32 or float64, not {np.dtype(dtype)}")
    if chunk_size is not None and chunk_size < 1:
        raise BadInputError("chunk_size must be at least 1")
    data = _checked_rows(table)
    ids = list(table.sample_ids)
    warnings: list[str] = []
    if metric in PHYLOGENETIC:
        if tree is None:
            raise MissingDataError(f"{metric} needs a phylogenetic tree (--tree)")
        from gutstride.analysis.microbiome.phylo import unifrac

        dm, warnings = unifrac(table, tree, weighted=metric == "weighted_unifrac", dtype=dtype, chunk_size=chunk_size)
    elif metric == "braycurtis":
        dm = minsum_distances(data, ratio=True, dtype=dtype, chunk_size=chunk_size)
    elif metric == "jaccard":
        data.data[:] = 1.0
        dm = minsum_distances(data, ratio=True, shared_in_denominator=True, dtype=dtype, chunk_size=chunk_size)
    else:
        dm = aitchison(robust_clr(data), dtype=dtype, chunk_size=chunk_size)
    if len(ids) > 1 and not dm.any():
        where = " on the tree's branches" if metric in PHYLOGENETIC else ""
        raise BadInputError(
            f"every {metric} distance between the {len(ids)} samples is 0: the samples are empty or identical"
            f"{where}; " + "; ".join(warnings + ["no matrix written"])
        )
    return dm, ids, warnings


def _checked_rows(table: FeatureTable) -> sp.csr_matrix:
    """A float64 CSR copy of the table's values (duplicates summed, explicit zeros removed), checked.

    Raises
    ------
    BadInputError
        A negative or non-finite value.
    """
    data = sp.csr_matrix(table.data, dtype=np.float64, copy=True)  # never modify the caller's table
    data.sum_duplicates()
    if data.nnz and (not np.all(np.isfinite(data.data)) or data.data.min() < 0):
        raise BadInputError("beta diversity needs finite, non-negative values")
    data.eliminate_zeros()
    return data


def aitchison_coordinates(table: FeatureTable) -> sp.csr_matrix:
    """The robust CLR rows of ``table`` (:func:`robust_clr`), whose Euclidean distances are the ``aitchison``
    metric (for statistics that need only coordinates, as the cohort's Euclidean shortcut).

    Raises
    ------
    BadInputError
        A negative or non-finite value.
    """
    return robust_clr(_checked_rows(table))


def robust_clr(data: sp.csr_matrix) -> sp.csr_matrix:
    """Robust centred log-ratio of each row: ``log x_k`` minus the row's mean log over its non-zeros; zeros stay 0.

    ``data`` must be CSR with explicit zeros removed. Returns a CSR matrix with the same sparsity pattern.
    """
    out = sp.csr_matrix(data, dtype=np.float64, copy=True)
    logs = np.log(out.data)
    counts = np.diff(out.indptr)
    sums = np.add.reduceat(logs, out.indptr[:-1]) if logs.size else np.zeros(0)
    means = np.zeros(out.shape[0])
    nonempty = counts > 0
    means[nonempty] = sums[nonempty] / counts[nonempty]
    out.data = logs - np.repeat(means, counts)
    return out


def aitchison(clr: sp.csr_matrix, dtype: type = np.float64, chunk_size: int | None = None) -> np.ndarray:
    """Euclidean distances between the rows of a (robust) CLR matrix, in blocks of ``chunk_size`` rows.

    ``d^2(a, b) = |a|^2 + |b|^2 - 2 a.b`` from a sparse Gram block; where rounding could dominate
    (``d^2 <= 1e-8 (|a|^2 + |b|^2)``) the pair is recomputed as ``sum (a - b)^2``.
    """
    from gutstride.analysis.microbiome._pairwise import default_chunk_size

    n = clr.shape[0]
    sq = np.asarray(clr.multiply(clr).sum(axis=1)).ravel()
    result = np.zeros((n, n), dtype=dtype)
    step = chunk_size or default_chunk_size(n)
    for start in range(0, n, step):
        stop = min(n, start + step)
        gram = np.asarray((clr[start:stop] @ clr[start:].T).toarray())
        scale = sq[start:stop, None] + sq[None, start:]
        d2 = np.maximum(scale - 2.0 * gram, 0.0)
        for r, c in zip(*np.nonzero(d2 <= 1e-8 * scale), strict=True):
            diff = clr[start + r] - clr[start + c]
            d2[r, c] = float(diff.multiply(diff).sum())
        block = np.triu(np.sqrt(d2), k=1)  # upper triangle only, mirrored below: exactly symmetric
        result[start:stop, start:] += block.astype(dtype, copy=False)
        result[start:, start:stop] += block.T.astype(dtype, copy=False)
    return result
