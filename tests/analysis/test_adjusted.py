"""Adjusted triggers: Mantel-Haenszel against statsmodels, Firth's regression on known cases, the week-blocked test,
nested thresholds merged, triggers that cannot be told apart named together."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import StratifiedTable

from gutstride.analysis.adjusted import (
    Adjusted,
    Estimate,
    adjust_triggers,
    evidence_word,
    firth_logit,
    mantel_haenszel_rr,
    merge_nested,
    standardised_rr,
    week_permutation_p,
)
from gutstride.analysis.proportions import katz_rate_ratio

stratum = st.tuples(st.integers(1, 30), st.integers(0, 30), st.integers(1, 30), st.integers(0, 30)).map(
    lambda t: (min(t[1], t[0]), t[0], min(t[3], t[2]), t[2])  # (a, n1, c, n0) with a <= n1, c <= n0
)


@settings(max_examples=200, deadline=None)
@given(st.lists(stratum, min_size=1, max_size=5))
def test_mantel_haenszel_matches_statsmodels(strata: list[tuple[int, int, int, int]]) -> None:
    a = np.array([s[0] for s in strata])
    c = np.array([s[2] for s in strata])
    if a.sum() == 0 or c.sum() == 0:
        return  # the 0.5-corrected estimate has no statsmodels counterpart
    tables = np.array([[[s[0], s[1] - s[0]], [s[2], s[3] - s[2]]] for s in strata], dtype=float).transpose(1, 2, 0)
    ratio, low, high = mantel_haenszel_rr(strata)
    assert ratio == pytest.approx(StratifiedTable(tables).riskratio_pooled, rel=1e-9)
    assert low <= ratio <= high


@settings(max_examples=100, deadline=None)
@given(stratum)
def test_mantel_haenszel_with_one_stratum_is_katz(table: tuple[int, int, int, int]) -> None:
    """The Greenland-Robins variance reduces to Katz's with a single stratum (without zero cells)."""
    a, n1, c, n0 = table
    if min(a, n1 - a, c, n0 - c) == 0:
        return
    ratio, low, high = mantel_haenszel_rr([table])
    k_ratio, k_low, k_high, _ = katz_rate_ratio(*table)
    assert (ratio, low, high) == pytest.approx((k_ratio, k_low, k_high), rel=1e-9)


def test_mantel_haenszel_removes_a_planted_confounder() -> None:
    """Heat causes symptoms; long runs are mostly hot. Crude, long runs look harmful; stratified on heat, they don't."""
    rng = np.random.default_rng(5)
    n = 4000
    hot = rng.random(n) < 0.4
    long = np.where(hot, rng.random(n) < 0.8, rng.random(n) < 0.1)
    sick = rng.random(n) < np.where(hot, 0.45, 0.1)
    crude = katz_rate_ratio(int((long & sick).sum()), int(long.sum()), int((~long & sick).sum()), int((~long).sum()))
    tables = [(int((long & sick & h).sum()), int((long & h).sum()), int((~long & sick & h).sum()),
               int((~long & h).sum())) for h in (hot, ~hot)]
    ratio, low, high = mantel_haenszel_rr(tables)
    assert crude[0] > 2 and low < 1 < high and ratio == pytest.approx(1, abs=0.15)


def test_firth_equals_haldane_corrected_log_odds_for_one_binary_covariate() -> None:
    """For a saturated 2-group model, Firth's estimates are the log odds with 0.5 added to every cell."""
    x1 = np.r_[np.ones(12), np.zeros(20)]
    y = np.r_[np.ones(12), np.ones(3), np.zeros(17)]  # exposed 12/12 (complete separation), unexposed 3/20
    fit = firth_logit(np.column_stack([np.ones_like(x1), x1]), y)
    assert fit.converged and np.all(np.isfinite(fit.beta))
    logit0 = np.log(3.5 / 17.5)
    logit1 = np.log(12.5 / 0.5)
    assert fit.beta == pytest.approx([logit0, logit1 - logit0], rel=1e-6)


def test_firth_stays_finite_under_quasi_separation_and_statsmodels_does_not() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=40)
    y = (x > 0).astype(float)
    design = np.column_stack([np.ones(40), x])
    fit = firth_logit(design, y)
    assert fit.converged and np.all(np.isfinite(fit.beta)) and np.all(np.abs(fit.beta) < 50)
    with pytest.raises(Exception):  # noqa: B017 - statsmodels raises PerfectSeparationError (or warns, then fails)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sm.Logit(y, design).fit(disp=0)


def test_firth_agrees_with_maximum_likelihood_on_a_large_sample() -> None:
    rng = np.random.default_rng(3)
    n = 20000
    design = np.column_stack([np.ones(n), rng.random(n) < 0.3, rng.random(n) < 0.5, rng.normal(size=n)]).astype(float)
    eta = design @ np.array([-1.5, 0.9, -0.4, 0.3])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    fit = firth_logit(design, y)
    reference = sm.Logit(y, design).fit(disp=0)
    assert fit.beta == pytest.approx(reference.params, abs=2e-3)
    assert np.sqrt(np.diag(fit.cov)) == pytest.approx(reference.bse, rel=1e-2)


