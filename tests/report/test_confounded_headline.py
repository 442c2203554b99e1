"""The issue's "done when": an athlete whose symptoms follow heat alone, with long runs mostly hot, is told about heat
and not about duration; in the mirror case (duration alone) about duration and not heat. Built through compose, as
the report is, from activities and a log (no streams: the summaries carry duration and temperature)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from gutstride.model.log_entry import LogEntry
from gutstride.model.profile import Profile
from gutstride.services.report import ReportInputs, compose

TODAY = date(2026, 10, 31)


def athlete(cause: str, seed: int, weeks: int = 40) -> ReportInputs:
    """Five runs a week; the Sunday long run (and sometimes a second) is long, and long runs are mostly hot.

    Symptoms (cramps >= 3) follow ``cause`` alone: risk 0.55 with it, 0.08 without.
    """
    rng = np.random.default_rng(seed)
    rows, entries = [], []
    first = TODAY - timedelta(weeks=weeks) - timedelta(days=(TODAY - timedelta(weeks=weeks)).weekday())
    for w in range(weeks):
        for k, weekday in enumerate((0, 1, 3, 4, 6)):
            day = first + timedelta(weeks=w, days=weekday)
            long = weekday == 6 or (k == 2 and rng.random() < 0.3)
            hot = rng.random() < (0.75 if long else 0.2)
            minutes = rng.uniform(100, 130) if long else rng.uniform(35, 60)
            start = datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC)
            rows.append({"id": len(rows) + 1, "sport": "running", "sub_sport": None, "start_time": start,
                         "local_offset_s": 0, "duration_s": minutes * 60, "moving_time_s": minutes * 60,
                         "distance_m": minutes * 170, "avg_hr": np.nan, "max_hr": np.nan, "ascent_m": 0.0,
                         "avg_temp_c": rng.uniform(26, 31) if hot else rng.uniform(8, 20), "has_stream": False})
            risky = hot if cause == "heat" else long
            sick = rng.random() < (0.55 if risky else 0.08)
            entries.append(LogEntry(day=day, activity_start=start, cramps=int(rng.integers(3, 7)) if sick else 0,
                                    pre_meal_minutes_before=float(rng.choice([60, 180])), symptom_timing="within_2h"))
    activities = pd.DataFrame(rows)
    activities["start_time"] = pd.to_datetime(activities["start_time"], utc=True)
    return ReportInputs(person={"name": "test"}, profile=Profile(birth_year=1990), activities=activities, streams={},
                        log_entries=entries, microbiome=None, sample_dates=[], imports=[], today=TODAY)


@pytest.fixture(scope="module", params=["heat", "duration"])
def report(request: pytest.FixtureRequest) -> tuple[str, dict]:
    return request.param, compose(athlete(request.param, seed={"heat": 4, "duration": 5}[request.param]))


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def _parts(cause: str, content: dict) -> tuple[dict, dict]:
    triggers = {t["trigger_id"]: t for t in content["symptoms"]["triggers"]}
    heat = triggers["heat"]
    duration = next(t for t in triggers.values() if t["trigger_id"].startswith("duration_"))
    return (heat, duration) if cause == "heat" else (duration, heat)


def test_the_headline_names_the_cause_and_not_its_companion(report: tuple[str, dict]) -> None:
    cause, content = report
    blamed, spared = _parts(cause, content)
    # crude, both look like triggers: the companion rides on the cause
    assert blamed["interval"][0] > 1 and spared["interval"][0] > 1
    assert blamed["word"] == "clear" and blamed["adjusted_interval"][0] > 1
    assert spared["word"] not in ("clear", "likely") and spared["adjusted_ratio"] < spared["rate_ratio"]
    first = content["headline"][0]
    assert first.startswith(f"Your gut symptoms follow sessions {_lower(blamed['label'])}"), first
    assert not any(line.startswith(f"Your gut symptoms follow sessions {_lower(spared['label'])}")
                   for line in content["headline"])
    titles = {r["title"] for r in content["recommendations"] if r["kind"] == "advice"}
    wrong = "Your gut symptoms follow long sessions" if cause == "heat" else "Your gut symptoms follow hot sessions"
    assert wrong not in titles


@pytest.mark.parametrize("cause", ["heat", "duration"])
def test_over_several_athletes_the_companion_is_never_blamed(cause: str) -> None:
    """Six simulated athletes per case: the cause is clear in each, and the companion never reaches the headline or
    the advice (a chance "likely" may still lead to an experiment, which is what it is for)."""
    for seed in range(10, 16):
        content = compose(athlete(cause, seed=seed))
        blamed, spared = _parts(cause, content)
        assert blamed["word"] == "clear", (seed, blamed)
        assert content["headline"][0].startswith(f"Your gut symptoms follow sessions {_lower(blamed['label'])}")
        assert not any(f"follow sessions {_lower(spared['label'])}" in line for line in content["headline"]), seed
        spared_finding = next(f for f in content["symptoms"]["findings"]
                              if f["id"] == f"symptoms.trigger.{spared['trigger_id']}")
        assert spared_finding["direction"] != "above", seed


def test_the_plan_follows_the_cause(report: tuple[str, dict]) -> None:
    cause, content = report
    blamed, _ = _parts(cause, content)
    days = content["next_week"]["days"]
    reasons = " ".join(r for d in days for r in d["reasons"])
    if cause == "duration":
        assert max(d["minutes"] for d in days) <= (90 if blamed["trigger_id"] == "duration_90" else 120)
        assert "cooler hours" not in reasons
    else:
        assert "cooler hours" in reasons and "Your data: symptoms after" in reasons


def test_the_report_says_which_timing_rule_was_used(report: tuple[str, dict]) -> None:
    _, content = report
    assert content["symptoms"]["timing_rule"].startswith("Symptoms were credited to 200 sessions by the timing")
