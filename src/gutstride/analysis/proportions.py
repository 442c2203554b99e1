"""Statistics of counts and proportions used by the personal analyses: risk ratios with Katz intervals, Fisher's
exact test, Holm's adjustment and Clopper-Pearson intervals. Pure functions of numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist


def katz_rate_ratio(a: int, n1: int, c: int, n0: int, alpha: float = 0.05) -> tuple[float, float, float, bool]:
    """Risk ratio ``(a/n1)/(c/n0)`` with its Katz log interval; 0.5 is added to every cell if any is zero.

    Returns ``(ratio, low, high, corrected)``.
    """
    aa, bb, cc, dd = float(a), float(n1 - a), float(c), float(n0 - c)
    corrected = min(aa, bb, cc, dd) == 0
    if corrected:
        aa, bb, cc, dd = aa + 0.5, bb + 0.5, cc + 0.5, dd + 0.5
    m1, m0 = aa + bb, cc + dd
    ratio = (aa / m1) / (cc / m0)
    se = math.sqrt(1 / aa - 1 / m1 + 1 / cc - 1 / m0)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    return ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se), corrected


def fisher_exact_two_sided(a: int, n1: int, c: int, n0: int) -> float:
    """Two-sided p-value of Fisher's exact test on ``[[a, n1 - a], [c, n0 - c]]``.

    Given the margins, ``a`` follows the hypergeometric distribution (population ``n1 + n0`` with ``a + c``
    successes, ``n1`` draws); the p-value sums the probabilities of every table no more likely than the one
    observed (with a relative tolerance of 1e-7 for ties), as in R's ``fisher.test`` and scipy.
    """
    import numpy as np
    from scipy.special import gammaln

    total, events = n1 + n0, a + c
    k = np.arange(max(0, n1 - (total - events)), min(n1, events) + 1, dtype=float)

    def log_comb(n: float, r: np.ndarray | float) -> np.ndarray | float:
        return gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)

    pmf = np.exp(log_comb(events, k) + log_comb(total - events, n1 - k) - log_comb(total, n1))
    observed = pmf[a - int(k[0])]
    return float(min(1.0, pmf[pmf <= observed * (1 + 1e-7)].sum()))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values.

    With the m p-values sorted ascending, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`, the adjusted value is
    :math:`\\tilde p_{(i)} = \\min(1, \\max_{j \\le i} (m - j + 1) p_{(j)})`; rejecting where
    :math:`\\tilde p < \\alpha` controls the family-wise error rate at alpha.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a binomial proportion ``k / n`` (``n > 0``).

    With ``alpha = 1 - confidence``: ``low = B^-1(alpha / 2; k, n - k + 1)`` (0 when ``k = 0``) and
    ``high = B^-1(1 - alpha / 2; k + 1, n - k)`` (1 when ``k = n``), ``B^-1`` the inverse regularised incomplete
    beta function (Clopper and Pearson, 1934), as scipy's ``binomtest(k, n).proportion_ci(method="exact")``; through
    ``scipy.special`` rather than ``scipy.stats``, whose import costs the report about 0.4 s.
    """
    from scipy.special import betaincinv

    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return low, high
