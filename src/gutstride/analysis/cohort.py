"""Cohort statistics in tiles: distances and PERMANOVA without ever holding the square matrix whole.

The ``n x n`` distance matrix is cut into square tiles of ``tile`` samples over its upper triangle (tile ``(I, J)``
with ``I <= J``). Each tile is computed on its own, from the rows ``I`` and ``J`` of the table, by
:func:`tile_distances`, and contributes to PERMANOVA through :func:`tile_partial_sums`.

PERMANOVA from tiles (see :mod:`gutstride.analysis.microbiome.permanova` for the statistic): every sum of squares
is a sum of quadratic forms ``q' G q = -(1/2) q' D2 q`` over the columns ``q`` of an orthonormal basis of the
centred design, and each permutation ``pi`` only permutes the basis's rows (``q_pi = q[pi]``). Since

    q_pi' D2 q_pi = sum_{I, J} q_pi[I]' D2[I, J] q_pi[J]

and ``D2`` is symmetric, each upper tile adds ``w q_pi[I]' D2[I, J] q_pi[J]`` (``w = 1`` on the diagonal, 2 off
it) for all permutations at once: one matrix product of the tile's squared distances with the permuted basis rows
of ``J`` (a ``|J| x (P w)`` matrix for ``P`` permutations of a ``w``-column basis). The partial sums of all tiles
add up (in any grouping: a tree reduction) to the same quadratic forms as the whole matrix gives, so the result is
that of :func:`~gutstride.analysis.microbiome.permanova.permanova_formula` with the same seed, whatever the tile size
or the number of workers, up to floating-point summation order (about 1e-15 relative).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import skbio

    from gutstride.model.feature_table import FeatureTable


def tile_bounds(n: int, tile: int) -> list[tuple[int, int]]:
    """The ``[start, stop)`` bounds of the blocks of ``tile`` samples covering ``0..n-1``."""
    return [(start, min(n, start + tile)) for start in range(0, n, tile)]


def row_ranges(n: int, chunk: int, max_values: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of rows of an ``n x n`` array stored in chunks of ``chunk`` rows, to read one at a
    time: whole chunk rows when ``chunk * n <= max_values``, else each chunk row split into equal parts of at most
    about ``max_values`` values (no range spans two chunk rows, so no chunk is read for two ranges' sake)."""
    parts = max(1, -(-chunk * n // max(1, max_values)))
    ranges = []
    for c0, c1 in tile_bounds(n, chunk):
        edges = np.linspace(c0, c1, parts + 1).round().astype(int)
        ranges += [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return ranges


def upper_tiles(n: int, tile: int) -> list[tuple[int, int]]:
    """Block index pairs ``(I, J)`` with ``I <= J``: the tiles of the upper triangle, row-major."""
    blocks = len(tile_bounds(n, tile))
    return [(i, j) for i in range(blocks) for j in range(i, blocks)]


def tile_distances(
    rows_i: FeatureTable, rows_j: FeatureTable | None, metric: str, tree: skbio.TreeNode | None = None
) -> tuple[np.ndarray, list[str]]:
    """Distances between the samples of ``rows_i`` and those of ``rows_j`` (``None``: a diagonal tile).

    Computed by :func:`gutstride.analysis.microbiome.beta.beta_diversity` on the two blocks' samples together
    (so every metric, including UniFrac, is the one of the whole-matrix path), keeping the ``I x J`` block.
    Returns the float64 block and warnings.
    """
    import scipy.sparse as sp

    from gutstride.analysis.microbiome.beta import beta_diversity
    from gutstride.model.feature_table import FeatureTable

    if rows_j is None:
        dm, _, warnings = beta_diversity(rows_i, metric, tree=tree)
        return dm, warnings
    both = FeatureTable(sp.vstack([sp.csr_matrix(rows_i.data), sp.csr_matrix(rows_j.data)]).tocsr(),
                        rows_i.sample_ids + rows_j.sample_ids, rows_i.feature_ids, rows_i.taxonomy,
                        rows_i.value_kind)
    dm, _, warnings = beta_diversity(both, metric, tree=tree)
    k = len(rows_i.sample_ids)
    return np.ascontiguousarray(dm[:k, k:]), warnings


def permuted_rows(basis: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """``|block| x (P w)`` matrix of the permuted basis rows of one block: ``perms`` is ``P x |block|``, each row
    the original sample index placed at the block's positions by one permutation."""
    stacked = basis[perms.T]  # |block| x P x w
    return stacked.reshape(perms.shape[1], -1)


def tile_partial_sums(
    block: np.ndarray, basis: np.ndarray, perms_i: np.ndarray, perms_j: np.ndarray, diagonal: bool
) -> np.ndarray:
    """One tile's share of every quadratic form and of ``sum d^2``.

    Parameters
    ----------
    block
        Distances of the tile (``|I| x |J|``).
    basis
        The ``n x w`` orthonormal design basis (the same for every tile).
    perms_i, perms_j
        ``P x |I|`` and ``P x |J|``: for each labelling (the first usually the identity), the sample indices at
        the block's positions.
    diagonal
        Whether the tile is on the diagonal (``I == J``; counted once, else twice).

    Returns
    -------
    numpy.ndarray
        ``P w + 1`` values: ``-(w/2) q_pi[I]' D2[I, J] q_pi[J]`` for each labelling and basis column
        (labelling-major), then ``w sum D2[I, J]``.
    """
    d2 = np.asarray(block, dtype=np.float64) ** 2
    weight = 1.0 if diagonal else 2.0
    right = permuted_rows(basis, perms_j)
    left = permuted_rows(basis, perms_i)
    quad = -0.5 * weight * np.einsum("ik,ik->k", left, d2 @ right)
    return np.append(quad, weight * float(d2.sum()))


def rows_of(table: FeatureTable, bounds: tuple[int, int]) -> FeatureTable:
    """The samples ``[start, stop)`` of ``table`` (a block of rows, for one tile)."""
    from gutstride.model.feature_table import FeatureTable

    start, stop = bounds
    return FeatureTable(table.data[start:stop], table.sample_ids[start:stop], table.feature_ids, table.taxonomy,
                        table.value_kind)
