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

Pairwise tests from tiles (:func:`pair_tile_partial_sums`): each pair of groups is a one-way PERMANOVA on the
sub-matrix of its samples, so a tile contributes the partial sums of its sub-block (the rows and columns of the
pair's samples) with the pair's own basis and labellings; one pass over the tiles serves many pairs.

The Euclidean shortcut (Aitchison, Euclidean distances between CLR rows ``x_i``): with ``X`` the ``n x p`` matrix of
coordinates and ``Xc`` its column-centred version, Gower's matrix is ``G = Xc Xc'`` (Gower, 1966), so for every
``q`` orthogonal to ``1``

    q' G q = |Xc' q|^2 = |X' q|^2,   SS_total = tr(G) = sum_i |x_i - mean|^2

and no distance is needed: each block of rows ``I`` adds ``X[I]' q_pi[I]`` (:func:`coordinate_partial_sums`, a
``p x (P w)`` matrix for ``P`` labellings), the blocks' sums are added, and the squared column norms
(:func:`forms_of_coordinate_sums`) are the same quadratic forms as the tiles give (up to rounding), for the same
labellings, so the same F and p-values. The cost is ``O(nnz(X) P w)`` instead of ``O(n^2 P w)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import skbio

    from gutstride.analysis.microbiome.permanova import Model
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


def permanova_of_forms(
    model: Model, names: list[str], quad: np.ndarray, ss_total: float, n: int, permutations: int
) -> dict[str, Any]:
    """The PERMANOVA table from the quadratic forms of every labelling (``quad``: ``(1 + permutations) x w``, the
    observed labelling first) and ``SS_total``, as :func:`~gutstride.analysis.microbiome.permanova.permanova_formula`
    computes it from a whole matrix."""
    from gutstride.analysis.microbiome.permanova import exceedances, f_statistics, permanova_table

    f_obs = f_statistics(model, quad[:1], ss_total, n)[0]
    exceed = exceedances(model, quad[1:], ss_total, n, f_obs)
    return permanova_table(ss_total, n, names, model, quad[0], exceed, permutations)


