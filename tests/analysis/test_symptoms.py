"""n-of-1 symptom analysis: planted effects are found, null data stays within alpha, red flags always surface."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, fisher_exact
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

from gutstride.analysis.adjusted import LIKELY_P
from gutstride.analysis.symptoms import (
    PRIMARY_OUTCOME,
    TRIGGERS,
    entry_has_symptoms,
    exposures_from_sessions,
    fisher_exact_two_sided,
    holm_adjust,
    katz_rate_ratio,
    screen_red_flags,
    symptom_findings,
    symptom_trend,
    trigger_analysis,
)
from gutstride.model.log_entry import SYMPTOMS, LogEntry

START = date(2024, 1, 1)
#: The symptoms the simulated people score (the log's first six items, so the simulated data stay as they were).
SIMULATED = SYMPTOMS[:6]


def simulate(
    rng: np.random.Generator, n_sessions: int = 60, base: float = 0.2, heat_ratio: float = 1.0,
    nsaid_ratio: float = 1.0,
) -> tuple[pd.DataFrame, list[LogEntry]]:
    """Sessions every 1-2 days with random exposures, and one linked log entry per session.

    A session is symptomatic with probability ``base`` times ``heat_ratio`` in heat (avg temp >= 25 C) and times
    ``nsaid_ratio`` after an NSAID; symptomatic sessions get one random symptom scored 3-8, others 0-2.
    """
    rows, entries = [], []
    day = START
    for _ in range(n_sessions):
        day += timedelta(days=int(rng.integers(1, 3)))
        start = datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC)
        temp = float(rng.uniform(15, 35))
        nsaid = bool(rng.random() < 0.3)
        rows.append({
            "start_time": pd.Timestamp(start), "day": day, "share_above_70pct_hrmax": float(rng.uniform(0, 1)),
            "duration_s": float(rng.uniform(30, 150) * 60), "avg_temp_c": temp,
        })
        p = base * (heat_ratio if temp >= 25 else 1.0) * (nsaid_ratio if nsaid else 1.0)
        scores = {s: int(rng.integers(0, 3)) for s in SIMULATED}
        if rng.random() < p:
            scores[SIMULATED[int(rng.integers(0, len(SIMULATED)))]] = int(rng.integers(3, 9))
        entries.append(LogEntry(
            day=day, activity_start=start, nsaid=nsaid, sleep_hours=float(rng.normal(7, 1)),
            pre_meal_minutes_before=float(rng.uniform(30, 300)), pre_meal_fibre=str(rng.choice(["high", "low"])),
            fluids_l=float(rng.uniform(1.0, 3.0)), **scores,
        ))
    return pd.DataFrame(rows), entries


def primary(results: list) -> dict:
    return {r.trigger_id: r for r in results if r.outcome == PRIMARY_OUTCOME}


def test_planted_heat_effect_is_recovered() -> None:
    exposures, entries = simulate(np.random.default_rng(1), n_sessions=60, base=0.2, heat_ratio=3.0)
    results = primary(trigger_analysis(exposures, entries))
    heat = results["heat"]
    assert heat.status == "ok" and heat.significant and heat.rate_ratio > 1
    assert heat.n == 60 and heat.n_exposed + heat.n_unexposed == 60
    assert heat.n_tested == sum(r.status == "ok" for r in results.values()) == 9  # the simulated log fills 9
    # The table is right: recount by hand from the simulated data.
    hot = exposures["avg_temp_c"].to_numpy() >= 25
    sick = np.array([e.max_symptom() >= 3 for e in entries])
    assert heat.events_exposed == int((hot & sick).sum()) and heat.events_unexposed == int((~hot & sick).sum())
    findings = symptom_findings(trigger_analysis(exposures, entries), [], symptom_trend(entries, exposures))
    by_id = {f.id: f for f in findings}
    assert by_id["symptoms.trigger.heat"].direction == "above"
    assert by_id["symptoms.trigger.heat"].claim_id == "exercise-heat-gi-symptoms"
    assert by_id["symptoms.trigger.nsaid"].direction == "within"


def test_planted_effect_power_over_seeds() -> None:
    """With 120 sessions a tripled rate is found in most simulated people, and NSAIDs (no effect) rarely."""
    found = 0
    for seed in range(20):
        exposures, entries = simulate(np.random.default_rng(100 + seed), n_sessions=120, heat_ratio=3.0)
        found += primary(trigger_analysis(exposures, entries))["heat"].significant
    assert found >= 16


def test_null_data_false_positive_rate_within_alpha() -> None:
    """No planted effect, 200 simulated people: Holm keeps the family-wise error rate at or under alpha."""
    people, alpha = 200, 0.05
    any_primary = any_symptom = any_likely = 0
    for seed in range(people):
        exposures, entries = simulate(np.random.default_rng(seed), n_sessions=60, base=0.3)
        results = trigger_analysis(exposures, entries, alpha=alpha, permutations=300, seed=seed)
        any_primary += any(r.significant for r in results if r.outcome == PRIMARY_OUTCOME)
        any_symptom += any(r.significant for r in results if r.outcome != PRIMARY_OUTCOME)
        any_likely += any(r.word in ("clear", "likely") for r in results if r.outcome == PRIMARY_OUTCOME)
    # Monte-Carlo slack: the count that a true rate of alpha exceeds with probability < 0.001.
    limit = int(binom.ppf(0.999, people, alpha))
    assert any_primary <= limit
    assert any_symptom <= limit
    assert any_likely <= int(binom.ppf(0.999, people, LIKELY_P))


def test_not_enough_data_below_min_sessions() -> None:
    exposures, entries = simulate(np.random.default_rng(3), n_sessions=8)
    results = primary(trigger_analysis(exposures, entries, min_sessions=5))
    assert results["duration_120"].n_exposed < 5 or results["duration_120"].n_unexposed < 5
    untested = [r for r in results.values() if r.n_exposed < 5 or r.n_unexposed < 5]
    assert untested and all(r.status == "not enough data yet" and r.p_value is None for r in untested)
    findings = {f.id: f for f in symptom_findings(list(results.values()), [], symptom_trend(entries, exposures))}
    for r in untested:
        f = findings[f"symptoms.trigger.{r.trigger_id}"]
        assert f.direction == "not_enough_data" and "not enough data yet" in f.summary
        assert f.interval is None and f.value is None and f.n == r.n


def test_exposure_rules_and_day_entries() -> None:
    """Day entries feed every session of their day; a linked entry overrides; unknown exposures are left out."""
    day = date(2024, 3, 1)
    t0 = datetime(2024, 3, 1, 7, tzinfo=UTC)
    exposures = pd.DataFrame([
        {"start_time": pd.Timestamp(t0), "day": day, "share_above_70pct_hrmax": 0.6, "duration_s": 5500.0,
         "avg_temp_c": np.nan},
        {"start_time": pd.Timestamp(t0 + timedelta(hours=10)), "day": day, "share_above_70pct_hrmax": np.nan,
         "duration_s": 7300.0, "avg_temp_c": 26.0, "dehydrated": True},
    ])
    entries = [
        LogEntry(day=day, sleep_hours=5.5, fluids_l=2.0, cramps=4),
        # linked to the evening session (5 minutes off the recorded start) with its own symptom scores
        LogEntry(day=day, activity_start=t0 + timedelta(hours=10, minutes=5), nausea=1, pre_meal_minutes_before=60),
    ]
    results = primary(trigger_analysis(exposures, entries, min_sessions=1))
    got = {k: (r.n_exposed, r.n_unexposed, r.events_exposed, r.events_unexposed) for k, r in results.items()}
    assert got["intensity"] == (1, 0, 1, 0)  # evening share unknown: left out
    assert got["duration_90"] == (2, 0, 1, 0)
    assert got["duration_120"] == (1, 1, 0, 1)
    assert got["heat"] == (1, 0, 0, 0)
    assert got["meal_within_2h"] == (1, 0, 0, 0)
    assert got["poor_sleep"] == (2, 0, 1, 0)
    assert got["dehydration"] == (1, 1, 0, 1)  # fluids 2 L, but the evening session is flagged
    assert got["nsaid"] == (0, 2, 0, 1)


def test_training_sessions_table_names_are_accepted() -> None:
    exposures, entries = simulate(np.random.default_rng(1), n_sessions=60, base=0.2, heat_ratio=3.0)
    renamed = exposures.rename(columns={"day": "local_date", "share_above_70pct_hrmax": "share_above_70"})
    assert trigger_analysis(renamed, entries) == trigger_analysis(exposures, entries)
    assert trigger_analysis(exposures.drop(columns="day"), entries) == trigger_analysis(exposures, entries)
    pd.testing.assert_frame_equal(symptom_trend(entries, renamed), symptom_trend(entries, exposures))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.integers(1, 30), st.integers(0, 30), st.integers(1, 30))
def test_katz_interval_matches_statsmodels(a: int, n1: int, c: int, n0: int) -> None:
    a, c = min(a, n1), min(c, n0)
    table = np.array([[a, n1 - a], [c, n0 - c]], dtype=float)
    if table.min() == 0:
        table += 0.5  # Haldane-Anscombe: 0.5 added to every cell (statsmodels shifts only the zero cells)
    reference = Table2x2(table, shift_zeros=False)
    ratio, low, high, corrected = katz_rate_ratio(a, n1, c, n0)
    assert corrected == (min(a, n1 - a, c, n0 - c) == 0)
    assert ratio == pytest.approx(reference.riskratio)
    assert (low, high) == pytest.approx(tuple(reference.riskratio_confint(alpha=0.05)))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_fisher_matches_scipy(a: int, n1: int, c: int, n0: int) -> None:
    a, c = min(a, n1), min(c, n0)
    expected = fisher_exact([[a, n1 - a], [c, n0 - c]]).pvalue
    assert fisher_exact_two_sided(a, n1, c, n0) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_holm_matches_statsmodels(p_values: list[float]) -> None:
    expected = multipletests(p_values, alpha=0.05, method="holm")[1]
    assert holm_adjust(p_values) == pytest.approx(list(expected))


def test_katz_hand_checked() -> None:
    # 10/20 vs 5/20: RR 2, se = sqrt(1/10 - 1/20 + 1/5 - 1/20) = sqrt(0.2)
    ratio, low, high, _ = katz_rate_ratio(10, 20, 5, 20)
    assert ratio == pytest.approx(2.0)
    assert low == pytest.approx(2 * np.exp(-1.959964 * np.sqrt(0.2)), rel=1e-5)
    assert high == pytest.approx(2 * np.exp(1.959964 * np.sqrt(0.2)), rel=1e-5)


def test_fisher_p_value_hand_checked() -> None:
    """Fisher's tea-tasting table [[3, 1], [1, 3]] has two-sided p = 34/70 = 0.486."""
    t0 = datetime(2024, 1, 1, 7, tzinfo=UTC)
    rows, entries = [], []
    for i, (hot, sick) in enumerate([(1, 1)] * 3 + [(1, 0)] + [(0, 1)] + [(0, 0)] * 3):
        start = t0 + timedelta(days=i)
        rows.append({"start_time": pd.Timestamp(start), "day": start.date(), "share_above_70pct_hrmax": 0.1,
                     "duration_s": 3600.0, "avg_temp_c": 30.0 if hot else 10.0})
        entries.append(LogEntry(day=start.date(), activity_start=start, bloating=5 if sick else 0))
    heat = primary(trigger_analysis(pd.DataFrame(rows), entries, min_sessions=4))["heat"]
    assert heat.p_value == pytest.approx(34 / 70)
    assert heat.rate_ratio == pytest.approx(3.0)


