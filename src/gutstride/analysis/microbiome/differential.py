"""Differential abundance with covariates: a linear model per feature on CLR or robust-CLR values, BH FDR.

Compositional caveat: sequencing gives relative abundances, so these are changes of each feature *relative to the
other features* of the sample (its log-ratio to their geometric mean), not changes of its absolute amount. A
feature can "increase" here because others decreased.

Transforms (``x`` a sample's counts, ``S`` its non-zero features):

- ``clr``: ``log(x_k + c) - mean_j log(x_j + c)`` over all features, with a pseudo-count ``c`` (default 0.5);
- ``rclr``: ``log x_k - mean_{j in S} log x_j`` for ``k in S``; zeros are missing (Martino et al., 2019), so each
  feature's model uses only the samples where it was seen.

Per feature ``y = X b + e`` by ordinary least squares (``X`` the design of the formula, with an intercept):
``b = (X'X)^-1 X'y``, ``s2 = |y - X b|^2 / (n - p)``, ``SE(b_j) = sqrt(s2 [(X'X)^-1]_jj)``, two-sided t-test on
``n - p`` degrees of freedom, as statsmodels' OLS. Benjamini-Hochberg q-values are computed over the features,
separately for each coefficient. Features present in fewer than ``min_prevalence`` of the samples are not tested
(and are listed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from gutstride.analysis.microbiome.permanova import benjamini_hochberg
from gutstride.errors import BadInputError

CAVEAT = ("Compositional data: estimates are changes of each feature relative to the other features of the sample "
          "(log-ratio to their geometric mean), not changes in absolute abundance.")


def clr_matrix(counts: sp.csr_matrix | np.ndarray, transform: str = "clr", pseudocount: float = 0.5) -> np.ndarray:
    """Dense samples x features CLR (with ``pseudocount``) or robust CLR (zeros as NaN) values."""
    dense = np.asarray(sp.csr_matrix(counts).toarray() if sp.issparse(counts) else counts, dtype=np.float64)
    if transform == "clr":
        if pseudocount <= 0:
            raise BadInputError("the CLR pseudo-count must be positive")
        logs = np.log(dense + pseudocount)
        return logs - logs.mean(axis=1, keepdims=True)
    if transform == "rclr":
        with np.errstate(divide="ignore"):
            logs = np.where(dense > 0, np.log(np.where(dense > 0, dense, 1.0)), np.nan)
        return logs - np.nanmean(np.where(np.isnan(logs).all(axis=1, keepdims=True), 0.0, logs), axis=1,
                                 keepdims=True)
    raise BadInputError(f"transform must be 'clr' or 'rclr', not {transform!r}")


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Coefficients (p x m), their standard errors, and the residual df, for the columns of ``y`` (n x m)."""
    from scipy.linalg import lstsq

    n, p = x.shape
    coef, _, rank, _ = lstsq(x, y)
    if rank < p:
        raise BadInputError("the design is rank-deficient (a term is constant or repeats another)")
    resid = y - x @ coef
    df = n - p
    s2 = (resid**2).sum(axis=0) / df
    xtx_inv = np.linalg.inv(x.T @ x)
    return coef, np.sqrt(np.outer(np.diag(xtx_inv), s2)), float(df)


def differential_abundance(
    counts: sp.csr_matrix | np.ndarray,
    feature_ids: list[str],
    design: np.ndarray,
    names: list[str],
    transform: str = "clr",
    min_prevalence: float = 0.1,
    pseudocount: float = 0.5,
) -> dict[str, Any]:
    """A linear model per feature of ``transform`` values on ``design`` (n x p, intercept included, column
    ``names``); see the module docstring.

    Returns ``{"method", "transform", "caveat", "results": [{"feature", "term", "estimate", "std_error", "t",
    "df", "p_value", "q_value", "n"}], "not_tested": [...]}`` (``results`` sorted by term, then q-value).
    """
    from scipy.stats import t as student_t

    design = np.asarray(design, dtype=np.float64)
    n = design.shape[0]
    matrix = sp.csr_matrix(counts) if sp.issparse(counts) else np.asarray(counts)
    if matrix.shape != (n, len(feature_ids)):
        raise BadInputError(f"table of shape {matrix.shape} does not match {n} samples and {len(feature_ids)} features")
    present = np.asarray((matrix > 0).sum(axis=0)).ravel() / n
    tested = np.flatnonzero(present >= min_prevalence)
    not_tested = [feature_ids[k] for k in np.flatnonzero(present < min_prevalence)]
    values = clr_matrix(matrix, transform, pseudocount)[:, tested]
    p = design.shape[1]
    coef = np.full((p, tested.size), np.nan)
    se = np.full((p, tested.size), np.nan)
    df = np.full(tested.size, np.nan)
    used = np.full(tested.size, n)
    if transform == "clr":
        coef, se, d = _ols(design, values)
        df[:] = d
    else:
        for k in range(tested.size):
            rows = ~np.isnan(values[:, k])
            used[k] = int(rows.sum())
            if used[k] > p and np.linalg.matrix_rank(design[rows]) == p:
                c, s, d = _ols(design[rows], values[rows, k : k + 1])
                coef[:, k], se[:, k], df[k] = c[:, 0], s[:, 0], d
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    pvals = 2 * student_t.sf(np.abs(t), df[None, :])
    results = []
    for j, name in enumerate(names):
        if name == "Intercept":
            continue
        q = benjamini_hochberg([float(v) for v in pvals[j]])
        rows = [{"feature": feature_ids[f], "term": name, "estimate": float(coef[j, k]),
                 "std_error": float(se[j, k]), "t": float(t[j, k]), "df": float(df[k]),
                 "p_value": float(pvals[j, k]), "q_value": q[k], "n": int(used[k])}
                for k, f in enumerate(tested)]
        rows.sort(key=lambda r: (np.isnan(r["q_value"]), r["q_value"]))
        results += rows
    return {"method": f"linear model per feature on {transform.upper()} values, Benjamini-Hochberg FDR",
            "transform": transform, "caveat": CAVEAT, "min_prevalence": min_prevalence,
            "features_tested": int(tested.size), "results": results, "not_tested": not_tested}
