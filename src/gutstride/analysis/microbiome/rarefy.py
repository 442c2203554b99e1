"""Rarefaction: subsample every sample to the same depth, without replacement.

For one sample with counts :math:`x_1..x_S` (total :math:`N`), keeping :math:`n` of its :math:`N` reads chosen
uniformly without replacement gives a multivariate hypergeometric vector: the same distribution as
``skbio.subsample_counts`` and QIIME 2's ``feature-table rarefy``. It runs as one numba kernel over the CSR arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError
from gutstride.model.feature_table import FeatureTable


def _subsample(indptr, data, rows, depth, seed, out):  # pragma: no cover - run compiled by numba
    """Keep ``depth`` reads of each row in ``rows``, chosen uniformly without replacement.

    The reads of a row are numbered 0..N-1 feature after feature; ``m = min(depth, N - depth)`` distinct positions
    are drawn by rejection (at most half of them are taken, so fewer than 2m draws are expected), sorted and
    counted per feature. When more than half are kept, the drawn positions are the ones removed.
    """
    np.random.seed(seed)
    for r in rows:
        start, end = indptr[r], indptr[r + 1]
        total = 0
        for k in range(start, end):
            total += data[k]
        take = depth if 2 * depth <= total else total - depth
        taken = np.zeros(total, dtype=np.bool_)
        chosen = np.empty(take, dtype=np.int64)
        got = 0
        while got < take:
            pos = np.random.randint(0, total)
            if not taken[pos]:
                taken[pos] = True
                chosen[got] = pos
                got += 1
        chosen.sort()
        c = 0
        upper = 0
        for k in range(start, end):
            upper += data[k]
            n = 0
            while c < take and chosen[c] < upper:
                n += 1
                c += 1
            out[k] = n if take == depth else data[k] - n


_COMPILED: list = []  # the numba-compiled _subsample, once built


def rarefy(table: FeatureTable, depth: int, seed: int) -> tuple[FeatureTable, list[str]]:
    """Subsample each sample of a count table to ``depth`` reads without replacement.

    Parameters
    ----------
    table
        Integer counts (``value_kind == "counts"``).
    depth
        Reads to keep per sample (> 0). Samples with fewer reads are dropped.
    seed
        Seed of the random draws: the same seed gives the same table.

    Returns
    -------
    tuple
        The rarefied table (kept samples, same features; features left at zero everywhere are kept) and the ids
        of the samples dropped for having fewer than ``depth`` reads.

    Raises
    ------
    BadInputError
        A non-positive depth or a table of relative abundances.
    """
    if depth <= 0:
        raise BadInputError(f"rarefaction depth must be a positive number of reads, not {depth}")
    if table.value_kind != "counts":
        raise BadInputError("rarefaction needs counts, but the table holds relative abundances")
    matrix = sp.csr_array(table.data, dtype=np.float64)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    totals = table.sample_depths()
    keep = np.flatnonzero(totals >= depth)
    dropped = [table.sample_ids[i] for i in np.flatnonzero(totals < depth)]
    if not _COMPILED:  # compiled on first use, so that importing this module stays cheap
        from numba import njit

        _COMPILED.append(njit(cache=True)(_subsample))
    out = np.zeros(matrix.data.shape[0], dtype=np.int64)
    _COMPILED[0](matrix.indptr.astype(np.int64), np.rint(matrix.data).astype(np.int64), keep.astype(np.int64),
                 int(depth), int(seed) % (2**32), out)
    rarefied = sp.csr_array((out.astype(np.float64), matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)
    subset = sp.csr_array(rarefied[keep])
    subset.eliminate_zeros()
    kept_ids = [table.sample_ids[i] for i in keep]
    return (
        FeatureTable(
            data=subset,
            sample_ids=kept_ids,
            feature_ids=list(table.feature_ids),
            taxonomy=dict(table.taxonomy),
            value_kind="counts",
            sample_metadata={s: m for s, m in table.sample_metadata.items() if s in set(kept_ids)},
        ),
        dropped,
    )
