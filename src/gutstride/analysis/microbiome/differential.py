"""Differential abundance with covariates: a linear or mixed model per feature on CLR or robust-CLR values, BH FDR;
or scikit-bio's ANCOM-BC.

Compositional caveat: sequencing gives relative abundances, so these are changes of each feature *relative to the
other features* of the sample (its log-ratio to their geometric mean), not changes of its absolute amount. A
feature can "increase" here because others decreased.

Transforms (``x`` a sample's counts, ``S`` its non-zero features):

- ``clr``: ``log(x_k + c) - mean_j log(x_j + c)`` over all features, with a pseudo-count ``c`` (default 0.5);
- ``rclr``: ``log x_k - mean_{j in S} log x_j`` for ``k in S``; zeros are missing (Martino et al., 2019), so each
  feature's model uses only the samples where it was seen.

Per feature ``y = X b + e`` by ordinary least squares (``X`` the design of the formula, with an intercept):
``b = (X'X)^-1 X'y``, ``s2 = |y - X b|^2 / (n - p)``, ``SE(b_j) = sqrt(s2 [(X'X)^-1]_jj)``, two-sided t-test on
``n - p`` degrees of freedom, as statsmodels' OLS.

With repeated samples per person (``subjects``), per feature the linear mixed model ``y = X b + Z u + e`` with a
random intercept per subject (``u ~ N(0, s2_u)``, ``e ~ N(0, s2 I)``), fitted by statsmodels' ``MixedLM`` (REML,
its default; as q2-longitudinal's ``linear-mixed-effects``): Wald ``z = b_j / SE(b_j)`` and two-sided normal
p-values. Whether each fit converged is reported; a feature whose model cannot be fitted (too few samples or
subjects where it has a value, a design of lower rank there, statsmodels failing or giving non-finite standard
errors) is listed with the reason in ``failed``, never dropped silently.

Benjamini-Hochberg q-values are computed over the fitted features, separately for each coefficient. Features
present in fewer than ``min_prevalence`` of the samples are not tested (and are listed).

A second method, :func:`ancombc_abundance`, runs scikit-bio's ANCOM-BC (Lin & Peddada, 2020) on the counts: it
applies to count tables with one sample per person (it has no random effects).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutstride.analysis.microbiome.permanova import benjamini_hochberg
from gutstride.errors import BadInputError

CAVEAT = ("Compositional data: estimates are changes of each feature relative to the other features of the sample "
          "(log-ratio to their geometric mean), not changes in absolute abundance.")
ANCOMBC_CAVEAT = ("Compositional data: ANCOM-BC corrects each sample's sampling fraction by assuming most features do "
                  "not change, so its log fold changes are still relative to the bulk of the other features, not "
                  "measured absolute abundances.")
#: Fewer samples than this in a level of a categorical term: ANCOM-BC's normal-approximation tests of that level are
#: too liberal (on the American Gut subset a level of 2 samples gave 123 of 716 features at q < 0.05).
ANCOMBC_MIN_LEVEL_SIZE = 5
#: Added to every count before ANCOM-BC's logarithm (scikit-bio's documented choice, R ANCOMBC's ``pseudo = 1``).
ANCOMBC_PSEUDOCOUNT = 1.0


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


#: One feature's fit: arrays over the design's columns (``estimate``, ``std_error``, the statistic, ``p_value``)
#: and scalars (``n``, ...); or, when the fit failed, the reason.
FeatureFit = dict[str, Any] | str


def _rank_problem(x: np.ndarray) -> str | None:
    """Why the design ``x`` (rows: the samples a feature's model uses) cannot be fitted, or None."""
    n, p = x.shape
    if n <= p or np.linalg.matrix_rank(x) < p:
        return f"the design has rank below {p} on the {n} samples where the feature has a value"
    return None


def _ols_fit(coef: np.ndarray, se: np.ndarray, df: float, n: int) -> dict[str, Any]:
    from scipy.stats import t as student_t

    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    return {"estimate": coef, "std_error": se, "t": t, "p_value": 2 * student_t.sf(np.abs(t), df), "df": df, "n": n}


def ols_fits(design: np.ndarray, values: np.ndarray) -> list[FeatureFit]:
    """Ordinary least squares of each column of ``values`` (NaN: no value) on ``design``, as statsmodels' OLS."""
    n = design.shape[0]
    fits: list[FeatureFit] = [""] * values.shape[1]
    complete = np.flatnonzero(~np.isnan(values).any(axis=0))
    if complete.size:
        coef, se, df = _ols(design, values[:, complete])
        for i, k in enumerate(complete):
            fits[k] = _ols_fit(coef[:, i], se[:, i], df, n)
    for k in np.flatnonzero(np.isnan(values).any(axis=0)):
        rows = ~np.isnan(values[:, k])
        problem = _rank_problem(design[rows])
        if problem is not None:
            fits[k] = problem
            continue
        coef, se, df = _ols(design[rows], values[rows, k : k + 1])
        fits[k] = _ols_fit(coef[:, 0], se[:, 0], df, int(rows.sum()))
    return fits


def mixed_fits(design: np.ndarray, values: np.ndarray, subjects: list[str]) -> list[FeatureFit]:
    """statsmodels ``MixedLM`` of each column of ``values`` (NaN: no value) on ``design`` with a random intercept
    per subject, fitted by REML (statsmodels' default); a fit that raises or gives non-finite estimates or
    standard errors is a failure, with the reason."""
    import statsmodels.api as sm

    groups = np.asarray([str(s) for s in subjects])
    p = design.shape[1]
    fits: list[FeatureFit] = []
    for k in range(values.shape[1]):
        rows = ~np.isnan(values[:, k])
        problem = _rank_problem(design[rows])
        if problem is None and np.unique(groups[rows]).size < 2:
            problem = "fewer than two subjects have a value"
        if problem is not None:
            fits.append(problem)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence is reported per feature
                fit = sm.MixedLM(values[rows, k], design[rows], groups=groups[rows]).fit()
        except (ValueError, np.linalg.LinAlgError) as exc:
            fits.append(f"statsmodels MixedLM: {str(exc).splitlines()[0]}")
            continue
        estimate, se = np.asarray(fit.fe_params), np.asarray(fit.bse)[:p]
        if not (np.isfinite(estimate).all() and np.isfinite(se).all()):
            fits.append("statsmodels MixedLM gave no finite estimates or standard errors")
            continue
        fits.append({"estimate": estimate, "std_error": se, "z": np.asarray(fit.tvalues)[:p],
                     "p_value": np.asarray(fit.pvalues)[:p], "converged": bool(fit.converged),
                     "n": int(rows.sum()), "subjects": int(np.unique(groups[rows]).size)})
    return fits


def feature_results(
    fits: list[FeatureFit], feature_ids: list[str], names: list[str], method: str
) -> list[dict[str, Any]]:
    """One row per fitted feature and coefficient (the intercept left out), with Benjamini-Hochberg q-values over
    the fitted features, separately for each coefficient (unless the fits carry their ``q_value``); rows sorted
    by coefficient, then q-value, each naming the ``method``."""
    fitted = [(feature, fit) for feature, fit in zip(feature_ids, fits, strict=True) if isinstance(fit, dict)]
    results: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        if name == "Intercept":
            continue
        rows = [{"feature": feature, "term": name,
                 **{key: float(value[j]) if isinstance(value, np.ndarray) else value for key, value in fit.items()}}
                for feature, fit in fitted]
        if rows and "q_value" not in rows[0]:
            for row, q in zip(rows, benjamini_hochberg([float(row["p_value"]) for row in rows]), strict=True):
                row["q_value"] = q
        for row in rows:
            row["method"] = method
        rows.sort(key=lambda r: (np.isnan(r["q_value"]), r["q_value"]))
        results += rows
    return results


def _prevalent(matrix: sp.csr_matrix | np.ndarray, min_prevalence: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the features seen in at least ``min_prevalence`` of the samples, and of the others."""
    present = np.asarray((matrix > 0).sum(axis=0)).ravel() / matrix.shape[0]
    return np.flatnonzero(present >= min_prevalence), np.flatnonzero(present < min_prevalence)


def _failures(feature_ids: list[str], fits: list[FeatureFit]) -> list[dict[str, str]]:
    return [{"feature": f, "reason": fit} for f, fit in zip(feature_ids, fits, strict=True) if isinstance(fit, str)]


def differential_abundance(
    counts: sp.csr_matrix | np.ndarray,
    feature_ids: list[str],
    design: np.ndarray,
    names: list[str],
    transform: str = "clr",
    min_prevalence: float = 0.1,
    pseudocount: float = 0.5,
    subjects: list[str] | None = None,
) -> dict[str, Any]:
    """A linear model per feature of ``transform`` values on ``design`` (n x p, intercept included, column
    ``names``), or with ``subjects`` (one label per sample) a mixed model with a random intercept per subject;
    see the module docstring.

    Returns
    -------
    dict
        ``method``, ``transform``, ``caveat``, ``min_prevalence``, ``features_tested``, ``results`` (sorted by
        term, then q-value): ``feature``, ``term``, ``estimate``, ``std_error``, ``p_value``, ``q_value``, ``n``,
        and ``t`` and ``df`` (linear model) or ``z``, ``converged`` and ``subjects`` (mixed model);
        ``not_tested`` (features below the prevalence), ``failed`` (``feature``, ``reason``: features whose model
        could not be fitted, left out of the q-values) and ``not_converged`` (features whose mixed model did not
        converge; their rows are kept, flagged ``converged: false``).
    """
    design = np.asarray(design, dtype=np.float64)
    n = design.shape[0]
    matrix = sp.csr_matrix(counts) if sp.issparse(counts) else np.asarray(counts)
    if matrix.shape != (n, len(feature_ids)):
        raise BadInputError(f"table of shape {matrix.shape} does not match {n} samples and {len(feature_ids)} features")
    if subjects is not None and len(subjects) != n:
        raise BadInputError(f"{len(subjects)} subject labels for {n} samples")
    tested, rare = _prevalent(matrix, min_prevalence)
    values = clr_matrix(matrix, transform, pseudocount)[:, tested]
    tested_ids = [feature_ids[k] for k in tested]
    fits = ols_fits(design, values) if subjects is None else mixed_fits(design, values, subjects)
    if subjects is None:
        method = f"linear model per feature on {transform.upper()} values, Benjamini-Hochberg FDR"
    else:
        method = (f"linear mixed model per feature (statsmodels MixedLM, REML, random intercept per subject) on "
                  f"{transform.upper()} values, Benjamini-Hochberg FDR")
    row_method = f"{transform}-{'ols' if subjects is None else 'mixedlm'}"
    return {"method": method, "transform": transform, "caveat": CAVEAT, "min_prevalence": min_prevalence,
            "features_tested": int(tested.size), "results": feature_results(fits, tested_ids, names, row_method),
            "not_tested": [feature_ids[k] for k in rare], "failed": _failures(tested_ids, fits),
            "not_converged": [f for f, fit in zip(tested_ids, fits, strict=True)
                              if isinstance(fit, dict) and not fit.get("converged", True)]}


def small_level_warnings(metadata: pd.DataFrame, rhs: str) -> list[str]:
    """One warning per level of a categorical column named in ``rhs`` that has fewer than
    :data:`ANCOMBC_MIN_LEVEL_SIZE` samples: ANCOM-BC's ``W`` is compared with the standard normal, which is far
    too liberal for so few samples, so that level's rows cannot be judged."""
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", rhs))
    out = []
    for column in metadata.columns:
        if column not in names or pd.api.types.is_numeric_dtype(metadata[column]):
            continue
        for level, size in metadata[column].value_counts().items():
            if size < ANCOMBC_MIN_LEVEL_SIZE:
                out.append(f"{column} = {level!r} has {size} sample(s), fewer than {ANCOMBC_MIN_LEVEL_SIZE}: "
                           "ANCOM-BC's normal-approximation tests are too liberal there; its rows cannot be judged")
    return out


def ancombc_abundance(
    counts: sp.csr_matrix | np.ndarray,
    feature_ids: list[str],
    metadata: pd.DataFrame,
    formula: str,
    min_prevalence: float = 0.1,
) -> dict[str, Any]:
    """ANCOM-BC (Lin & Peddada, 2020) by scikit-bio's ``ancombc``, on the counts of the features seen in at least
    ``min_prevalence`` of the samples, plus one (the pseudo-count scikit-bio's documentation gives, the R
    package's ``pseudo = 1``), with the right-hand side of ``formula`` on ``metadata`` (rows: the samples, in
    the table's order) and Benjamini-Hochberg q-values per coefficient (``p_adjust="bh"``).

    ANCOM-BC fits a linear model per feature to the log counts, estimates each sample's sampling fraction (the
    bias) from the bulk of the features by an EM step, and tests the bias-corrected coefficients with
    ``W = estimate / SE`` against the standard normal.

    Returns the fields of :func:`differential_abundance`; the rows have ``feature``, ``term``, ``estimate`` (the
    bias-corrected log fold change, natural log), ``std_error``, ``z`` (ANCOM-BC's ``W``), ``p_value``,
    ``q_value``, ``n`` and ``method`` ("ancombc"). Features scikit-bio reports as not estimable are listed in
    ``failed``.

    Raises
    ------
    BadInputError
        The table does not hold counts (whole, non-negative numbers), or scikit-bio refuses the model.
    """
    from skbio.stats.composition import ancombc

    dense = np.asarray(sp.csr_matrix(counts).toarray() if sp.issparse(counts) else counts, dtype=np.float64)
    if dense.shape != (len(metadata), len(feature_ids)):
        raise BadInputError(f"table of shape {dense.shape} does not match {len(metadata)} samples and "
                            f"{len(feature_ids)} features")
    if (dense < 0).any() or (dense != np.round(dense)).any():
        raise BadInputError("--method ancombc needs counts (whole numbers of reads); this table holds relative "
                            "abundances or other values: use --method clr")
    tested, rare = _prevalent(dense, min_prevalence)
    tested_ids = [feature_ids[k] for k in tested]
    table = pd.DataFrame(dense[:, tested] + ANCOMBC_PSEUDOCOUNT, index=metadata.index, columns=tested_ids)
    rhs = formula.split("~", 1)[-1].strip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ancombc(table, metadata, rhs, p_adjust="bh").result
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise BadInputError(f"ANCOM-BC: {str(exc).splitlines()[0]}") from None
    names = list(dict.fromkeys(result.index.get_level_values("Covariate")))
    fits: list[FeatureFit] = []
    for feature in tested_ids:
        rows = result.loc[feature].loc[names]
        estimate = rows["Log(FC)"].to_numpy(dtype=np.float64)
        if not np.isfinite(estimate[1:] if names[0] == "Intercept" else estimate).all():
            fits.append("ANCOM-BC: a coefficient is not estimable on the samples where the feature is seen")
            continue
        fits.append({"estimate": estimate, "std_error": rows["SE"].to_numpy(dtype=np.float64),
                     "z": rows["W"].to_numpy(dtype=np.float64), "p_value": rows["pvalue"].to_numpy(dtype=np.float64),
                     "q_value": rows["qvalue"].to_numpy(dtype=np.float64), "n": int(dense.shape[0])})
    return {"method": "ANCOM-BC (scikit-bio ancombc) on counts + 1, Benjamini-Hochberg FDR", "transform": None,
            "caveat": ANCOMBC_CAVEAT, "warnings": small_level_warnings(metadata, rhs),
            "min_prevalence": min_prevalence, "features_tested": int(tested.size),
            "results": feature_results(fits, tested_ids, names, "ancombc"),
            "not_tested": [feature_ids[k] for k in rare], "failed": _failures(tested_ids, fits), "not_converged": []}
