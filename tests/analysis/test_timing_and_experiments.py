"""Symptom timing (only during and within 2 h after count), new log fields as triggers, the ranking, and n-of-1
experiments: suggested when the data cannot settle a trigger, tracked while running, a result with its uncertainty
when finished."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from gutstride.analysis.experiments import PLANNED_WEEKS, experiment_results, suggest_experiments
from gutstride.analysis.symptoms import (
    PRIMARY_OUTCOME,
    analyse_triggers,
    katz_rate_ratio,
    rank_score,
    symptom_findings,
    symptom_trend,
)
from gutstride.model.log_entry import LogEntry

MONDAY = date(2026, 1, 5)


def sessions(n: int, per_week: int = 4) -> pd.DataFrame:
    rows = []
    for i in range(n):
        day = MONDAY + timedelta(weeks=i // per_week, days=i % per_week)
        rows.append({"start_time": pd.Timestamp(datetime(day.year, day.month, day.day, 7, tzinfo=UTC)), "day": day,
                     "share_above_70pct_hrmax": 0.2, "duration_s": 3600.0, "avg_temp_c": 15.0})
    return pd.DataFrame(rows)


def linked(row: pd.Series, **fields: object) -> LogEntry:
    return LogEntry(day=row["day"], activity_start=row["start_time"].to_pydatetime(), **fields)  # type: ignore[arg-type]


def test_only_symptoms_during_or_within_2h_after_count_and_the_rule_is_counted() -> None:
    table = sessions(4)
    entries = [
        linked(table.iloc[0], cramps=6, symptom_timing="during"),
        linked(table.iloc[1], cramps=6, symptom_timing="within_2h"),
        linked(table.iloc[2], cramps=6, symptom_timing="before"),  # came before the run: not the run's
        LogEntry(day=table.iloc[3]["day"], cramps=6, symptom_timing="next_day"),
    ]
    analysis = analyse_triggers(table, entries, min_sessions=1, permutations=10)
    gi = {r.trigger_id: r for r in analysis.results if r.outcome == PRIMARY_OUTCOME}["intensity"]
    assert gi.n_unexposed == 4 and gi.events_unexposed == 2
    assert analysis.timing_rules == {"timing": 4, "same_day": 0}
    without_timing = [linked(table.iloc[i], cramps=6) for i in range(3)]
    same_day = analyse_triggers(table, without_timing, min_sessions=1, permutations=10)
    assert same_day.timing_rules == {"timing": 0, "same_day": 3}


def test_new_log_fields_become_triggers_once_there_is_enough_data() -> None:
    table = sessions(40)
    rng = np.random.default_rng(0)
    entries = []
    for i, row in table.iterrows():
        caffeine = 150.0 if i % 3 == 0 else 0.0
        logged = i < 30  # FODMAP load only logged on 30 sessions, high on 4 of them: too few
        sick = rng.random() < (0.7 if caffeine else 0.1)
        entries.append(linked(row, caffeine_before_mg=caffeine, cramps=5 if sick else 0, belching=0,
                              fodmap_load=("high" if i < 4 else "low") if logged else None))
    results = {r.trigger_id: r for r in analyse_triggers(table, entries, permutations=200).results
               if r.outcome == PRIMARY_OUTCOME}
    assert results["caffeine_before"].status == "ok" and results["caffeine_before"].n_exposed == 14
    assert results["high_fodmap"].status == "not enough data yet" and results["high_fodmap"].n == 30
    assert results["menstrual"].n == 0  # never logged
    lower = [r for r in analyse_triggers(table, entries, permutations=20).results
             if r.outcome == "lower_gi" and r.trigger_id == "caffeine_before"]
    upper = [r for r in analyse_triggers(table, entries, permutations=20).results
             if r.outcome == "upper_gi" and r.trigger_id == "caffeine_before"]
    assert lower[0].events_exposed > 0 and upper[0].events_exposed == 0  # cramps are lower GI, kept apart


def test_ranking_uses_the_persons_own_effect_and_never_the_literature() -> None:
    """A strong finding with no graded claim outranks a weaker one with a moderate-certainty claim."""
    table = sessions(80)
    rng = np.random.default_rng(1)
    entries = []
    for i, row in table.iterrows():
        caffeine, hot = i % 2 == 0, i % 3 == 0
        table.loc[i, "avg_temp_c"] = 30.0 if hot else 15.0
        p = 0.05 + (0.6 if caffeine else 0) + (0.15 if hot else 0)
        entries.append(linked(row, caffeine_before_mg=200.0 if caffeine else 0.0, cramps=int(rng.random() < p) * 5))
    analysis = analyse_triggers(table, entries, permutations=500)
    findings = symptom_findings(analysis.results, [], symptom_trend(entries, table))
    ranked = [f for f in findings if f.id.startswith("symptoms.trigger.")]
    assert ranked[0].id == "symptoms.trigger.caffeine_before" and ranked[0].claim_id is None
    assert ranked[0].detail["rank"] == 1
    assert [f.detail["rank_score"] for f in ranked] == sorted((f.detail["rank_score"] for f in ranked), reverse=True)


def test_recency_breaks_ties_between_equal_findings() -> None:
    table = sessions(40)
    entries = [linked(row, cramps=5 if i % 2 == 0 else 0, caffeine_before_mg=200.0 if i % 2 == 0 else 0.0)
               for i, row in table.iterrows()]
    (result,) = [r for r in analyse_triggers(table, entries, permutations=200).results
                 if r.outcome == PRIMARY_OUTCOME and r.trigger_id == "caffeine_before"]
    assert result.last_exposed is not None
    assert rank_score(result, result.last_exposed) > rank_score(result, result.last_exposed + timedelta(days=365))


def trigger_finding(trigger: str, word: str, aliased: list[str] | None = None, adjusted_for: list[str] | None = None,
                    crude: tuple[float, float, float] = (2.0, 1.2, 3.3)) -> object:
    from gutstride.model.finding import Finding

    return Finding(id=f"symptoms.trigger.{trigger}", domain="symptoms", summary=f"{word}: numbers; week-blocked p",
                   direction="within", n=100, value=crude[0],
                   detail={"word": word, "label": trigger, "aliased_with": aliased or [],
                           "adjusted": {"adjusted_for": adjusted_for or []},
                           "crude": {"ratio": crude[0], "interval": [crude[1], crude[2]]}})


def test_experiments_are_suggested_for_likely_unclear_and_confounded_triggers() -> None:
    findings = [trigger_finding("meal_within_2h", "likely"), trigger_finding("high_fibre_meal", "no sign"),
                trigger_finding("heat", "unclear", adjusted_for=["duration_90"], crude=(4.0, 2.5, 6.4)),
                trigger_finding("duration_90", "unclear", adjusted_for=["heat"], crude=(2.9, 1.7, 4.9)),
                trigger_finding("nsaid", "likely")]
    suggested = suggest_experiments(findings)  # type: ignore[arg-type]
    ids = [s.id for s in suggested]
    assert ids[0] == "duration_90" and "cooler hours" not in suggested[0].design
    assert "coolest hours" in suggested[0].design and "heat" in suggested[0].title
    assert "meal_within_2h" in ids and "high_fibre_meal" not in ids and "nsaid" not in ids
    assert all(f"{PLANNED_WEEKS} weeks" in s.design and "experiment_arm" in s.design for s in suggested)
    assert "duration_90" not in [s.id for s in suggest_experiments(findings, done=["duration_90"])]  # type: ignore[arg-type]
    weak = [trigger_finding("heat", "unclear", adjusted_for=["stress"], crude=(4.0, 2.5, 6.4)),
            trigger_finding("stress", "unclear", adjusted_for=["heat"], crude=(1.2, 0.6, 2.4))]
    assert [s.title for s in suggest_experiments(weak)] == ["Do sessions heat matter?"]  # type: ignore[arg-type]


def experiment_log(weeks: int, with_p: float, without_p: float, seed: int = 0) -> tuple[pd.DataFrame, list[LogEntry]]:
    rng = np.random.default_rng(seed)
    table = sessions(4 * weeks)
    entries = []
    for i, row in table.iterrows():
        arm = "with" if (i // 4) % 2 == 0 else "without"
        sick = rng.random() < (with_p if arm == "with" else without_p)
        entries.append(linked(row, experiment="meal_within_2h", experiment_arm=arm, cramps=5 if sick else 0,
                              symptom_timing="within_2h"))
    return table, entries


def test_a_running_experiment_shows_progress_and_no_conclusion() -> None:
    table, entries = experiment_log(3, 0.6, 0.1)
    today = table["day"].max() + timedelta(days=2)
    (result,) = experiment_results(table, entries, today)
    assert result.status == "running" and result.ratio is None and result.p_value is None
    assert result.weeks_with == 2 and result.weeks_without == 1
    assert "3 of 8 weeks" in result.summary and "No conclusion" in result.summary


def test_a_finished_experiment_shows_its_result_with_uncertainty() -> None:
    table, entries = experiment_log(8, 0.6, 0.1, seed=2)
    (result,) = experiment_results(table, entries, table["day"].max() + timedelta(days=1))
    assert result.status == "finished" and result.weeks_with == result.weeks_without == 4
    a, n1, c, n0 = result.events_with, result.sessions_with, result.events_without, result.sessions_without
    ratio, low, high, _ = katz_rate_ratio(a, n1, c, n0)
    assert result.ratio == pytest.approx(ratio) and result.interval == pytest.approx((low, high))
    # the exact randomisation test over the C(8, 4) = 70 ways to label the weeks, recomputed by hand
    weekly = [(sum(e.cramps >= 3 for e in entries[4 * w:4 * w + 4]), 4) for w in range(8)]
    observed = abs(sum(weekly[w][0] for w in range(0, 8, 2)) / 16 - sum(weekly[w][0] for w in range(1, 8, 2)) / 16)
    null = [abs(sum(weekly[w][0] for w in chosen) / 16 - sum(weekly[w][0] for w in range(8) if w not in chosen) / 16)
            for chosen in combinations(range(8), 4)]
    assert result.p_value == pytest.approx(np.mean([v >= observed - 1e-12 for v in null]))
    assert result.p_method == "exact over 70 week relabellings"
    assert result.p_value <= fisher_exact([[a, n1 - a], [c, n0 - c]])[1] * 20  # same order as Fisher's, by weeks
    assert "risk ratio with/without" in result.summary and "95% CI" in result.summary


def test_an_abandoned_experiment_is_reported_as_stopped() -> None:
    table, entries = experiment_log(6, 0.5, 0.2)
    (result,) = experiment_results(table, entries, table["day"].max() + timedelta(days=30))
    assert result.status == "stopped" and result.ratio is not None
    assert result.summary.startswith("Stopped early")


def test_rest_day_symptoms_against_training_days() -> None:
    from scipy.stats import fisher_exact as scipy_fisher

    from gutstride.analysis.symptoms import rest_day_finding

    table = sessions(20, per_week=3)  # Monday-Wednesday sessions; Thursday-Sunday rest
    entries = []
    for w in range(7):
        for d in range(7):
            day = MONDAY + timedelta(weeks=w, days=d)
            entries.append(LogEntry(day=day, cramps=5 if (d < 3 and w % 2 == 0) or (d == 5 and w == 1) else 0))
    finding = rest_day_finding(entries, table)
    training = {d for d in table["day"]}
    n1 = sum(e.day in training for e in entries)
    a = sum(e.day in training and e.cramps >= 3 for e in entries)
    n0, c = len(entries) - n1, sum(e.day not in training and e.cramps >= 3 for e in entries)
    assert finding.detail["p_fisher"] == pytest.approx(scipy_fisher([[a, n1 - a], [c, n0 - c]])[1])
    assert finding.value == pytest.approx(katz_rate_ratio(a, n1, c, n0)[0]) and finding.direction == "above"
    few = rest_day_finding(entries[:3], table)
    assert few.direction == "not_enough_data" and "not enough data yet" in few.summary


def test_upper_and_lower_subscales_are_counted_apart() -> None:
    from gutstride.analysis.symptoms import subscale_counts

    table = sessions(4)
    entries = [linked(table.iloc[0], nausea=5, cramps=0), linked(table.iloc[1], cramps=6),
               linked(table.iloc[2], belching=4, flatulence=1), linked(table.iloc[3], bloating=2)]
    counts = {c["outcome"]: c for c in subscale_counts(table, entries)}
    assert (counts["upper_gi"]["sessions"], counts["upper_gi"]["symptomatic"]) == (2, 2)
    assert (counts["lower_gi"]["sessions"], counts["lower_gi"]["symptomatic"]) == (4, 1)


def test_the_session_records_of_the_trigger_analysis_serve_the_subscales_and_experiments() -> None:
    from gutstride.analysis.symptoms import session_records, subscale_counts

    table, entries = experiment_log(8, 0.6, 0.1, seed=2)
    analysis = analyse_triggers(table, entries, min_sessions=1, permutations=10)
    assert analysis.sessions == session_records(table, entries)
    today = table["day"].max() + timedelta(days=1)
    assert subscale_counts(table, entries, analysis.sessions) == subscale_counts(table, entries)
    assert experiment_results(table, entries, today, analysis.sessions) == experiment_results(table, entries, today)
    # the records given are the ones read: without symptoms on them there is nothing symptomatic
    calm = [{**s, "cramps": 0} for s in analysis.sessions]
    assert sum(c["symptomatic"] for c in subscale_counts(table, entries, calm)) == 0
    (result,) = experiment_results(table, entries, today, calm)
    assert result.events_with == result.events_without == 0
