"""Weeks, load, consistency and the window around a microbiome sample, on planted training histories."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.analysis.training import (
    analyse_session,
    around_sample,
    consistency,
    daily_load,
    load_series,
    sessions_frame,
    weekly_summary,
)
from gutstride.analysis.training.sessions import SessionMetrics

HRMAX = 200.0


def session(day: date, minutes: float, hr: float, sport: str = "running", ident: int = 0) -> SessionMetrics:
    """A session at constant ``hr`` sampled every 5 s, starting 07:00 UTC on ``day``."""
    t0 = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=7)
    t = t0.timestamp() + np.arange(0.0, minutes * 60 + 1, 5.0)
    return analyse_session({"time": t, "hr": np.full(t.shape, hr)},
                           {"id": ident, "sport": sport, "start_time": t0, "local_offset_s": 0,
                            "moving_time_s": minutes * 60}, HRMAX)


def frame(days: list[date], minutes: float = 40, hr: float = 120.0) -> pd.DataFrame:
    return sessions_frame([session(d, minutes, hr, ident=i) for i, d in enumerate(days)])


def test_ewma_hand_computed_first_days() -> None:
    days = pd.date_range("2024-01-01", periods=3)
    out = load_series(pd.Series([10.0, 0.0, 40.0], index=days))
    la, lc = 2 / 8, 2 / 29
    assert out["acute"].tolist() == pytest.approx([10, 10 * (1 - la), 40 * la + 10 * (1 - la) ** 2])
    assert out["chronic"].iloc[1] == pytest.approx(10 * (1 - lc))
    assert out["acwr"].isna().all()  # warm-up: first 28 days


@settings(max_examples=30, deadline=None)
@given(st.floats(1.0, 500.0), st.floats(0.0, 1000.0), st.integers(1, 30))
def test_ewma_of_constant_load_converges_to_it(level: float, initial: float, n_initial: int) -> None:
    loads = [initial] * n_initial + [level] * 400
    out = load_series(pd.Series(loads, index=pd.date_range("2023-01-01", periods=len(loads))))
    assert out["acute"].iloc[-1] == pytest.approx(level, rel=1e-6)
    assert out["chronic"].iloc[-1] == pytest.approx(level, rel=1e-4)
    assert out["acwr"].iloc[-1] == pytest.approx(1.0, rel=1e-4)
    assert np.isnan(out["monotony"].iloc[-1])  # SD 0: Foster's monotony undefined


def test_monotony_and_strain_hand_computed() -> None:
    week = [10.0, 0.0, 20.0, 0.0, 30.0, 0.0, 10.0]  # Monday 2024-01-01 .. Sunday
    out = load_series(pd.Series(week, index=pd.date_range("2024-01-01", periods=7)))
    mean, sd = 70 / 7, float(np.std(week, ddof=1))
    assert out["monotony"].iloc[-1] == pytest.approx(mean / sd)
    assert out["strain"].iloc[-1] == pytest.approx(70 * mean / sd)


def test_weekly_summary_counts_a_planted_fortnight_and_an_empty_week() -> None:
    monday = date(2024, 1, 1)
    s = sessions_frame([
        session(monday, 40, 120, ident=1),  # 60% HRmax: moderate cardio
        session(monday, 30, 150, "strength", ident=2),  # same day, 75%: above 70
        session(monday + timedelta(days=2), 90, 120, ident=3),  # too long to count as moderate
        session(monday + timedelta(days=8), 20, 90, "yoga", ident=4),  # light, mobility: active recovery
    ])
    w = weekly_summary(s, monday, monday + timedelta(days=20))
    assert w["iso_week"].tolist() == ["2024-W01", "2024-W02", "2024-W03"]
    first, second, third = (w.iloc[i] for i in range(3))
    assert (first.sessions, first.moderate_sessions, first.active_days, first.rest_days) == (3, 1, 2, 5)
    assert first.minutes == pytest.approx(160)
    assert first.pct_above_70 == pytest.approx(100 * 30 / 160)
    assert (first.n_endurance, first.n_strength, first.n_mobility) == (2, 1, 0)
    assert first.load == pytest.approx(40 * 2 + 30 * 3 + 90 * 2)  # Edwards: 60% -> zone 2, 75% -> zone 3
    assert (first.z2_min, first.z3_min, first.z0_min + first.z1_min + first.z4_min + first.z5_min) == (130, 30, 0)
    assert sum(w[f"z{i}_min"].sum() for i in range(6)) == pytest.approx(w["hr_minutes"].sum())
    daily = [170.0, 0, 180, 0, 0, 0, 0]  # Monday 80 + 90, Wednesday 180
    assert first.monotony == pytest.approx(np.mean(daily) / np.std(daily, ddof=1))
    assert first.strain == pytest.approx(350 * np.mean(daily) / np.std(daily, ddof=1))
    assert np.isnan(third.monotony)  # no load all week
    assert (second.sessions, second.active_recovery_days, second.n_mobility, second.rest_days) == (1, 1, 1, 6)
    assert second.pct_above_70 == 0
    assert third.sessions == 0 and third.rest_days == 7 and np.isnan(third.pct_above_70)


def test_daily_load_fills_days_without_training() -> None:
    s = frame([date(2024, 1, 1), date(2024, 1, 3)], minutes=10, hr=170)  # 85% -> zone 4
    d = daily_load(s, date(2024, 1, 1), date(2024, 1, 4))
    assert d.tolist() == pytest.approx([40, 0, 40, 0])


def _training(start: date, stop_after_days: int, gap_days: int, total_days: int) -> list[date]:
    """Sessions every other day, with ``gap_days`` without any session starting after ``stop_after_days``."""
    days = [start + timedelta(days=i) for i in range(0, total_days, 2)]
    lo, hi = start + timedelta(days=stop_after_days), start + timedelta(days=stop_after_days + gap_days)
    return [d for d in days if not lo <= d < hi]


@settings(max_examples=25, deadline=None)
@given(st.integers(40, 120), st.integers(20, 90))
def test_detraining_gap_detected_where_planted(stop: int, gap: int) -> None:
    start = date(2024, 1, 1)
    days = _training(start, stop, gap, 300)
    c = consistency(frame(days))
    idle = [(days[i], days[i + 1]) for i in range(len(days) - 1) if (days[i + 1] - days[i]).days > 15]
    assert len(idle) == 1
    last_before, first_after = idle[0]
    assert [g["days"] for g in c["gaps"]] == [(first_after - last_before).days - 1]
    assert c["gaps"][0]["start"] == last_before + timedelta(days=1)
    idle_days = (first_after - last_before).days - 1
    if idle_days >= 28:  # 14 sessions in the 28 days before: there was training to lose
        assert [(d["start"], d["days"]) for d in c["detraining"]] == [(last_before + timedelta(days=1), idle_days)]
        assert c["detraining"][0]["sessions_in_28_days_before"] == 14
    else:
        assert c["detraining"] == []


def test_no_detraining_without_training_before() -> None:
    days = [date(2024, 1, 1), date(2024, 1, 20), date(2024, 3, 1), date(2024, 3, 3)]  # 40-day gap after 2 sessions
    c = consistency(frame(days))
    assert [g["days"] for g in c["gaps"]] == [18, 40] and c["detraining"] == []


def test_short_breaks_are_not_gaps_and_streaks() -> None:
    days = _training(date(2024, 1, 1), 30, 10, 120)
    c = consistency(frame(days), end=days[-1])
    assert c["gaps"] == [] and c["detraining"] == []
    assert c["longest_streak_weeks"] == c["current_streak_weeks"] == 17  # to Sunday 2024-04-28, no empty week
    ongoing = consistency(frame(days), end=days[-1] + timedelta(days=40))
    assert ongoing["gaps"][-1]["ongoing"] and ongoing["gaps"][-1]["days"] == 40
    assert ongoing["current_streak_weeks"] == 0


def test_around_sample_compares_the_two_windows() -> None:
    sample = date(2024, 3, 1)
    before = [sample - timedelta(days=d) for d in range(1, 29, 2)]  # 14 sessions in the 28 days before
    prior = [sample - timedelta(days=d) for d in range(29, 57, 7)]  # 4 sessions in the 28 days before that
    out = around_sample(frame([*prior, *before, sample]), sample)  # the sample-day session is excluded
    assert out["before"]["n_sessions"] == 14 and out["prior"]["n_sessions"] == 4
    assert out["change"]["sessions_per_week"] == pytest.approx(14 / 4 - 4 / 4)
    assert out["change"]["rest_days_per_week"] == pytest.approx((28 - 14) / 4 - (28 - 4) / 4)
    assert out["days_since_last_session"] == 1
