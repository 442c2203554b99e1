"""Pairwise kernels shared by the beta-diversity metrics (compiled C in ``_gutstride_native``, parallel over tiles).

Every metric in :mod:`~gutstride.analysis.microbiome.beta` and :mod:`~gutstride.analysis.microbiome.phylo` is
reduced to one sparse quantity, the sum of element-wise minima of two rows of a CSR matrix:

    m(u, v) = sum_k min(u_k, v_k)

- Bray-Curtis: ``1 - 2 m(u, v) / (sum u + sum v)``;
- Jaccard on presence/absence rows: ``m`` is the size of the intersection;
- unweighted UniFrac on rows of branch-length-weighted presence: ``m`` is the shared branch length;
- weighted UniFrac on rows of branch-length-weighted proportions: ``sum |u - v| = sum u + sum v - 2 m(u, v)``.

A tile of rows ``i`` (8 to 32) is scattered into a dense buffer; each later row ``j`` is then read once per tile and
each of its non-zeros updates the tile's running sums together, so a pair costs ``nnz(j)`` vectorised operations
rather than the number of features, and the table is streamed from memory once per tile rather than once per row.
"""

from __future__ import annotations

import _gutstride_native as native
import numpy as np
import scipy.sparse as sp


def _tile_rows(n_cols: int) -> int:
    """Rows per tile, so that the dense tile buffer (n_cols x tile float64) stays near the size of an L2 cache."""
    return 32 if n_cols <= 4096 else 16 if n_cols <= 16384 else 8


def pairwise_min_sums(matrix: sp.csr_array | sp.csr_matrix, row_block: slice) -> np.ndarray:
    """Sums of minima between rows ``row_block`` of ``matrix`` and every later row.

    Parameters
    ----------
    matrix
        CSR matrix (n x k) of non-negative values.
    row_block
        A contiguous block of row indices ``[start, stop)``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(stop - start, n - start)``; entry ``[r, c]`` is ``m(x_{start+r}, x_{start+c})``
        for ``c > r`` and 0 on and below the block's diagonal.
    """
    csr = _canonical(matrix)
    n = csr.shape[0]
    start, stop = row_block.start or 0, min(row_block.stop, n)
    out = np.zeros((stop - start, n - start), dtype=np.float64)
    tile = _tile_rows(csr.shape[1])
    starts = np.arange(start, stop, tile, dtype=np.int64)
    # Interleave early tiles (many later rows) with late ones (few) so the parallel chunks balance.
    half = (starts.size + 1) // 2
    order = np.empty_like(starts)
    order[0::2] = starts[:half]
    order[1::2] = starts[half:][::-1]
    indptr, indices = csr.indptr.astype(np.int64, copy=False), csr.indices.astype(np.int64, copy=False)
    native.min_sums_tiles(indptr, indices, csr.data, csr.shape[1], order, tile, stop, start, out)
    return out


def _canonical(matrix: sp.csr_array | sp.csr_matrix) -> sp.csr_matrix:
    """CSR with sorted, summed indices and float64 values (no copy when it already is)."""
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    csr.sum_duplicates()
    return csr


def default_chunk_size(n: int) -> int:
    """Rows per block such that one block of float64 intermediates stays near 64 MB."""
    return max(1, min(n, 8_000_000 // max(n, 1)))


def minsum_distances(
    matrix: sp.csr_array | sp.csr_matrix,
    *,
    ratio: bool,
    shared_in_denominator: bool = False,
    dtype: type = np.float64,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Square distance matrix from row sums ``s`` and sums of minima ``m`` of a non-negative CSR matrix.

    With ``a = s_u + s_v - 2 m(u, v)`` (the L1 distance between rows) the distance is

    - ``a`` when ``ratio`` is false (weighted UniFrac on branch-weighted proportions);
    - ``a / (s_u + s_v)`` when ``ratio`` is true (Bray-Curtis);
    - ``a / (s_u + s_v - m)`` when ``ratio`` and ``shared_in_denominator`` are true (Jaccard and unweighted UniFrac
      on weighted presence rows: unique / union).

    A ratio with a zero denominator (two empty rows) is 0. Rows are processed in blocks of ``chunk_size`` (default
    :func:`default_chunk_size`); the result has dtype ``dtype`` and a zero diagonal.
    """
    csr = _canonical(matrix)
    n = csr.shape[0]
    sums = np.asarray(csr.sum(axis=1), dtype=np.float64).ravel()
    result = np.zeros((n, n), dtype=dtype)
    step = chunk_size or default_chunk_size(n)
    for start in range(0, n, step):
        stop = min(n, start + step)
        dist = pairwise_min_sums(csr, slice(start, stop))  # m, turned in place into the distances
        total = sums[start:stop, None] + sums[None, start:]
        dist *= -2.0
        dist += total  # s_u + s_v - 2 m
        np.maximum(dist, 0.0, out=dist)
        if ratio:
            if shared_in_denominator:
                total += dist
                total *= 0.5  # s_u + s_v - m
            np.divide(dist, total, out=dist, where=total > 0)  # 0 / 0 stays 0
        dist[np.tril_indices(stop - start)] = 0.0  # only pairs j > i were computed
        result[start:stop, start:] += dist.astype(dtype, copy=False)
        result[start:, start:stop] += dist.T.astype(dtype, copy=False)
    return result
