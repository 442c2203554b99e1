"""Rarefaction: subsample every sample to the same depth, without replacement.

For one sample with counts :math:`x_1..x_S` (total :math:`N`), keeping :math:`n` of its :math:`N` reads chosen
uniformly without replacement gives a multivariate hypergeometric vector: the same distribution as
``skbio.subsample_counts`` and QIIME 2's ``feature-table rarefy``. It runs as one compiled loop over the CSR arrays
(``rarefy_rows`` in ``_gutstride_native``): a sample's ``m = min(n, N - n)`` read positions are drawn uniformly
without replacement (xoshiro256** seeded from the seed and the sample's row), sorted and counted per feature; when
more than half the reads are kept, the drawn ones are those removed.
"""

from __future__ import annotations

import _gutstride_native as native
import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError
from gutstride.model.feature_table import FeatureTable


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
    out = np.zeros(matrix.data.shape[0], dtype=np.int64)
    native.rarefy_rows(matrix.indptr.astype(np.int64), np.rint(matrix.data).astype(np.int64), keep.astype(np.int64),
                       int(depth), int(seed) % 2**64, out)
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