def labellings(n: int, permutations: int, seed: int | None, strata: list[str] | None = None) -> np.ndarray:
    """The identity then the ``permutations`` permutations of ``0..n-1`` drawn from ``seed``
    (:func:`~gutstride.analysis.microbiome.permanova.permutation_batches`, the sequence of the in-memory PERMANOVA),
    as a ``(1 + permutations) x n`` int32 array filled batch by batch (no int64 copy of the whole)."""
    from gutstride.analysis.microbiome.permanova import permutation_batches

    out = np.empty((1 + permutations, n), dtype=np.int32)
    out[0] = np.arange(n)
    row = 1
    for batch in permutation_batches(n, permutations, seed, strata, max(1, _DRAW_VALUES // max(1, n))):
        out[row:row + len(batch)] = batch
        row += len(batch)
    return out


#: Indices (int64) drawn at once by :func:`labellings`.
_DRAW_VALUES = 4_000_000


# ------------------------------------------------------------------------------------------- pairwise tests


@dataclass
class PairTest:
    """One pairwise PERMANOVA of a cohort: the two groups, the cohort positions of their samples (increasing), the
    one-column model of the pair and its labellings (``(1 + permutations) x m``, the identity first, then the
    pair's own permutations drawn from the seed, as ``gutstride permanova --pairwise`` draws them)."""

    group1: str
    group2: str
    members: np.ndarray
    model: Model | None
    labellings: np.ndarray

    def block_rows(self, bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The pair's samples in the block ``[start, stop)`` of the cohort: their rows within the block, and the
        columns of :attr:`labellings` at their places (``(1 + permutations) x k``)."""
        start, stop = bounds
        places = np.flatnonzero((self.members >= start) & (self.members < stop))
        return self.members[places] - start, np.ascontiguousarray(self.labellings[:, places])


def pair_tests(
    grouping: list[str], permutations: int, seed: int | None, strata: list[str] | None = None
) -> Iterator[PairTest]:
    """The :class:`PairTest` of each pair of groups, in the order of the sorted labels (one at a time: the
    labellings of all pairs together can be large).

    A pair with fewer than 3 samples has no model (its test is not defined). Permutations are
    :func:`~gutstride.analysis.microbiome.permanova.permutation_batches` of the pair's samples with ``seed``
    (within the strata when given), as :func:`~gutstride.analysis.microbiome.permanova.pairwise_permanova` draws
    them on the pair's sub-matrix, so p-values agree with it and with scikit-bio's ``permanova`` on the sub-matrix.
    """
    from gutstride.analysis.microbiome.permanova import build_model

    text = np.asarray([str(g) for g in grouping])
    labels = sorted(set(text.tolist()))
    for a_index, a in enumerate(labels):
        for b in labels[a_index + 1:]:
            members = np.flatnonzero((text == a) | (text == b))
            m = members.size
            if m < 3:
                yield PairTest(a, b, members, None, np.arange(m, dtype=np.int32)[None, :])
                continue
            model = build_model([("group", (text[members] == b).astype(np.float64)[:, None])], m, "terms")
            sub_strata = [strata[k] for k in members] if strata is not None else None
            yield PairTest(a, b, members, model, labellings(m, permutations, seed, sub_strata))


def pair_tile_partial_sums(
    block: np.ndarray, diagonal: bool, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    bases: list[np.ndarray],
) -> np.ndarray:
    """One tile's shares of several pairwise PERMANOVAs, concatenated: for each pair, :func:`tile_partial_sums` of
    the sub-block of its samples (``pairs[k] = (rows_i, labellings_i, rows_j, labellings_j)`` from
    :meth:`PairTest.block_rows` of the tile's two blocks; ``bases[k]`` the pair's basis), zeros where the tile holds
    none of the pair's samples."""
    shares = []
    for (rows_i, perms_i, rows_j, perms_j), basis in zip(pairs, bases, strict=True):
        if rows_i.size and rows_j.size:
            shares.append(tile_partial_sums(block[np.ix_(rows_i, rows_j)], basis, perms_i, perms_j, diagonal))
        else:
            shares.append(np.zeros(perms_i.shape[0] * basis.shape[1] + 1))
    return np.concatenate(shares) if shares else np.zeros(0)


def pairwise_rows(tests: list[PairTest], results: list[dict[str, Any] | None], permutations: int
                  ) -> list[dict[str, Any]]:
    """The pairwise table (as :func:`~gutstride.analysis.microbiome.permanova.pairwise_permanova`): one row per
    pair with its pseudo-F and p-value (NaN without a test), and the Benjamini-Hochberg q-values over the pairs."""
    from gutstride.analysis.microbiome.permanova import pairwise_table

    nan = {"f": float("nan"), "p_value": float("nan")}
    terms = [result["terms"][0] if result is not None else nan for result in results]
    return pairwise_table([(test.group1, test.group2, int(test.members.size), term["f"], term["p_value"])
                           for test, term in zip(tests, terms, strict=True)], permutations)


# ------------------------------------------------------------------------------------ the Euclidean shortcut


def coordinate_partial_sums(rows: Any, basis: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """One block's share of ``X' q_pi`` for every labelling and basis column (Euclidean distances between the rows
    of ``X``, e.g. CLR values: see the module docstring).

    Parameters
    ----------
    rows
        The block's coordinates (``|I| x p``, dense or scipy sparse).
    basis
        The ``n x w`` orthonormal design basis.
    perms
        ``P x |I|``: for each labelling, the sample indices at the block's positions.

    Returns
    -------
    numpy.ndarray
        ``p x (P w)``: ``X[I]' q_pi[I]`` (labelling-major columns). Summed over the blocks they give ``X' q_pi``,
        whose squared norm is the quadratic form ``q_pi' G q_pi``.
    """
    if not perms.shape[1]:
        return np.zeros((rows.shape[1], perms.shape[0] * basis.shape[1]))
    return np.asarray(rows.T @ permuted_rows(basis, perms))


def forms_of_coordinate_sums(sums: np.ndarray, width: int) -> np.ndarray:
    """The quadratic forms ``q' G q = |X' q|^2`` (``P x width``) from the summed :func:`coordinate_partial_sums`."""
    return np.einsum("ij,ij->j", sums, sums).reshape(-1, width)


def centred_sum_of_squares(rows: Any, mean: np.ndarray) -> float:
    """A block's share of ``SS_total = sum_i |x_i - mean|^2`` (``tr(G)`` for Euclidean distances)."""
    dense = rows.toarray() if hasattr(rows, "toarray") else np.asarray(rows, dtype=np.float64)
    return float(((dense - mean[None, :]) ** 2).sum())