def test_standardised_risk_ratio_without_confounders_is_the_crude_ratio() -> None:
    x1 = np.r_[np.ones(30), np.zeros(50)]
    y = np.r_[np.ones(12), np.zeros(18), np.ones(10), np.zeros(40)]
    design = np.column_stack([np.ones_like(x1), x1])
    ratio, low, high = standardised_rr(firth_logit(design, y), design, 1)
    # Firth's fitted risks are (12.5/31) and (10.5/51); the ratio of the two is the standardised risk ratio
    assert ratio == pytest.approx((12.5 / 31) / (10.5 / 51), rel=1e-6)
    assert low < ratio < high


def _weeks(n: int, per_week: int = 4) -> np.ndarray:
    return np.arange(n) // per_week


def test_week_permutation_keeps_the_size_under_clustered_null() -> None:
    """Symptoms cluster in weeks and so does the exposure; with no effect, p < 0.05 stays rare."""
    rejections = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        weeks = _weeks(80)
        bad_week = rng.random(20) < 0.3
        hot_week = rng.random(20) < 0.5
        y = (rng.random(80) < np.where(bad_week[weeks], 0.7, 0.1)).astype(float)
        x = (rng.random(80) < np.where(hot_week[weeks], 0.8, 0.2)).astype(float)
        rejections += week_permutation_p(x, y, weeks, permutations=200, seed=seed) < 0.05
    assert rejections <= 18  # binomial(200, 0.05) exceeds 17 with probability < 0.01


def test_week_permutation_finds_a_real_effect() -> None:
    rng = np.random.default_rng(1)
    weeks = _weeks(100)
    x = (rng.random(100) < 0.4).astype(float)
    y = (rng.random(100) < np.where(x == 1, 0.6, 0.1)).astype(float)
    assert week_permutation_p(x, y, weeks) < 0.001


def _sessions(n_weeks: int, seed: int, cause: str) -> tuple[dict, list, list]:
    """Five sessions a week; long runs are mostly hot; ``cause`` ("heat" or "duration") alone raises symptoms."""
    rng = np.random.default_rng(seed)
    heat, long, outcome, days = [], [], [], []
    for w in range(n_weeks):
        for k in range(5):
            is_long = k == 4 or (k == 2 and rng.random() < 0.3)
            is_hot = rng.random() < (0.75 if is_long else 0.2)
            risk = 0.55 if (is_hot if cause == "heat" else is_long) else 0.08
            heat.append(bool(is_hot))
            long.append(bool(is_long))
            outcome.append(bool(rng.random() < risk))
            days.append(date(2025, 1, 6) + timedelta(days=7 * w + k))
    return {"heat": heat, "duration_90": long}, outcome, days


@pytest.mark.parametrize("cause, other", [("heat", "duration_90"), ("duration", "heat")])
def test_adjustment_blames_the_cause_not_its_companion(cause: str, other: str) -> None:
    xs, y, days = _sessions(40, 11, cause)
    out = adjust_triggers(xs, y, days, ["heat", "duration_90"], {"duration_90": "duration"})
    key = "duration_90" if cause == "duration" else "heat"
    assert out[key].estimate is not None and out[key].estimate.method == "mantel-haenszel"
    assert out[key].word == "clear"
    assert out[other].word not in ("clear", "likely"), out[other]


def test_triggers_that_always_come_together_are_named_together() -> None:
    xs, y, days = _sessions(30, 4, "heat")
    xs["dehydration"] = list(xs["heat"])
    xs["dehydration"][0] = not xs["dehydration"][0]  # one session differs: no contrast to speak of
    out = adjust_triggers(xs, y, days, ["heat", "duration_90", "dehydration"], {})
    assert out["heat"].aliased_with == ("dehydration",) and out["dehydration"].aliased_with == ("heat",)
    assert "dehydration" not in (out["heat"].estimate.adjusted_for if out["heat"].estimate else ())


def test_nested_thresholds_merge_into_the_best_supported() -> None:
    est = Estimate(2.0, 1.2, 3.0, "crude", 50)
    results = {"duration_90": Adjusted(est, 0.04, 0.1, "likely"), "duration_120": Adjusted(est, 0.001, 0.01, "clear"),
               "heat": Adjusted(est, 0.5, 1.0, "no sign")}
    merged = merge_nested(results, {"duration_90": "duration", "duration_120": "duration"})
    assert merged["duration_120"].merged == ("duration_90",) and merged["duration_90"].merged_into == "duration_120"
    assert merged["heat"].merged == () and merged["heat"].merged_into is None


def test_words() -> None:
    strong = Estimate(3.0, 1.5, 6.0, "crude", 80)
    weak = Estimate(1.1, 0.7, 1.7, "crude", 80)
    assert evidence_word(0.01, 0.001, strong) == "clear"
    assert evidence_word(0.10, 0.01, strong) == "likely"
    assert evidence_word(0.60, 0.12, weak) == "unclear"
    assert evidence_word(0.90, 0.50, Estimate(1.8, 0.6, 5.0, "crude", 20)) == "unclear"
    assert evidence_word(1.0, 0.6, weak) == "no sign"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(6, 40), st.integers(1, 3))
def test_firth_is_finite_on_any_binary_data(seed: int, n: int, k: int) -> None:
    """Whatever the 0/1 data (separated, all events, no events), Firth's estimates exist and are finite."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, k)) < rng.uniform(0.1, 0.9)
    y = (rng.random(n) < rng.uniform(0, 1)).astype(float)
    design = np.column_stack([np.ones(n), x]).astype(float)
    fit = firth_logit(design, y)
    assert np.all(np.isfinite(fit.beta)) and np.all(np.isfinite(fit.cov))
