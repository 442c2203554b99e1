"""Triggers adjusted for each other: stratified and penalised estimates, a week-blocked permutation test, words.

Pure functions over plain arrays (no I/O). :func:`gutstride.analysis.symptoms.trigger_analysis` calls
:func:`adjust_triggers` with one 0/1/unknown vector per trigger and one outcome vector.

Which triggers adjust which
---------------------------
For a trigger ``T``, another trigger ``C`` (not of the same family: the duration thresholds are one variable) is a
*confounder candidate* when it is known on at least :data:`COVERAGE_MIN` of ``T``'s sessions and, over the
sessions where both are known, the phi coefficient of the two indicators is
at least :data:`PHI_MIN` in absolute value (the two tend to occur together, or apart). ``T`` and ``C`` *cannot be
told apart* when fewer than ``min_sessions`` sessions have one without the other: the data hold no contrast, the
report names both, and neither adjusts the other. Of the remaining candidates the :data:`MAX_CONFOUNDERS`
most associated are used, at most one per family.

Estimates (a risk ratio, always)
--------------------------------
- no confounder: the crude risk ratio (Katz interval);
- one confounder: the Mantel-Haenszel risk ratio over its two strata,
  :math:`RR_{MH} = \\frac{\\sum_k a_k n_{0k}/N_k}{\\sum_k c_k n_{1k}/N_k}`, with the Greenland-Robins variance
  :math:`\\operatorname{Var}\\ln RR_{MH} = \\frac{\\sum_k (n_{1k} n_{0k} m_{1k} - a_k c_k N_k)/N_k^2}
  {(\\sum_k a_k n_{0k}/N_k)(\\sum_k c_k n_{1k}/N_k)}` (``m1k = a_k + c_k``; it reduces to Katz's with one
  stratum); 0.5 is added to every cell of every stratum when a sum is zero;
- several: Firth's penalised logistic regression of the outcome on ``T`` and the confounders (finite under
  separation, less biased in small samples), turned into a risk ratio by marginal standardisation,
  :math:`RR = \\bar p_1 / \\bar p_0` with :math:`\\bar p_x` the mean predicted risk with ``T`` set to ``x`` for every
  session, and a delta-method interval on :math:`\\ln RR` from the inverse Fisher information.

Only sessions where ``T``, the outcome and every confounder are known enter the adjusted estimate.

p-values
--------
Symptoms cluster in weeks (a bad week, an illness), so sessions are not independent. The p-value is a permutation
test that moves the outcomes by *whole weeks* (Monday-Sunday): each replicate exchanges the weeks' sets of outcomes
among weeks with the same number of sessions (dealt in a random order within the week), keeping the exposures and
confounders of every session in place. A week's clustering is kept in every replicate, so it cannot by itself
create an association. The statistic is the Cochran-Mantel-Haenszel score over the confounder strata,
:math:`T = \\sum_k (a_k - n_{1k} m_{1k}/N_k)` (the plain excess of symptomatic exposed sessions without
confounders), and the two-sided p-value is :math:`(1 + \\#\\{|T^*| \\ge |T|\\}) / (B + 1)`. Shuffling the
outcomes tests the trigger against a null in which no trigger matters, with the statistic adjusted for the
confounders (Manly's approach; approximate when a confounder itself matters). Weeks with a number of sessions no
other week has stay in place. The p-values of one family are Holm-adjusted.

Words
-----
:func:`evidence_word` turns the numbers into "clear", "likely", "unclear" or "no sign" (see its docstring).

References
----------
Mantel N, Haenszel W. J Natl Cancer Inst 1959. Greenland S, Robins JM. Estimation of a common effect parameter
from sparse follow-up data. Biometrics 1985. Firth D. Bias reduction of maximum likelihood estimates.
Biometrika 1993. Heinze G, Schemper M. A solution to the problem of separation in logistic regression. Stat Med
2002. Good P. Permutation Tests (restricted permutations within blocks). Holm S. Scand J Stat 1979.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np

#: |phi| at or above which another trigger is a confounder candidate.
PHI_MIN = 0.2
#: A confounder candidate must be known on at least this share of the trigger's sessions.
COVERAGE_MIN = 0.8
#: At most this many confounders adjust one trigger (the most associated first).
MAX_CONFOUNDERS = 3
#: Permutations of the week-blocked test.
PERMUTATIONS = 2000

#: Holm-adjusted p-value below which a trigger is "likely" (so "likely or clear" has a family-wise error <= 0.15).
LIKELY_P = 0.15
WORDS = ("clear", "likely", "unclear", "no sign")


@dataclass(frozen=True)
class Estimate:
    """A risk ratio with its interval, the method and the sessions it rests on."""

    ratio: float
    low: float
    high: float
    method: str  # "crude" | "mantel-haenszel" | "firth"
    n: int
    adjusted_for: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ratio": self.ratio, "interval": [self.low, self.high], "method": self.method, "n": self.n,
                "adjusted_for": list(self.adjusted_for)}


# -- Mantel-Haenszel ---------------------------------------------------------------------------------------------
def mantel_haenszel_rr(tables: Sequence[tuple[int, int, int, int]], alpha: float = 0.05
                       ) -> tuple[float, float, float]:
    """Mantel-Haenszel risk ratio over strata ``(a, n1, c, n0)`` with its Greenland-Robins interval.

    Strata with no exposed or no unexposed session carry no information and are left out. When either pooled sum
    is zero, 0.5 is added to every cell of the informative strata (so 1 to ``n1`` and ``n0``). Returns
    ``(ratio, low, high)``; ``(nan, nan, nan)`` when no stratum is informative.
    """
    cells = np.array([t for t in tables if t[1] > 0 and t[3] > 0], dtype=float).reshape(-1, 4)
    if not len(cells):
        return math.nan, math.nan, math.nan
    a, n1, c, n0 = cells.T
    total = n1 + n0
    r, s = float(np.sum(a * n0 / total)), float(np.sum(c * n1 / total))
    if r == 0 or s == 0:
        a, c, n1, n0 = a + 0.5, c + 0.5, n1 + 1, n0 + 1
        total = n1 + n0
        r, s = float(np.sum(a * n0 / total)), float(np.sum(c * n1 / total))
    variance = float(np.sum((n1 * n0 * (a + c) - a * c * total) / total**2)) / (r * s)
    ratio = r / s
    z = NormalDist().inv_cdf(1 - alpha / 2)
    half = z * math.sqrt(max(variance, 0.0))
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


# -- Firth ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FirthFit:
    """Firth-penalised logistic regression: coefficients, their covariance (inverse information), convergence."""

    beta: np.ndarray
    cov: np.ndarray
    converged: bool
    iterations: int


def firth_logit(x: np.ndarray, y: np.ndarray, max_iter: int = 100, tol: float = 1e-8) -> FirthFit:
    """Fit :math:`\\operatorname{logit} P(y=1) = X\\beta` by Firth's penalised likelihood.

    Maximises :math:`\\ell(\\beta) + \\tfrac12 \\ln\\det I(\\beta)`, :math:`I = X^T W X`, ``W = diag(p(1-p))``, by
    Newton steps on the modified score :math:`U^* = X^T(y - p + h(\\tfrac12 - p))` (``h`` the diagonal of the hat
    matrix :math:`W^{1/2} X I^{-1} X^T W^{1/2}`), halving a step while the penalised log-likelihood falls
    (Heinze & Schemper 2002). ``x`` must include the intercept column. Estimates stay finite under separation.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    beta = np.zeros(x.shape[1])

    def state(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        eta = np.clip(x @ b, -30, 30)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        info = x.T @ (x * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        loglik = float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))
        return loglik + 0.5 * logdet if sign > 0 else -math.inf, p, w, info

    penalised, p, w, info = state(beta)
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        inverse = np.linalg.pinv(info)
        h = np.einsum("ij,jk,ik->i", x * np.sqrt(w)[:, None], inverse, x * np.sqrt(w)[:, None])
        score = x.T @ (y - p + h * (0.5 - p))
        step = inverse @ score
        new = beta + step
        new_pen, new_p, new_w, new_info = state(new)
        halvings = 0
        while new_pen < penalised - 1e-12 and halvings < 30:
            step = step / 2
            new = beta + step
            new_pen, new_p, new_w, new_info = state(new)
            halvings += 1
        beta, penalised, p, w, info = new, new_pen, new_p, new_w, new_info
        if float(np.max(np.abs(step))) < tol:
            converged = True
            break
    return FirthFit(beta, np.linalg.pinv(info), converged, iteration)