def _bowel_log(days_normal: int, days_changed: int, bristol_changed: int) -> list[LogEntry]:
    out = []
    for i in range(days_normal + days_changed):
        out.append(LogEntry(day=START + timedelta(days=i), bristol=4 if i < days_normal else bristol_changed,
                            stool_frequency=1))
    return out


def test_bowel_habit_change_rule() -> None:
    flags = screen_red_flags(_bowel_log(28, 21, 6))
    assert [f.id for f in flags] == ["red_flag.bowel_habit_change"]
    assert flags[0].period_start == START + timedelta(days=28)
    assert flags[0].period_end == START + timedelta(days=48)
    assert flags[0].claim_id == "red-flags-see-a-doctor"
    assert screen_red_flags(_bowel_log(28, 14, 6)) == []  # two weeks is not sustained
    assert screen_red_flags(_bowel_log(28, 21, 5)) == []  # a shift of 1 is within normal variation
    assert screen_red_flags(_bowel_log(7, 21, 7)) == []  # no baseline yet
    frequent = _bowel_log(28, 21, 4)
    for e in frequent[28:]:
        e.stool_frequency = 4
    assert [f.id for f in screen_red_flags(frequent)] == ["red_flag.bowel_habit_change"]


def test_bleeding_flags_with_dates() -> None:
    t = datetime(2024, 2, 3, 7, tzinfo=UTC)
    entries = [
        LogEntry(day=date(2024, 2, 1), blood_in_stool=True),
        LogEntry(day=date(2024, 2, 3), activity_start=t, cramps=6),
        LogEntry(day=date(2024, 2, 3), blood_in_stool=True, black_stool=True),
    ]
    flags = {f.id: f for f in screen_red_flags(entries)}
    assert set(flags) == {"red_flag.blood_in_stool", "red_flag.black_stool", "red_flag.gi_bleeding_during_exercise"}
    assert flags["red_flag.blood_in_stool"].detail["dates"] == ["2024-02-01", "2024-02-03"]
    assert flags["red_flag.gi_bleeding_during_exercise"].detail["dates"] == ["2024-02-03"]
    assert all(f.domain == "red_flag" and f.claim_id == "red-flags-see-a-doctor" for f in flags.values())


