"""Linear mixed-effects models for repeated measures: alpha diversity or any metadata column over time and groups.

As q2-longitudinal's ``linear-mixed-effects``: statsmodels' ``MixedLM`` fitted by REML (its default),
``y = X b + Z u + e`` with a random intercept per subject (``u ~ N(0, G)``, ``e ~ N(0, s2 I)``) and optionally a
random slope on one variable (``re_formula = "~X"``, random intercept and slope with their covariance).
Wald ``z = estimate / SE``, two-sided normal p-values and 95% confidence intervals, as statsmodels reports.
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
    names = list(fit.fe_params.index)
    ci = fit.conf_int().loc[names]
    fixed = [
        {
            "term": name,
            "estimate": float(fit.fe_params[name]),
            "std_error": float(fit.bse_fe[name]),
            "z": float(fit.tvalues[name]),
            "p_value": float(fit.pvalues[name]),
            "ci_low": float(ci.loc[name, 0]),
            "ci_high": float(ci.loc[name, 1]),
        }
        for name in names
    ]
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
