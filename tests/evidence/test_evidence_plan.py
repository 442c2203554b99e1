"""The next-week plan: never more than 110% of recent minutes, and the gut-friendly pattern whenever it fits."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.errors import BadInputError
from gutstride.evidence.plan import suggest_next_week


def weeks_before(today: date, minutes: list[float], shares: list[float | None]) -> list[dict[str, object]]:
    """Consecutive complete Monday weeks ending before ``today``'s week, oldest first."""
    this_monday = today - timedelta(days=today.weekday())
    n = len(minutes)
    return [
        {
            "week_start": this_monday - timedelta(weeks=n - i),
            "sessions": 4,
            "minutes": m,
            "moderate_sessions": 1,
            "share_above_70pct": s,
            "rest_days": 2,
        }
        for i, (m, s) in enumerate(zip(minutes, shares, strict=True))
    ]


history = st.integers(min_value=4, max_value=8).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(min_value=0, max_value=1500, allow_nan=False), min_size=n, max_size=n),
        st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1)), min_size=n, max_size=n),
    )
)


@settings(max_examples=100, deadline=None)
@given(history=history, today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_plan_respects_progression_and_pattern(
    history: tuple[list[float], list[float | None]], today: date
) -> None:
    minutes, shares = history
    plan = suggest_next_week(weeks_before(today, minutes, shares), today)
    cap = math.floor(1.10 * sum(minutes[-4:]) / 4)

    assert plan.total_minutes <= cap
    assert len(plan.days) == 7
    assert plan.days[0].day > today and plan.days[0].day.weekday() == 0
    assert [d.day for d in plan.days] == [plan.days[0].day + timedelta(days=i) for i in range(7)]
    rest = [d for d in plan.days if d.session == "rest"]
    assert len(rest) >= 1 and all(d.minutes == 0 for d in rest)
    for day in plan.days:
        assert 0 <= day.minutes <= 120
        assert day.reasons
        if day.session == "hard":
            assert day.minutes <= 45
            assert day.hr_zone_pct is not None and day.hr_zone_pct[0] >= 70
        elif day.session in ("moderate", "easy"):
            assert day.hr_zone_pct is not None and day.hr_zone_pct[0] >= 50 and day.hr_zone_pct[1] <= 70
    hard = sum(d.minutes for d in plan.days if d.session == "hard")
    assert hard <= 0.2 * plan.total_minutes  # most time at or below 70% HRmax
    if all(s is None for s in shares[-4:]):
        assert hard == 0
    if cap >= 80:  # room for the whole pattern within the 10% progression
        moderate = [d for d in plan.days if d.session == "moderate"]
        assert len(moderate) >= 2
        assert all(30 <= d.minutes <= 45 and d.hr_zone_pct == (50, 70) for d in moderate)
        assert any(d.session == "strength_mobility" for d in plan.days)
        assert len(rest) >= 1
    assert any("convention" in note for note in plan.notes)


def test_hand_checked_plan() -> None:
    today = date(2026, 11, 18)  # a Wednesday
    weeks = weeks_before(today, [200, 220, 180, 240], [0.3, 0.3, 0.3, 0.3])
    plan = suggest_next_week(weeks, today)
    assert plan.start == date(2026, 11, 23)
    assert plan.budget_minutes == 231  # floor(1.1 * 210)
    assert [(d.session, d.minutes) for d in plan.days] == [
        ("moderate", 45),
        ("strength_mobility", 30),
        ("rest", 0),
        ("moderate", 45),
        ("hard", 45),  # min(45, floor(0.2 * 231))
        ("easy", 66),  # 231 - 165
        ("rest", 0),
    ]


def test_current_partial_week_and_older_weeks_are_ignored() -> None:
    today = date(2026, 11, 18)
    weeks = weeks_before(today, [1000, 1000, 100, 100, 100, 100], [None] * 6)
    weeks.append({"week_start": date(2026, 11, 16), "minutes": 5, "share_above_70pct": None})  # in progress
    assert suggest_next_week(weeks, today).budget_minutes == 110


def test_accepts_the_training_helpers_percent_column_and_iso_strings() -> None:
    today = date(2026, 11, 18)
    weeks = [
        {"week_start": (date(2026, 10, 19) + timedelta(weeks=i)).isoformat(), "minutes": 300, "pct_above_70": 50.0}
        for i in range(4)
    ]
    plan = suggest_next_week(weeks, today)
    assert plan.budget_minutes == 330
    assert any("50% of your heart-rate time" in note for note in plan.notes)


def test_bad_and_missing_input() -> None:
    today = date(2026, 11, 18)
    empty = suggest_next_week([], today)
    assert empty.weeks_used == 0 and empty.total_minutes == 0
    assert [d.session for d in empty.days] == ["unplanned"] * 7
    assert "Not enough data yet" in empty.notes[0]
    with pytest.raises(BadInputError):
        suggest_next_week(weeks_before(today, [-5, 10, 10, 10], [None] * 4), today)
    with pytest.raises(BadInputError):
        suggest_next_week(weeks_before(today, [10, 10, 10, 10], [None, None, None, 3.0]), today)
