"""Principal coordinates analysis (PCoA; Gower, 1966), exact or randomised, as scikit-bio's ``pcoa``.

With ``A = -D∘D / 2`` and Gower's centred matrix ``G = (I - 11'/n) A (I - 11'/n)``, the principal coordinates are
the eigenvectors of ``G`` scaled by the square roots of their eigenvalues, in decreasing order. As scikit-bio:
eigenvalues within rounding of 0 are 0, negative ones (non-Euclidean distances) are set to 0 with zero
coordinates, and the proportion explained is ``lambda_k / sum of the eigenvalues`` when every axis is computed,
``lambda_k / tr(G)`` when only the first ``dimensions`` are.

- ``method="eigh"``: the full symmetric eigendecomposition (``O(n^3)``), exact.
- ``method="fsvd"``: randomised range finding (Halko, Martinsson & Tropp, 2011): ``Y = G^(q) Omega`` for a Gaussian
  ``n x (k + 10)`` matrix ``Omega`` with ``q = 4`` power iterations (re-orthonormalised each time), then the
  eigendecomposition of the small ``Q' G Q``. Only products ``G X`` are needed, so
  :func:`pcoa_from_products` runs it on a matrix held in tiles. Exact for the leading axes when the spectrum decays
  (the usual case for microbiome distances); the tests compare it with the exact method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gutstride.errors import BadInputError


@dataclass
class Ordination:
    """PCoA result: eigenvalues, proportions explained and sample coordinates (n x dimensions)."""

    eigenvalues: np.ndarray
    proportion_explained: np.ndarray
    coordinates: np.ndarray
    sample_ids: list[str]
    method: str


def gower_centred(dm: np.ndarray) -> np.ndarray:
    """``G = (I - 11'/n) (-D∘D / 2) (I - 11'/n)``."""
    a = -0.5 * np.asarray(dm, dtype=np.float64) ** 2
    return a - a.mean(axis=0)[None, :] - a.mean(axis=1)[:, None] + a.mean()


def _finish(values: np.ndarray, vectors: np.ndarray, total: float, ids: list[str], method: str) -> Ordination:
    values = np.where(np.isclose(values, 0.0), 0.0, values)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    negative = values < 0
    values = np.where(negative, 0.0, values)
    vectors = np.where(negative[None, :], 0.0, vectors)
    return Ordination(values, values / total, vectors * np.sqrt(values), ids, method)


def pcoa(dm: np.ndarray, ids: list[str], dimensions: int | None = None, method: str = "eigh",
         seed: int = 0) -> Ordination:
    """PCoA of the square distance matrix ``dm`` (see the module docstring).

    ``dimensions`` None keeps every axis (``eigh`` only); ``fsvd`` needs ``dimensions``.
    """
    dm = np.asarray(dm, dtype=np.float64)
    n = dm.shape[0]
    if dm.ndim != 2 or dm.shape != (n, n) or len(ids) != n:
        raise BadInputError(f"distance matrix of shape {dm.shape} does not match {len(ids)} ids")
    g = gower_centred(dm)
    if method == "eigh":
        values, vectors = np.linalg.eigh(g)
        result = _finish(values, vectors, 1.0, ids, "eigh")
        keep = n if dimensions is None else min(dimensions, n)
        positive_sum = float(result.eigenvalues.sum())
        total = positive_sum if keep == n else float(np.trace(g))
        return Ordination(result.eigenvalues[:keep], result.eigenvalues[:keep] / total,
                          result.coordinates[:, :keep], ids, "eigh")
    if method == "fsvd":
        if dimensions is None:
            raise BadInputError("the randomised PCoA (fsvd) needs a number of dimensions")
        return pcoa_from_products(lambda x: g @ x, n, float(np.trace(g)), ids, dimensions, seed)
    raise BadInputError(f"PCoA method must be 'eigh' or 'fsvd', not {method!r}")


def pcoa_from_products(
    product: Callable[[np.ndarray], np.ndarray], n: int, trace: float, ids: list[str], dimensions: int,
    seed: int = 0, power_iterations: int = 4,
) -> Ordination:
    """Randomised PCoA from a function computing ``G @ X`` (``n x m`` in, ``n x m`` out) and ``tr(G)``."""
    if dimensions < 1:
        raise BadInputError("PCoA needs at least one dimension")
    k = min(n, dimensions + 10)
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(product(rng.standard_normal((n, k))))
    for _ in range(power_iterations):
        basis, _ = np.linalg.qr(product(basis))
    small = basis.T @ product(basis)
    values, vectors = np.linalg.eigh((small + small.T) / 2)
    result = _finish(values, basis @ vectors, trace, ids, "fsvd")
    keep = min(dimensions, n)
    return Ordination(result.eigenvalues[:keep], result.proportion_explained[:keep], result.coordinates[:, :keep],
                      ids, "fsvd")
