"""PERMANOVA: do groups of samples differ in their distances more than a random relabelling would suggest?

Permutational multivariate analysis of variance (Anderson, 2001), as scikit-bio's
``skbio.stats.distance.permanova``. For ``n`` samples in ``g`` groups with distances ``d_ij``:

    S_T = (1/n) sum_{i<j} d_ij^2
    S_W = sum_groups (1/n_k) sum_{i<j in group k} d_ij^2
    F = ((S_T - S_W) / (g - 1)) / (S_W / (n - g))

The p-value is ``(1 + #{permutations with F* >= F}) / (1 + permutations)`` where ``F*`` is the statistic after
shuffling the group labels (within each stratum when ``strata`` is given, so that samples are exchanged only
between samples of the same stratum, e.g. the same person). A tolerance of ``1e-9 |F|`` counts permuted
statistics equal to ``F`` up to rounding as ``>=``.

All permutations are evaluated together as matrix products: with ``H`` the 0/1 group-membership matrix of one
labelling, ``sum_{i<j in group k} d_ij^2 = (1/2) h_k' D2 h_k`` where ``D2`` holds the squared distances.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gutstride.errors import BadInputError

#: Label columns of one-hot membership matrices held in memory at once (n x this many float64 values).
_BATCH_VALUES = 4_000_000


def permanova(
    dm: np.ndarray,
    grouping: list[str],
    permutations: int = 999,
    seed: int | None = None,
    strata: list[str] | None = None,
) -> dict[str, Any]:
    """PERMANOVA pseudo-F test of ``grouping`` on the square distance matrix ``dm``.

    Parameters
    ----------
    dm
        Symmetric ``n x n`` distance matrix with a zero diagonal.
    grouping
        Group label of each sample, in ``dm``'s order.
    permutations
        Number of label permutations; 0 gives no p-value (NaN).
    seed
        Seed of :func:`numpy.random.default_rng` for the permutations.
    strata
        Optional stratum of each sample; labels are then shuffled only within strata.

    Returns
    -------
    dict
        ``method`` ("PERMANOVA"), ``test_statistic_name`` ("pseudo-F"), ``test_statistic``, ``p_value``,
        ``sample_size``, ``number_of_groups``, ``permutations``.

    Raises
    ------
    BadInputError
        Shapes disagree, fewer than two groups, every sample in its own group, or ``permutations < 0``.
    """
    dm = np.asarray(dm, dtype=np.float64)
    n = len(grouping)
    if dm.ndim != 2 or dm.shape != (n, n):
        raise BadInputError(f"distance matrix of shape {dm.shape} does not match {n} group labels")
    if permutations < 0:
        raise BadInputError("permutations must be 0 or more")
    labels, codes = np.unique(np.asarray([str(g) for g in grouping]), return_inverse=True)
    n_groups = len(labels)
    if n_groups < 2:
        raise BadInputError("PERMANOVA needs at least two groups")
    if n_groups == n:
        raise BadInputError("every sample is in its own group; PERMANOVA needs groups with repeated labels")
    if strata is not None and len(strata) != n:
        raise BadInputError(f"{len(strata)} strata labels for {n} samples")
    d2 = dm**2
    s_total = d2.sum() / (2.0 * n)
    sizes = np.bincount(codes, minlength=n_groups).astype(np.float64)

    def f_stats(labellings: np.ndarray) -> np.ndarray:
        within = _within_sums(d2, labellings, n_groups, sizes)
        return ((s_total - within) / (n_groups - 1)) / (within / (n - n_groups))

    statistic = float(f_stats(codes[None, :])[0])
    p_value = float("nan")
    if permutations:
        rng = np.random.default_rng(seed)
        blocks = _strata_blocks(strata, n)
        batch = max(1, _BATCH_VALUES // (n * n_groups))
        exceed = 0
        done = 0
        while done < permutations:
            size = min(batch, permutations - done)
            labellings = np.empty((size, n), dtype=codes.dtype)
            for b in range(size):
                labellings[b] = _shuffle(codes, blocks, rng)
            exceed += int(np.count_nonzero(f_stats(labellings) >= statistic - 1e-9 * abs(statistic)))
            done += size
        p_value = (exceed + 1) / (permutations + 1)
    return {
        "method": "PERMANOVA",
        "test_statistic_name": "pseudo-F",
        "test_statistic": statistic,
        "p_value": p_value,
        "sample_size": n,
        "number_of_groups": n_groups,
        "permutations": permutations,
    }


def _within_sums(d2: np.ndarray, labellings: np.ndarray, n_groups: int, sizes: np.ndarray) -> np.ndarray:
    """S_W of each row of ``labellings`` (b x n group codes): ``sum_k (1 / (2 n_k)) h_k' D2 h_k``."""
    b, n = labellings.shape
    onehot = np.zeros((n, b * n_groups))
    onehot[np.arange(n)[:, None], np.arange(b)[None, :] * n_groups + labellings.T] = 1.0
    quad = np.einsum("ij,ij->j", onehot, d2 @ onehot).reshape(b, n_groups)
    return (quad / (2.0 * sizes[None, :])).sum(axis=1)


def _strata_blocks(strata: list[str] | None, n: int) -> list[np.ndarray]:
    """Index sets whose labels are shuffled among themselves (one block of everything without strata)."""
    if strata is None:
        return [np.arange(n)]
    _, stratum = np.unique(np.asarray([str(s) for s in strata]), return_inverse=True)
    return [np.flatnonzero(stratum == k) for k in range(int(stratum.max()) + 1)]


def _shuffle(codes: np.ndarray, blocks: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    out = codes.copy()
    for block in blocks:
        out[block] = codes[block][rng.permutation(block.size)]
    return out
