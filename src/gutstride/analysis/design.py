"""Model formulas on sample metadata: which columns a formula uses, and the design columns of each term.

Formulas use patsy's syntax (the R/Wilkinson notation that statsmodels also reads): ``BMI + Groupe``,
``week * group`` (main effects and interaction), ``C(week)`` (a numeric column as categories), ``Q("VO2 max")``
(a column name that is not an identifier). A column of floats is a continuous term (one column); any other
column is categorical, dummy-coded against its first level (treatment coding), as R's default contrasts.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from gutstride.errors import BadInputError


def formula_columns(formula: str, columns: list[str]) -> list[str]:
    """The names among ``columns`` that ``formula`` mentions (as a bare name or inside ``Q("...")``)."""
    used = []
    for column in columns:
        bare = re.search(r"(?<![\w.])" + re.escape(column) + r"(?![\w.])", formula)
        quoted = re.search(r"Q\(\s*['\"]" + re.escape(column) + r"['\"]\s*\)", formula)
        if bare or quoted:
            used.append(column)
    return used


def quote_column(column: str) -> str:
    """``column`` as a formula term that patsy reads whatever characters the name holds."""
    return column if column.isidentifier() else "Q(" + repr(column) + ")"


def design_terms(data: pd.DataFrame, formula: str) -> list[tuple[str, np.ndarray]]:
    """The terms of the right-hand side of ``formula`` (a ``~`` and anything before it are ignored), each with
    its design columns, in the formula's order within each degree (main effects, then two-way interactions...,
    as R orders terms); the intercept is left out.

    Raises
    ------
    BadInputError
        The formula does not parse, names an unknown column, or has no term.
    """
    import patsy

    rhs = formula.split("~", 1)[-1].strip()
    if not rhs:
        raise BadInputError(f"formula {formula!r} has no terms")
    try:
        matrix = patsy.dmatrix(rhs, data, NA_action="raise", return_type="matrix")
    except patsy.PatsyError as exc:
        raise BadInputError(f"formula {formula!r}: {exc.message}") from None
    except NameError as exc:
        raise BadInputError(f"formula {formula!r}: {exc}") from None
    slices = matrix.design_info.term_name_slices
    # patsy puts terms without numeric factors first; keep the formula's order within each degree, as R does.
    written = [term.name() for term in patsy.ModelDesc.from_formula(rhs).rhs_termlist]
    order = sorted((name for name in slices if name != "Intercept"), key=lambda name: (
        name.count(":"), written.index(name) if name in written else len(written)))
    terms = [(name, np.asarray(matrix[:, slices[name]], dtype=np.float64)) for name in order]
    if not terms:
        raise BadInputError(f"formula {formula!r} has no terms besides the intercept")
    return terms


def term_factors(name: str) -> frozenset[str]:
    """The factors of a term as patsy names it (``week:group`` -> ``{"week", "group"}``; ``C(week)`` is one factor).

    A name patsy cannot parse (a bare ``--column`` name with spaces, say) is one factor.
    """
    import patsy

    try:
        parsed = patsy.ModelDesc.from_formula(name).rhs_termlist
    except patsy.PatsyError:
        return frozenset({name})
    factors = [frozenset(factor.name() for factor in term.factors) for term in parsed if term.factors]
    return factors[-1] if len(factors) == 1 else frozenset({name})


def marginal_terms(names: list[str]) -> list[int]:
    """Positions of the terms that no other term contains (``week`` and ``group`` are inside ``week:group``).

    These are the terms R's ``drop.scope`` lets a marginal test drop while respecting marginality, the terms
    vegan's ``anova.cca(by = "margin")`` (hence ``adonis2``) tests.
    """
    factors = [term_factors(name) for name in names]
    return [k for k, own in enumerate(factors)
            if not any(j != k and own < other for j, other in enumerate(factors))]


def design_matrix(data: pd.DataFrame, formula: str) -> tuple[np.ndarray, list[str]]:
    """The full design matrix of the right-hand side of ``formula`` (intercept first) and its column names."""
    import patsy

    rhs = formula.split("~", 1)[-1].strip()
    try:
        matrix = patsy.dmatrix(rhs, data, NA_action="raise", return_type="matrix")
    except (patsy.PatsyError, NameError) as exc:
        raise BadInputError(f"formula {formula!r}: {getattr(exc, 'message', exc)}") from None
    return np.asarray(matrix, dtype=np.float64), list(matrix.design_info.column_names)
