"""Helpers shared by the microbiome readers: value checks, counts-or-proportions detection, table assembly.

Every reader ends with :func:`build_table`, so all of them validate values the same way and decide the
:attr:`~gutstride.model.feature_table.FeatureTable.value_kind` by one rule:

* every value is a whole number -> ``"counts"``, kept as they are;
* otherwise -> ``"proportions"``: each sample is divided by its total (closure), so that percentages (summing to
  ~100), fractions (summing to ~1) and relative abundances of a filtered table all become fractions summing to 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from gutstride.errors import BadInputError
from gutstride.model.feature_table import FeatureTable, ValueKind

log = logging.getLogger(__name__)

#: Largest count (and sample total) accepted: 2**53, the last integer a float64 holds exactly; it also fits the
#: int64 that rarefaction and the diversity kernels use. A count above it is a corrupt or synthetic file.
MAX_COUNT = 2**53


def check_ids(ids: Sequence[str], what: str, source: str) -> list[str]:
    """Return ``ids`` as strings, or raise :class:`BadInputError` naming an empty or duplicated one."""
    out = [str(i).strip() for i in ids]
    seen: dict[str, int] = {}
    for pos, value in enumerate(out):
        if not value:
            raise BadInputError(f"{source}: {what} {pos + 1} has an empty id")
        if value in seen:
            raise BadInputError(
                f"{source}: {what} id {value!r} appears twice (positions {seen[value] + 1} and {pos + 1})"
            )
        seen[value] = pos
    return out


def value_kind_of(data: sp.csr_array) -> ValueKind:
    """``"counts"`` if every stored value is a whole number, else ``"proportions"``."""
    values = data.data
    return "counts" if np.all(np.abs(values - np.rint(values)) < 1e-9) else "proportions"


def close_rows(data: sp.csr_array) -> sp.csr_array:
    """Divide each row by its total (rows summing to 0 stay 0)."""
    totals = np.asarray(data.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.csr_array(sp.diags_array(scale) @ data)


def _refuse_first(matrix: sp.csr_array, bad: np.ndarray, samples: list[str], features: list[str], source: str,
                  what: str) -> None:
    """Raise :class:`BadInputError` naming the sample and feature of the first stored value flagged in ``bad``."""
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    row = int(np.searchsorted(matrix.indptr, k, side="right") - 1)
    raise BadInputError(
        f"{source}: sample {samples[row]!r}, feature {features[int(matrix.indices[k])]!r}: value {matrix.data[k]:g} "
        f"{what}"
    )


def build_table(
    data: sp.spmatrix | sp.sparray | np.ndarray,
    sample_ids: Sequence[str],
    feature_ids: Sequence[str],
    source: str,
    taxonomy: dict[str, list[str] | None] | None = None,
    sample_metadata: dict[str, dict[str, str]] | None = None,
    value_kind: ValueKind | None = None,
) -> FeatureTable:
    """Validate a samples-by-features matrix and wrap it as a :class:`FeatureTable`.

    Parameters
    ----------
    data
        Samples x features values (dense or sparse).
    sample_ids, feature_ids
        Labels; must be non-empty and unique.
    source
        File name used in error messages.
    taxonomy, sample_metadata
        Passed through.
    value_kind
        Force the kind (e.g. a QIIME 2 ``FeatureTable[RelativeFrequency]``); detected when ``None``.

    Raises
    ------
    BadInputError
        Empty table, duplicated ids, a NaN, infinite or negative value, or a count (or sample total of counts)
        above :data:`MAX_COUNT` (the error names the sample and feature).
    """
    matrix = sp.csr_array(data, dtype=np.float64)
    matrix.sum_duplicates()
    samples = check_ids(sample_ids, "sample", source)
    features = check_ids(feature_ids, "feature", source)
    if matrix.shape != (len(samples), len(features)):
        raise BadInputError(f"{source}: {matrix.shape} values for {len(samples)} samples x {len(features)} features")
    if not samples or not features:
        raise BadInputError(f"{source}: the table holds no samples or no features ({len(samples)} x {len(features)})")
    _refuse_first(matrix, ~np.isfinite(matrix.data) | (matrix.data < 0), samples, features, source,
                  "is not a non-negative number")
    matrix.eliminate_zeros()
    kind = value_kind or value_kind_of(matrix)
    if kind == "counts":
        _refuse_first(matrix, matrix.data > MAX_COUNT, samples, features, source,
                      f"is larger than the largest count accepted ({MAX_COUNT})")
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    over = np.flatnonzero(~np.isfinite(totals) | (totals > MAX_COUNT if kind == "counts" else False))
    if over.size:
        raise BadInputError(f"{source}: sample {samples[int(over[0])]!r}: the total of its values "
                            f"({totals[int(over[0])]:g}) is larger than the largest accepted ({MAX_COUNT})")
    if kind == "proportions":
        totals = np.asarray(matrix.sum(axis=1)).ravel()
        nonzero = totals[totals > 0]
        scale = "percentages" if nonzero.size and np.allclose(nonzero, 100, rtol=0.05) else "fractions"
        log.info("%s: non-integer values read as relative abundances (%s), each rescaled to sum 1", source, scale)
        matrix = close_rows(matrix)
    return FeatureTable(
        data=matrix,
        sample_ids=samples,
        feature_ids=features,
        taxonomy=dict(taxonomy or {}),
        value_kind=kind,
        sample_metadata=dict(sample_metadata or {}),
    )
