"""Training findings and the whole analysis, on planted histories with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from gutstride.analysis.training import Profile, analyse_training

TODAY = date(2024, 6, 30)  # a Sunday
CLAIMS = {
    "training.share_above_70pct_hrmax": "intensity-70pct-hrmax",
    "training.moderate_sessions_per_week": "moderate-cardio-30-45min-2x-week",
    "training.rest_days_per_week": "rest-and-recovery",
    "training.prolonged_strenuous_sessions": "prolonged-strenuous-exercise-gi-injury",
    "training.sport_variety": "endurance-plus-strength-diversity",
    "training.detraining_gap": "training-effects-reverse-on-stopping",
    "training.heat_sessions": "exercise-heat-gi-symptoms",
    "training.load_spike": "rest-and-recovery",
    "data.hr_coverage": None,
}


def history(plan: list[tuple[date, str, float, float | None, float | None]]) -> tuple[pd.DataFrame, dict]:
    """Activities and 5-s streams from (day, sport, minutes, hr or None, temperature)."""
    rows, streams = [], {}
    for i, (day, sport, minutes, hr, temp) in enumerate(plan, start=1):
        start = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=6)
        rows.append({"id": i, "sport": sport, "sub_sport": None, "start_time": start, "local_offset_s": 3600,
                     "duration_s": minutes * 60, "moving_time_s": minutes * 60, "distance_m": None,
                     "avg_hr": hr, "max_hr": hr, "avg_temp_c": temp, "perceived_exertion": None,
                     "n_hr": 0 if hr is None else 1})
        if hr is not None:
            t = start.timestamp() + np.arange(0.0, minutes * 60 + 1, 5.0)
            streams[i] = {"time": t, "hr": np.full(t.shape, hr)}
    return pd.DataFrame(rows), streams


def by_id(findings: list) -> dict:
    return {f.id: f for f in findings}


def test_planted_12_weeks() -> None:
    # 12 weeks ending TODAY: every Mon/Wed 40 min at 120 bpm (60% of 200 = moderate), every Sat 150 min at 160 bpm
    # (80%: prolonged and strenuous, and hot), every Thu 30 min strength at 110 bpm. Rest: Tue, Fri, Sun.
    plan = []
    first_monday = TODAY - timedelta(days=TODAY.weekday() + 7 * 11)
    for w in range(12):
        mon = first_monday + timedelta(days=7 * w)
        plan += [(mon, "running", 40, 120.0, 20.0), (mon + timedelta(days=2), "running", 40, 120.0, 20.0),
                 (mon + timedelta(days=3), "strength", 30, 110.0, None),
                 (mon + timedelta(days=5), "cycling", 150, 160.0, 31.0)]
    acts, streams = history(plan)
    out = analyse_training(acts, streams, Profile(hrmax=200.0, birth_year=1990), TODAY)
    f = by_id(out.findings)
    assert {k: v.claim_id for k, v in f.items()} == CLAIMS
    assert out.hrmax.method == "measured-test"
    assert len(out.sessions) == 48
    minutes_hr = 12 * (80 + 30 + 150)
    above = 12 * 150  # only the Saturday ride is >= 70%
    assert f["training.share_above_70pct_hrmax"].value == pytest.approx(100 * above / minutes_hr, abs=0.1)
    assert f["training.share_above_70pct_hrmax"].direction == "above"  # 69% of HR time above 70%
    assert f["training.moderate_sessions_per_week"].value == pytest.approx(2.0)
    assert f["training.moderate_sessions_per_week"].direction == "above"
    assert f["training.rest_days_per_week"].value == pytest.approx(3.0)
    assert f["training.prolonged_strenuous_sessions"].value == 12
    assert f["training.prolonged_strenuous_sessions"].direction == "present"
    assert f["training.sport_variety"].direction == "present"
    assert f["training.heat_sessions"].value == 12 and f["training.heat_sessions"].detail["n_hot"] == 12
    assert f["training.heat_sessions"].n == 36  # strength sessions have no temperature
    assert f["training.detraining_gap"].value == 1  # never more than 1 day (Tue, Fri, Sun) without
    assert f["training.detraining_gap"].direction == "below"
    assert f["data.hr_coverage"].value == pytest.approx(100.0, abs=0.2)
    assert f["training.share_above_70pct_hrmax"].period_end == TODAY
    assert f["training.share_above_70pct_hrmax"].period_start == TODAY - timedelta(days=83)
    assert all(f[k].n == 48 for k in ("training.moderate_sessions_per_week", "training.rest_days_per_week"))
    assert len(out.weekly) == 12 and (out.weekly["sessions"] == 4).all()
    assert out.weekly["moderate_sessions"].tolist() == [2] * 12


def test_few_sessions_are_not_enough_data_and_a_stop_is_a_gap() -> None:
    plan = [(TODAY - timedelta(days=d), "running", 40, 120.0, None) for d in (60, 62, 64)]
    acts, streams = history(plan)
    out = analyse_training(acts, streams, Profile(birth_year=1984), TODAY)
    f = by_id(out.findings)
    assert out.hrmax.method == "estimated-tanaka" and out.hrmax.value == pytest.approx(208 - 0.7 * 40)
    for key in CLAIMS:
        assert f[key].direction == "not_enough_data", key
    assert f["training.detraining_gap"].value == 60  # no session in the 60 days after the last one


def test_load_spike_and_detraining_after_a_stop() -> None:
    # 10 weeks of 30-min runs every other day, 5 weeks off, then one week of daily 90-min hard runs.
    start = TODAY - timedelta(days=7 * 16 - 1)
    plan = [(start + timedelta(days=d), "running", 30, 140.0, None) for d in range(0, 70, 2)]
    plan += [(TODAY - timedelta(days=d), "running", 90, 175.0, None) for d in range(7)]
    acts, streams = history(plan)
    out = analyse_training(acts, streams, Profile(hrmax=200.0), TODAY)
    f = by_id(out.findings)
    assert f["training.load_spike"].direction == "above" and f["training.load_spike"].value > 1.5
    assert f["training.detraining_gap"].value >= 35 and f["training.detraining_gap"].direction == "above"
    assert len(out.consistency["detraining"]) == 1


def test_sessions_without_streams_are_classified_and_counted() -> None:
    plan = [(TODAY - timedelta(days=d), "running", 40, None, None) for d in range(0, 30, 3)]
    acts, streams = history(plan)
    out = analyse_training(acts, streams, Profile(), TODAY, sample_dates=[TODAY - timedelta(days=5)])
    assert set(out.sessions["classified_from"]) == {"duration"}
    assert out.hrmax.method == "unknown"
    f = by_id(out.findings)
    assert f["data.hr_coverage"].value == 0 and f["data.hr_coverage"].direction == "below"
    assert f["training.share_above_70pct_hrmax"].value is None
    assert out.around_samples[0]["before"]["n_sessions"] == 8


def test_empty_history() -> None:
    acts = pd.DataFrame(columns=["id", "sport", "start_time", "duration_s"])
    out = analyse_training(acts, {}, Profile(), TODAY)
    assert out.sessions.empty and len(out.findings) == len(CLAIMS)
    assert all(x.direction == "not_enough_data" for x in out.findings)