_EXPOSURES, _SIM = simulate(np.random.default_rng(0), n_sessions=30, heat_ratio=4.0)
_RESULTS = trigger_analysis(_EXPOSURES, _SIM)
_TREND = symptom_trend(_SIM, _EXPOSURES)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 90), st.booleans(), st.booleans(), st.integers(0, 10)), min_size=1,
                max_size=40))
def test_red_flags_always_surface_first(rows: list[tuple[int, bool, bool, int]]) -> None:
    entries = {}
    for offset, blood, black, score in rows:
        entries[offset] = LogEntry(day=START + timedelta(days=offset), blood_in_stool=blood, black_stool=black,
                                   cramps=score)
    log = list(entries.values())
    flags = screen_red_flags(log)
    ids = {f.id for f in flags}
    assert ("red_flag.blood_in_stool" in ids) == any(e.blood_in_stool for e in log)
    assert ("red_flag.black_stool" in ids) == any(e.black_stool for e in log)
    findings = symptom_findings(_RESULTS, flags, _TREND)
    domains = [f.domain for f in findings]
    assert domains[: len(flags)] == ["red_flag"] * len(flags) and "red_flag" not in domains[len(flags):]


def test_trend_by_four_week_period() -> None:
    entries = [LogEntry(day=START + timedelta(days=i), cramps=5 if i % 4 == 0 else 1) for i in range(56)]
    sessions = pd.DataFrame([
        {"start_time": pd.Timestamp(datetime(2024, 1, 2, 7, tzinfo=UTC)), "day": date(2024, 1, 2),
         "share_above_70pct_hrmax": 0.2, "duration_s": 3600.0, "avg_temp_c": 10.0},
        {"start_time": pd.Timestamp(datetime(2024, 1, 3, 7, tzinfo=UTC)), "day": date(2024, 1, 3),
         "share_above_70pct_hrmax": 0.8, "duration_s": 7200.0, "avg_temp_c": 10.0},
        {"start_time": pd.Timestamp(datetime(2024, 2, 1, 7, tzinfo=UTC)), "day": date(2024, 2, 1),
         "share_above_70pct_hrmax": np.nan, "duration_s": 3600.0, "avg_temp_c": 10.0},
    ])
    trend = symptom_trend(entries, sessions)
    assert list(trend["period_start"]) == [START, START + timedelta(days=28)]
    assert list(trend["days_logged"]) == [28, 28] and list(trend["symptom_days"]) == [7, 7]
    assert list(trend["sessions"]) == [2, 1] and list(trend["long_sessions"]) == [1, 0]
    assert trend["intensity_share"][0] == pytest.approx((0.2 * 3600 + 0.8 * 7200) / 10800)
    assert np.isnan(trend["intensity_share"][1])
    rate = {f.id: f for f in symptom_findings([], [], trend)}["symptoms.rate"]
    assert rate.value == pytest.approx(0.25) and rate.n == 56 and rate.direction == "present"
    assert rate.interval is not None and rate.interval[0] < 0.25 < rate.interval[1]
    empty = symptom_trend([], sessions.iloc[:0])
    assert len(empty) == 0
    assert {f.id: f for f in symptom_findings([], [], empty)}["symptoms.rate"].direction == "not_enough_data"


