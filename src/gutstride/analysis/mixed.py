"""Linear models: mixed-effects for repeated measures, ordinary least squares for one sample per person.

As q2-longitudinal's ``linear-mixed-effects``: statsmodels' ``MixedLM`` fitted by REML (its default),
``y = X b + Z u + e`` with a random intercept per subject (``u ~ N(0, G)``, ``e ~ N(0, s2 I)``) and optionally a
random slope on one variable (``re_formula = "~X"``, random intercept and slope with their covariance).
Wald ``z = estimate / SE``, two-sided normal p-values and 95% confidence intervals, as statsmodels reports.

Without repeated measures, :func:`fit_linear_model` fits ordinary least squares (statsmodels ``ols``):
``t = estimate / SE`` on ``n - p`` degrees of freedom, with t-based p-values and 95% intervals, and R².
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from gutstride.errors import BadInputError, MissingDataError

if TYPE_CHECKING:
    import pandas as pd


def fit_mixed_model(
    data: pd.DataFrame, formula: str, subject: str, random_slope: str | None = None
) -> dict[str, Any]:
    """Fit ``formula`` (``y ~ terms``, patsy syntax) with subjects ``data[subject]`` as the random-effect groups.

    Returns
    -------
    dict
        ``fixed_effects`` (``term``, ``estimate``, ``std_error``, ``z``, ``p_value``, ``ci_low``, ``ci_high``),
        ``random_effects`` (``covariance``: the random-effects covariance by name; ``residual_variance``),
        ``n_observations``, ``n_groups``, ``converged``, ``method`` ("REML"), ``formula``, ``warnings``.

    Raises
    ------
    BadInputError
        No ``~`` in the formula, or statsmodels cannot fit the model (singular design, unknown names...).
    MissingDataError
        Fewer than two subjects.
    """
    import statsmodels.formula.api as smf
    from patsy import PatsyError

    if "~" not in formula:
        raise BadInputError(f"formula {formula!r} needs a response: 'y ~ terms'")
    if subject not in data.columns:
        raise MissingDataError(f"no subject column {subject!r}")
    groups = data[subject].astype(str)
    if groups.nunique() < 2:
        raise MissingDataError("a mixed model needs at least two subjects")
    re_formula = f"~{random_slope}" if random_slope else None
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fit = smf.mixedlm(formula, data, groups=groups, re_formula=re_formula).fit()
        caught = sorted({str(w.message).splitlines()[0] for w in record})
    except (PatsyError, ValueError, np.linalg.LinAlgError) as exc:
        raise BadInputError(f"mixed model {formula!r}: {str(exc).splitlines()[0]}") from None
    fixed = _coefficients(fit, "z")
    cov = fit.cov_re
    return {
        "method": "REML",
        "formula": formula,
        "subject": subject,
        "random_slope": random_slope,
        "fixed_effects": fixed,
        "random_effects": {
            "covariance": {str(r): {str(c): float(cov.loc[r, c]) for c in cov.columns} for r in cov.index},
            "residual_variance": float(fit.scale),
        },
        "n_observations": int(fit.nobs),
        "n_groups": int(groups.nunique()),
        "converged": bool(fit.converged),
        "warnings": caught,
    }


def _coefficients(fit: Any, statistic: str) -> list[dict[str, Any]]:
    names = list(fit.params.index) if not hasattr(fit, "fe_params") else list(fit.fe_params.index)
    ci = fit.conf_int().loc[names]
    return [
        {
            "term": name,
            "estimate": float(fit.params[name]),
            "std_error": float(fit.bse[name]),
            statistic: float(fit.tvalues[name]),
            "p_value": float(fit.pvalues[name]),
            "ci_low": float(ci.loc[name, 0]),
            "ci_high": float(ci.loc[name, 1]),
        }
        for name in names
    ]


def fit_linear_model(data: pd.DataFrame, formula: str) -> dict[str, Any]:
    """Ordinary least squares of ``formula`` (``y ~ terms``) on ``data``.

    Returns ``fixed_effects`` (``term``, ``estimate``, ``std_error``, ``t``, ``p_value``, ``ci_low``,
    ``ci_high``), ``r2``, ``adjusted_r2``, ``df_residual``, ``n_observations``, ``method`` ("OLS"), ``formula``.
    """
    import statsmodels.formula.api as smf
    from patsy import PatsyError

    if "~" not in formula:
        raise BadInputError(f"formula {formula!r} needs a response: 'y ~ terms'")
    try:
        fit = smf.ols(formula, data).fit()
    except (PatsyError, ValueError, np.linalg.LinAlgError) as exc:
        raise BadInputError(f"linear model {formula!r}: {str(exc).splitlines()[0]}") from None
    return {
        "method": "OLS",
        "formula": formula,
        "fixed_effects": _coefficients(fit, "t"),
        "r2": float(fit.rsquared),
        "adjusted_r2": float(fit.rsquared_adj),
        "df_residual": float(fit.df_resid),
        "n_observations": int(fit.nobs),
    }
