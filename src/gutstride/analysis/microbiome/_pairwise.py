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
Rows of weighted presence (Jaccard, unweighted UniFrac) that are dense enough go through a dense matrix product
instead (:func:`minsum_distances`).
"""

from __future__ import annotations

import mmap

import _gutstride_native as native
import numpy as np
import scipy.sparse as sp


def _tile_rows(n_cols: int) -> int:
    """Rows per tile, so that the dense tile buffer (n_cols x tile float64) stays near the size of an L2 cache."""
    return 32 if n_cols <= 4096 else 16 if n_cols <= 16384 else 8


def pairwise_min_sums(
    matrix: sp.csr_array | sp.csr_matrix, row_block: slice, out: np.ndarray | None = None
) -> np.ndarray:
    """Sums of minima between rows ``row_block`` of ``matrix`` and every later row.

    Parameters
    ----------
    matrix
        CSR matrix (n x k) of non-negative values.
    row_block
        A contiguous block of row indices ``[start, stop)``.
    out
        A C-contiguous float64 array of shape ``(stop - start, n - start)`` to write into (its entries on and below
        the block's diagonal are left as they are); a new zeroed one by default.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(stop - start, n - start)`` (``out`` when given); entry ``[r, c]`` is
        ``m(x_{start+r}, x_{start+c})`` for ``c > r``; on and below the block's diagonal 0 (or what ``out`` held).
    """
    csr = _canonical(matrix)
    n = csr.shape[0]
    start, stop = row_block.start or 0, min(row_block.stop, n)
    if out is None:
        out = np.zeros((stop - start, n - start), dtype=np.float64)
    elif out.shape != (stop - start, n - start) or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {(stop - start, n - start)}")
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


def zeros_on_small_pages(shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """A zeroed array in an anonymous memory map, on the kernel's 4 KB pages.

    numpy asks for transparent huge pages for large arrays (``madvise``); where the kernel then compacts memory
    on the first touch (``defrag = madvise``, as on the machine of docs/benchmarks.md) a 200 MB array took 0.06 to
    0.75 s to fill there, against 0.10 to 0.13 s on small pages.
    """
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer(mmap.mmap(-1, max(size, 1)), dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def default_chunk_size(n: int) -> int:
    """Rows per block such that one block of float64 intermediates stays near 64 MB."""
    return max(1, min(n, 8_000_000 // max(n, 1)))


#: Density (non-zeros over rows x columns) from which weighted-presence rows go through a dense matrix product:
#: the sparse tiles cost about ``nnz(row)`` operations per pair, the product ``k`` multiply-adds at BLAS speed.
DENSE_MIN_DENSITY = 0.10
#: Fewest rows for the dense product: at 500 samples (the 5,000 x 5,998 benchmark node table cut to 500 rows) the
#: sparse tiles took 0.09-0.10 s against 0.20-0.32 s; at 2,000 x 3,000 and 16% the two were even.
DENSE_MIN_ROWS = 2000
#: Largest dense presence matrix (rows x columns float64) the dense path builds; above it the sparse tiles run.
DENSE_MAX_BYTES = 1 << 30
#: Rows per block of the dense product (fewer than the sparse blocks: less of the block's lower triangle is
#: computed for nothing).
DENSE_BLOCK_ROWS = 512


def presence_weights(csr: sp.csr_matrix) -> np.ndarray | None:
    """``w`` such that every non-zero of column ``k`` equals ``w_k`` (rows of weighted presence,
    ``x_k = w_k [x_k > 0]``), or None when a column holds two different non-zero values."""
    nonzero = csr.data != 0
    values, columns = csr.data[nonzero], csr.indices[nonzero]
    weights = np.zeros(csr.shape[1], dtype=np.float64)
    weights[columns] = values
    return weights if np.array_equal(values, weights[columns]) else None


def minsum_distances(
    matrix: sp.csr_array | sp.csr_matrix,
    *,
    ratio: bool,
    shared_in_denominator: bool = False,
    dtype: type = np.float64,
    chunk_size: int | None = None,
    dense: bool | None = None,
) -> np.ndarray:
    """Square distance matrix from row sums ``s`` and sums of minima ``m`` of a non-negative CSR matrix.

    With ``a = max(s_u + s_v - 2 m(u, v), 0)`` (the L1 distance between rows) the distance is

    - ``a`` when ``ratio`` is false (weighted UniFrac on branch-weighted proportions);
    - ``a / (s_u + s_v)`` when ``ratio`` is true (Bray-Curtis);
    - ``a / (s_u + s_v - m)`` when ``ratio`` and ``shared_in_denominator`` are true (Jaccard and unweighted UniFrac
      on weighted presence rows: unique / union), computed as ``a / ((s_u + s_v + a) / 2)``.

    A ratio with a zero denominator (two empty rows) is 0. Rows are processed in blocks of ``chunk_size`` (default
    :func:`default_chunk_size`); each block of ``m`` is turned into distances, mirrored, by one compiled pass
    (``_gutstride_native.minsum_finish``). The result has dtype ``dtype`` and a zero diagonal.

    When every column's non-zeros are equal (rows of weighted presence ``x_k = w_k [x_k > 0]``, as Jaccard's and
    unweighted UniFrac's), ``m(u, v) = sum_k w_k [u_k > 0] [v_k > 0]``, the product ``(P diag(w)) P^T`` of the
    dense 0/1 presence matrix ``P``, which BLAS computes in blocks of :data:`DENSE_BLOCK_ROWS` rows. ``dense=None``
    takes that path when there are at least :data:`DENSE_MIN_ROWS` rows, the density is at least
    :data:`DENSE_MIN_DENSITY` and ``P`` fits in :data:`DENSE_MAX_BYTES`; ``True`` or ``False`` forces the choice
    (``True`` on rows that are not weighted presence raises ``ValueError``). The two paths add the same terms in
    another order, so they agree to rounding (exactly, for Jaccard's integer overlaps).
    """
    csr = _canonical(matrix)
    n, k = csr.shape
    sums = np.asarray(csr.sum(axis=1), dtype=np.float64).ravel()
    result = zeros_on_small_pages((n, n), dtype)
    mode = 2 if ratio and shared_in_denominator else 1 if ratio else 0
    single = np.dtype(dtype) == np.float32
    weights = None
    automatic = n >= DENSE_MIN_ROWS and csr.nnz >= DENSE_MIN_DENSITY * n * k and n * k * 8 <= DENSE_MAX_BYTES
    if dense or (dense is None and automatic):
        weights = presence_weights(csr)
        if weights is None and dense:
            raise ValueError("dense=True needs rows of weighted presence (equal non-zeros in every column)")
    step = chunk_size or default_chunk_size(n)
    if weights is not None:
        presence = sp.csr_matrix(((csr.data != 0).astype(np.float64), csr.indices, csr.indptr), shape=csr.shape)
        presence = presence.toarray()  # on huge pages: BLAS reads it many times over
        step = min(step, DENSE_BLOCK_ROWS)
    buffer = zeros_on_small_pages((min(step, n) * n,))  # every block's m, in turn
    for start in range(0, n, step):
        stop = min(n, start + step)
        m = buffer[: (stop - start) * (n - start)].reshape(stop - start, n - start)
        if weights is None:
            pairwise_min_sums(csr, slice(start, stop), out=m)
        else:
            np.matmul(presence[start:stop] * weights, presence[start:].T, out=m)
        native.minsum_finish(m, sums, start, stop, mode, result, single)
    return result