def test_exposures_from_training_sessions_and_report_rows() -> None:
    t0 = pd.Timestamp(datetime(2024, 4, 1, 6, tzinfo=UTC))
    sessions = pd.DataFrame({
        "activity_id": [1, 2], "start_time": [t0, t0 + pd.Timedelta(days=1)],
        "local_date": [date(2024, 4, 1), date(2024, 4, 2)], "sport": ["running", "cycling"],
        "duration_s": [3600.0, 8000.0], "share_above_70": [0.7, np.nan], "avg_temp_c": [np.nan, 12.0],
        "trimp_banister": [50.0, 80.0],
    })
    activities = pd.DataFrame({"id": [2, 1], "avg_temp_c": [30.0, 27.5]})
    exposures = exposures_from_sessions(sessions, activities)
    assert list(exposures.columns) == ["activity_id", "start_time", "day", "sport", "share_above_70pct_hrmax",
                                       "duration_s", "avg_temp_c"]
    assert list(exposures["avg_temp_c"]) == [27.5, 12.0]  # only the missing temperature is filled
    assert list(exposures["day"]) == [date(2024, 4, 1), date(2024, 4, 2)]
    entries = [LogEntry(day=date(2024, 4, 1), cramps=3), LogEntry(day=date(2024, 4, 2), cramps=2)]
    assert [entry_has_symptoms(e) for e in entries] == [True, False]
    assert entry_has_symptoms(LogEntry(day=date(2024, 4, 3), bristol=4)) is None
    results = trigger_analysis(exposures, entries, min_sessions=1)
    heat = primary(results)["heat"]
    assert (heat.n_exposed, heat.events_exposed, heat.n_unexposed, heat.events_unexposed) == (1, 1, 1, 0)
    row = heat.to_report_row()
    assert row["with_text"] == "1/1 (100%)" and row["without_text"] == "0/1 (0%)"
    assert row["reading"] == "no sign of an effect" and row["word"] == "no sign"
    assert row["crude_p_fisher"] == pytest.approx(1.0) and row["test"] == "week-blocked permutation"
    assert "Holm-adjusted over the" in heat.method_note
    untested = primary(trigger_analysis(exposures, entries, min_sessions=5))["heat"].to_report_row()
    assert untested["reading"] == "not enough data yet" and untested["p_text"] == "-"