def standardised_rr(fit: FirthFit, x: np.ndarray, column: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Risk ratio of ``column`` (0/1) by marginal standardisation, with a delta-method interval on its log.

    :math:`\\bar p_v = n^{-1}\\sum_i \\operatorname{expit}(x_i^{(v)}\\beta)` with ``x_i^(v)`` = ``x_i`` with the
    column set to ``v``; :math:`\\nabla \\ln RR = \\bar g_1/\\bar p_1 - \\bar g_0/\\bar p_0`, :math:`\\bar g_v =
    n^{-1}\\sum_i p_i^{(v)}(1 - p_i^{(v)}) x_i^{(v)}`; :math:`\\operatorname{Var}\\ln RR = \\nabla^T \\Sigma \\nabla`.
    """
    means, grads = [], []
    for value in (0.0, 1.0):
        xv = np.array(x, dtype=float)
        xv[:, column] = value
        p = 1.0 / (1.0 + np.exp(-np.clip(xv @ fit.beta, -30, 30)))
        means.append(float(p.mean()))
        grads.append((xv * (p * (1 - p))[:, None]).mean(axis=0))
    ratio = means[1] / means[0]
    gradient = grads[1] / means[1] - grads[0] / means[0]
    se = math.sqrt(max(float(gradient @ fit.cov @ gradient), 0.0))
    z = NormalDist().inv_cdf(1 - alpha / 2)
    return ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se)


# -- permutation ---------------------------------------------------------------------------------------------------
def cmh_score(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """The Cochran-Mantel-Haenszel score :math:`\\sum_k (a_k - n_{1k} m_{1k} / N_k)` for each row of ``y``.

    ``x`` 0/1 exposure (n), ``y`` 0/1 outcomes (n or B x n), ``strata`` integer labels (n).
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    _, inverse = np.unique(strata, return_inverse=True)
    onehot = np.zeros((len(x), inverse.max() + 1))
    onehot[np.arange(len(x)), inverse] = 1.0
    exposed_share = (onehot.T @ x) / onehot.sum(axis=0)
    return y @ x - (y @ onehot) @ exposed_share


def week_shuffles(weeks: np.ndarray, permutations: int = PERMUTATIONS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The session order (by week) and ``permutations`` rows of outcome indices that move whole weeks.

    Returns ``(order, index)``: ``order`` sorts the sessions by week (keeping their order within it); row ``b`` of
    ``index`` says, for each sorted session, which sorted session's outcome it takes in replicate ``b``. Weeks are
    exchanged only with weeks holding the same number of sessions, and a week's outcomes are dealt to the sessions
    of the week they land in in a random order (a fixed order would carry weekday patterns, such as the Sunday long
    run, along with them).
    """
    weeks = np.asarray(weeks)
    order = np.lexsort((np.arange(len(weeks)), weeks))
    weeks = weeks[order]
    starts = np.flatnonzero(np.r_[True, weeks[1:] != weeks[:-1]]) if len(weeks) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(weeks)])
    rng = np.random.default_rng(seed)
    index = np.empty((permutations, len(weeks)), dtype=np.int64)
    for size in np.unique(sizes):
        group = starts[sizes == size]
        positions = group[:, None] + np.arange(size)  # weeks x sessions
        week_order = rng.permuted(np.broadcast_to(np.arange(len(group)), (permutations, len(group))), axis=1)
        moved = rng.permuted(positions[week_order], axis=2)  # the week's outcomes, dealt in a random order
        index[:, positions.ravel()] = moved.reshape(permutations, -1)
    return order, index


def week_permutation_p(x: np.ndarray, y: np.ndarray, weeks: np.ndarray, strata: np.ndarray | None = None,
                       permutations: int = PERMUTATIONS, seed: int = 0,
                       shuffles: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Two-sided p-value of the CMH score when whole weeks of outcomes are shuffled (see the module docstring and
    :func:`week_shuffles`, whose result for the same ``weeks`` may be passed as ``shuffles``). Exposures and
    confounders stay where they are. The p-value is :math:`(1 + \\#\\{|T^*| \\ge |T|\\}) / (B + 1)`.
    """
    order, index = shuffles if shuffles is not None else week_shuffles(weeks, permutations, seed)
    x = np.asarray(x, dtype=float)[order]
    y = np.asarray(y, dtype=float)[order]
    strata = np.zeros(len(x), dtype=np.int64) if strata is None else np.asarray(strata)[order]
    return _permutation_p(x, y, y[index], strata)


def _permutation_p(x: np.ndarray, y: np.ndarray, shuffled: np.ndarray, strata: np.ndarray) -> float:
    """:func:`week_permutation_p` from ``x``, ``y`` and ``strata`` in the shuffles' session order and the shuffled
    outcomes ``shuffled = y[index]`` (B x n; the same for every trigger known on the same sessions)."""
    observed = abs(float(cmh_score(x, y, strata)[0]))
    null = np.abs(cmh_score(x, shuffled, strata))
    return float((1 + np.sum(null >= observed - 1e-9)) / (len(shuffled) + 1))


# -- words ---------------------------------------------------------------------------------------------------------
def evidence_word(p_adjusted: float | None, p_value: float | None, estimate: Estimate | None,
                  alpha: float = 0.05) -> str:
    """How strongly this person's data support a trigger, in one word.

    - "clear": the Holm-adjusted permutation p-value is below ``alpha`` and the adjusted interval excludes 1
      (the family-wise error rate of "clear" is at most ``alpha``);
    - "likely": the Holm-adjusted p-value is below :data:`LIKELY_P` (or below ``alpha`` with an adjusted interval
      that includes 1);
    - "unclear": the permutation p-value before Holm is below 0.2, or the adjusted risk ratio is at least 1.5 (or
      at most 1/1.5) but the data cannot confirm it;
    - "no sign": otherwise.
    """
    if estimate is None or p_value is None or p_adjusted is None or not math.isfinite(estimate.ratio):
        return "no sign"
    excludes = estimate.low > 1 or estimate.high < 1
    if p_adjusted < alpha and excludes:
        return "clear"
    if p_adjusted < LIKELY_P:
        return "likely"
    if p_value < 0.2 or estimate.ratio >= 1.5 or estimate.ratio <= 1 / 1.5:
        return "unclear"
    return "no sign"


# -- the adjusted analysis ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adjusted:
    """The adjusted reading of one trigger."""

    estimate: Estimate | None
    p_value: float | None
    p_adjusted: float | None = None
    word: str = "no sign"
    aliased_with: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()  # nested thresholds this one stands for
    merged_into: str | None = None
    permutations: int = PERMUTATIONS
    n_weeks: int = 0


def _known(values: Sequence[bool | None]) -> np.ndarray:
    return np.array([v is not None for v in values])


def _as01(values: Sequence[bool | None]) -> np.ndarray:
    return np.array([1.0 if v else 0.0 for v in values])


def phi(x: np.ndarray, y: np.ndarray) -> float:
    """Phi coefficient of two 0/1 arrays (0 when either is constant).

    From the counts: :math:`\\phi = (n\\,n_{11} - n_{1\\cdot} n_{\\cdot 1}) /
    \\sqrt{n_{1\\cdot} (n - n_{1\\cdot})\\, n_{\\cdot 1} (n - n_{\\cdot 1})}`, Pearson's correlation of the two arrays.
    """
    n, nx, ny, nxy = len(x), int(np.count_nonzero(x)), int(np.count_nonzero(y)), int(np.count_nonzero(x * y))
    spread = nx * (n - nx) * ny * (n - ny)
    if spread == 0:
        return 0.0
    return (n * nxy - nx * ny) / math.sqrt(spread)


def _week(day: date) -> int:
    return day.toordinal() // 7  # ordinal 7 is a Sunday, so weeks run Monday to Sunday


def adjust_triggers(
    exposures: dict[str, list[bool | None]], outcome: list[bool | None], days: list[date],
    tested: Sequence[str], families: dict[str, str], min_sessions: int = 5, alpha: float = 0.05,
    permutations: int = PERMUTATIONS, seed: int = 0,
) -> dict[str, Adjusted]:
    """Adjusted estimates, week-blocked permutation p-values (Holm over ``tested``) and words for each trigger.

    ``tested`` are the triggers with enough data (the others get no estimate); ``families`` maps a trigger to its
    family (nested thresholds share one and are merged into the best-supported, see :func:`merge_nested`).
    """
    y_known = _known(outcome)
    y_all = _as01(outcome)
    weeks = np.array([_week(d) for d in days], dtype=np.int64)
    known = {name: _known(exposures[name]) for name in tested}  # each trigger's arrays, built once
    values = {name: _as01(exposures[name]) for name in tested}
    out: dict[str, Adjusted] = {}
    # triggers known on the same sessions share their shuffles: (order, outcomes in that order, shuffled outcomes)
    shuffles: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for t in tested:
        xt_known = known[t] & y_known
        xt = values[t]
        scored: list[tuple[float, str]] = []
        aliased: list[str] = []
        for other in tested:
            if other == t or families.get(other, other) == families.get(t, t):
                continue
            both = xt_known & known[other]
            xc = values[other]
            if both.sum() < max(2 * min_sessions, COVERAGE_MIN * xt_known.sum()):
                continue  # logged too rarely alongside T: adjusting would throw most of T's sessions away
            if int(np.sum(xt[both] != xc[both])) < min_sessions:
                aliased.append(other)
                continue
            r = phi(xt[both], xc[both])
            if abs(r) >= PHI_MIN:
                scored.append((abs(r), other))
        scored.sort(key=lambda item: (-item[0], item[1]))
        best_of_family: dict[str, str] = {}
        for _, name in scored:  # one threshold per family: nested indicators would adjust for the same thing twice
            best_of_family.setdefault(families.get(name, name), name)
        confounders = [name for _, name in scored if best_of_family[families.get(name, name)] == name]
        confounders = confounders[:MAX_CONFOUNDERS]
        mask = xt_known.copy()
        for name in confounders:
            mask &= known[name]
        x, y = xt[mask], y_all[mask]
        cmat = np.column_stack([values[name][mask] for name in confounders]) if confounders else \
            np.zeros((int(mask.sum()), 0))
        strata = (cmat @ (2 ** np.arange(cmat.shape[1]))).astype(np.int64) if confounders else \
            np.zeros(len(x), dtype=np.int64)
        estimate = _estimate(x, y, cmat, strata, confounders, alpha)
        key = mask.tobytes()
        if estimate is not None and key not in shuffles:
            order, index = week_shuffles(weeks[mask], permutations, seed)
            shuffles[key] = (order, y[order], y[order][index])
        p = None
        if estimate is not None:
            order, y_sorted, shuffled = shuffles[key]
            p = _permutation_p(x[order], y_sorted, shuffled, strata[order])
        out[t] = Adjusted(estimate, p, aliased_with=tuple(sorted(aliased)),
                          candidates=tuple(name for _, name in scored), permutations=permutations,
                          n_weeks=len(np.unique(weeks[mask])))
    from gutstride.analysis.proportions import holm_adjust

    names = [t for t in tested if out[t].p_value is not None]
    adjusted = holm_adjust([out[t].p_value or 0.0 for t in names])
    for name, p_adj in zip(names, adjusted, strict=True):
        a = out[name]
        out[name] = replace(a, p_adjusted=p_adj, word=evidence_word(p_adj, a.p_value, a.estimate, alpha))
    return merge_nested(out, families)


def _estimate(x: np.ndarray, y: np.ndarray, cmat: np.ndarray, strata: np.ndarray, confounders: list[str],
              alpha: float) -> Estimate | None:
    from gutstride.analysis.proportions import katz_rate_ratio

    n = len(x)
    if not n or x.min() == x.max():
        return None
    if not confounders:
        a, n1 = int(np.sum(x * y)), int(x.sum())
        c, n0 = int(np.sum((1 - x) * y)), n - n1
        ratio, low, high, _ = katz_rate_ratio(a, n1, c, n0, alpha)
        return Estimate(ratio, low, high, "crude", n)
    if len(confounders) == 1:
        tables = []
        for s in np.unique(strata):
            xs, ys = x[strata == s], y[strata == s]
            tables.append((int(np.sum(xs * ys)), int(xs.sum()), int(np.sum((1 - xs) * ys)), int(len(xs) - xs.sum())))
        ratio, low, high = mantel_haenszel_rr(tables, alpha)
        return Estimate(ratio, low, high, "mantel-haenszel", n, tuple(confounders))
    design = np.column_stack([np.ones(n), x, cmat])
    fit = firth_logit(design, y)
    ratio, low, high = standardised_rr(fit, design, 1, alpha)
    return Estimate(ratio, low, high, "firth", n, tuple(confounders))


def merge_nested(results: dict[str, Adjusted], families: dict[str, str]) -> dict[str, Adjusted]:
    """Within each family of nested thresholds keep the best-supported member and mark the others merged into it.

    Best supported: the smallest permutation p-value, then the highest lower interval bound of the adjusted risk
    ratio, then the first in order.
    """
    out = dict(results)
    groups: dict[str, list[str]] = {}
    for name in results:
        groups.setdefault(families.get(name, name), []).append(name)
    for members in groups.values():
        if len(members) < 2:
            continue

        def support(name: str) -> tuple[float, float]:
            a = results[name]
            low = a.estimate.low if a.estimate is not None and math.isfinite(a.estimate.low) else 0.0
            return (a.p_value if a.p_value is not None else 2.0, -low)

        best = min(members, key=lambda m: (*support(m), members.index(m)))
        for name in members:
            if name == best:
                out[name] = replace(out[name], merged=tuple(m for m in members if m != best))
            else:
                out[name] = replace(out[name], merged_into=best)
    return out