def test_claim_ids_exist_in_the_evidence_base() -> None:
    from gutstride.analysis.symptoms import RED_FLAG_CLAIM
    from gutstride.evidence.engine import default_knowledge_base

    claims = default_knowledge_base().claims
    for claim_id in {t.claim_id for t in TRIGGERS if t.claim_id} | {RED_FLAG_CLAIM}:
        assert claim_id in claims, claim_id


def test_a_blank_red_flag_field_is_not_screened_never_no() -> None:
    from gutstride.analysis.symptoms import red_flag_screening
    from gutstride.model.log_entry import RED_FLAG_CHECKLIST

    day = date(2026, 10, 1)
    blank = red_flag_screening([LogEntry(day=day, nausea=2)])
    assert [s["field"] for s in blank] == [name for name, _ in RED_FLAG_CHECKLIST]
    assert {s["status"] for s in blank} == {"not screened"}
    assert {s["text"] for s in blank} == {"not screened: never recorded"}
    answered = red_flag_screening([LogEntry(day=day, black_stool=False),
                                   LogEntry(day=date(2026, 10, 8), black_stool=False, anaemia=True)])
    by_field = {s["field"]: s for s in answered}
    assert by_field["black_stool"]["status"] == "negative" and by_field["black_stool"]["last_answered"] == "2026-10-08"
    assert by_field["anaemia"]["status"] == "positive" and by_field["anaemia"]["positive_days"] == ["2026-10-08"]
    assert by_field["persistent_vomiting"]["status"] == "not screened"


def test_every_positive_checklist_answer_is_a_red_flag() -> None:
    from gutstride.model.log_entry import RED_FLAG_CHECKLIST

    for name, _question in RED_FLAG_CHECKLIST:
        flags = screen_red_flags([LogEntry(day=date(2026, 10, 1), **{name: True})])
        assert flags and all(f.domain == "red_flag" and f.direction == "present" for f in flags), name
        assert screen_red_flags([LogEntry(day=date(2026, 10, 1), **{name: False})]) == [], name


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), share=st.floats(0, 1), confidence=st.sampled_from([0.9, 0.95, 0.99]))
def test_clopper_pearson_equals_scipy_binomtest(n: int, share: float, confidence: float) -> None:
    from scipy.stats import binomtest

    from gutstride.analysis.proportions import clopper_pearson

    k = round(share * n)
    reference = binomtest(k, n).proportion_ci(confidence, method="exact")
    low, high = clopper_pearson(k, n, confidence)
    assert low == pytest.approx(reference.low, abs=1e-12) and high == pytest.approx(reference.high, abs=1e-12)
