"""Training over time: ISO weeks, load (EWMA, ACWR, monotony, strain), consistency, and windows around a date.

All functions take the sessions table of :func:`~gutstride.analysis.training.sessions.sessions_frame` (columns
``local_date``, ``duration_s``, ``family``, ``intensity_class``, ``is_moderate_cardio``, ``share_above_70``,
``hr_time_s``, ``trimp_edwards``, ...). Days are the person's local dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

#: The daily load column: Edwards TRIMP (needs only HRmax, so it exists for every session with HR).
LOAD_COLUMN = "trimp_edwards"
ACUTE_DAYS, CHRONIC_DAYS = 7, 28
GAP_MIN_DAYS = 14
DETRAINING_MIN_DAYS = 28
#: Sessions in the 28 days before a break needed for it to count as detraining (there was training to lose).
DETRAINING_MIN_BEFORE = 4
FAMILIES = ("endurance", "strength", "mobility", "other")


def _dates(sessions: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(sessions["local_date"]).dt.normalize()


def _week_start(days: pd.Series | pd.DatetimeIndex) -> Any:
    weekday = days.day_of_week if isinstance(days, pd.DatetimeIndex) else days.dt.day_of_week
    return days - pd.to_timedelta(weekday, unit="D")


def daily_load(sessions: pd.DataFrame, start: date, end: date, column: str = LOAD_COLUMN) -> pd.Series:
    """Sum of ``column`` per local day from ``start`` to ``end`` (inclusive), 0 on days without load."""
    days = pd.date_range(start, end, freq="D")
    if sessions.empty:
        return pd.Series(0.0, index=days, name="load")
    per_day = sessions[column].fillna(0.0).groupby(_dates(sessions)).sum()
    return per_day.reindex(days, fill_value=0.0).astype(float).rename("load")


def load_series(daily_load: pd.Series) -> pd.DataFrame:
    """Acute and chronic load, their ratio, and Foster's monotony and strain.

    Parameters
    ----------
    daily_load
        One value per consecutive day (missing days are filled with 0), indexed by date.

    Returns
    -------
    DataFrame indexed by day with ``load``, ``acute`` and ``chronic`` (exponentially weighted moving averages,
    EWMA_t = lambda x load_t + (1 - lambda) x EWMA_{t-1}, lambda = 2 / (N + 1), N = 7 and 28 days, started at the
    first day's load), ``acwr`` = acute / chronic (NaN during the first 28 days and where chronic load is 0),
    and over the trailing 7 days ``monotony`` = mean / SD of daily load (sample SD; NaN when SD is 0) and
    ``strain`` = 7-day load x monotony (Foster 1998). On a Sunday the trailing 7 days are the ISO week.

    Notes
    -----
    The acute:chronic workload ratio comes from team-sport injury studies (Hulin 2016; Murray 2017 for the EWMA
    form; Carey 2017 found that the window lengths change the results). It has been criticised: acute load is part
    of chronic load (mathematical coupling), ratios amplify noise when chronic load is small, and no threshold has
    been validated for gut symptoms or gut injury. It is shown as a description of load change, not a risk score.
    """
    days = pd.date_range(daily_load.index.min(), daily_load.index.max(), freq="D")
    load = daily_load.reindex(days, fill_value=0.0).astype(float)
    acute = load.ewm(alpha=2 / (ACUTE_DAYS + 1), adjust=False).mean()
    chronic = load.ewm(alpha=2 / (CHRONIC_DAYS + 1), adjust=False).mean()
    acwr = (acute / chronic.where(chronic > 0)).to_numpy(copy=True)
    acwr[:CHRONIC_DAYS] = np.nan
    mean = np.full(len(load), np.nan)
    sd = np.full(len(load), np.nan)
    if len(load) >= 7:
        windows = np.lib.stride_tricks.sliding_window_view(load.to_numpy(), 7)
        mean[6:] = windows.mean(axis=1)
        sd[6:] = windows.std(axis=1, ddof=1)
    monotony = foster_monotony(mean, sd)
    return pd.DataFrame(
        {"load": load, "acute": acute, "chronic": chronic, "acwr": acwr, "monotony": monotony,
         "strain": 7 * mean * monotony},
        index=days,
    )


def foster_monotony(mean: Any, sd: Any) -> Any:
    """Foster's monotony, mean / SD of daily load, NaN where the SD is 0.

    An SD below 1e-9 of the mean is rounding noise of a constant load and counts as 0.
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 1e-9 * np.abs(mean), mean / sd, np.nan)


def weekly_summary(sessions: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """One row per ISO week (Monday start) overlapping ``start``-``end``, weeks without sessions included.

    Columns: ``week_start``, ``iso_week`` ("2024-W05"), ``days`` (days of the week inside the range),
    ``sessions``, ``minutes``, ``moderate_sessions``, ``hr_minutes``, ``pct_above_70`` (% of HR time at or above
    70% HRmax; NaN without HR), ``active_days``, ``rest_days`` (days without any session),
    ``active_recovery_days`` (days whose sessions are all light or mobility), ``n_endurance``, ``n_strength``,
    ``n_mobility``, ``n_other``, ``prolonged_sessions``, ``heat_sessions``, ``load`` (Edwards TRIMP), ``z0_min`` to
    ``z5_min`` (minutes below zone 1 and in zones 1-5, on the sessions' zone basis), and Foster's ``monotony`` and
    ``strain`` over the days of the week inside the range.
    """
    days = pd.date_range(start, end, freq="D")
    s = sessions[(_dates(sessions) >= days[0]) & (_dates(sessions) <= days[-1])] if len(sessions) else sessions
    day_index = pd.DataFrame({"day": days, "week_start": _week_start(days)})
    weeks = day_index.groupby("week_start").size().rename("days").to_frame()
    if len(s):
        d = _dates(s)
        frame = pd.DataFrame({
            "day": d.to_numpy(),
            "week_start": _week_start(d).to_numpy(),
            "minutes": s["duration_s"].fillna(0).to_numpy() / 60,
            "moderate": s["is_moderate_cardio"].fillna(False).astype(bool).to_numpy(),
            "hr_s": s["hr_time_s"].fillna(0).to_numpy(),
            "above70_s": (s["share_above_70"].fillna(0) * s["hr_time_s"].fillna(0)).to_numpy(),
            "prolonged": s["is_prolonged_strenuous"].fillna(False).astype(bool).to_numpy(),
            "heat": s["heat_class"].isin(["warm", "hot"]).to_numpy(),
            "load": s[LOAD_COLUMN].fillna(0).to_numpy(),
            "easy": (s["intensity_class"].eq("light") | s["family"].eq("mobility")).to_numpy(),
            "family": s["family"].to_numpy(),
            **{f"z{i}_min": s[f"z{i}_s"].fillna(0).to_numpy() / 60 for i in range(6)},
        })
        g = frame.groupby("week_start")
        sums = g[["minutes", "moderate", "hr_s", "above70_s", "prolonged", "heat", "load",
                  *(f"z{i}_min" for i in range(6))]].sum()  # one grouped sum of every column
        agg = pd.DataFrame({
            "sessions": g.size(),
            "minutes": sums["minutes"],
            "moderate_sessions": sums["moderate"],
            "hr_minutes": sums["hr_s"] / 60,
            "above70_s": sums["above70_s"],
            "active_days": g["day"].nunique(),
            "prolonged_sessions": sums["prolonged"],
            "heat_sessions": sums["heat"],
            "load": sums["load"],
            **{f"z{i}_min": sums[f"z{i}_min"] for i in range(6)},
        })
        easy_days = frame.groupby(["week_start", "day"])["easy"].all().groupby(level=0).sum()
        agg["active_recovery_days"] = easy_days
        counts = frame.groupby(["week_start", "family"]).size().unstack(fill_value=0)
        for fam in FAMILIES:
            agg[f"n_{fam}"] = counts.get(fam, 0)
        weeks = weeks.join(agg)
    count_cols = ["sessions", "minutes", "moderate_sessions", "hr_minutes", "above70_s", "active_days",
                  "prolonged_sessions", "heat_sessions", "load", "active_recovery_days", *(f"n_{f}" for f in FAMILIES),
                  *(f"z{i}_min" for i in range(6))]
    for col in count_cols:
        weeks[col] = weeks[col].fillna(0) if col in weeks else 0
    int_cols = ["sessions", "moderate_sessions", "active_days", "prolonged_sessions", "heat_sessions",
                "active_recovery_days", *(f"n_{f}" for f in FAMILIES)]
    weeks[int_cols] = weeks[int_cols].astype(int)
    weeks["pct_above_70"] = 100 * weeks["above70_s"] / (weeks["hr_minutes"] * 60).where(weeks["hr_minutes"] > 0)
    weeks["rest_days"] = weeks["days"] - weeks["active_days"]
    loads = daily_load(sessions, days[0].date(), days[-1].date())
    by_week = loads.groupby(_week_start(loads.index))
    weeks["monotony"] = foster_monotony(by_week.mean().reindex(weeks.index), by_week.std(ddof=1).reindex(weeks.index))
    weeks["strain"] = weeks["load"] * weeks["monotony"]
    weeks = weeks.drop(columns="above70_s").reset_index()
    iso = weeks["week_start"].dt.isocalendar()
    weeks.insert(1, "iso_week", iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2))
    return weeks


def window_measures(sessions: pd.DataFrame, start: date, end: date) -> dict[str, Any]:
    """Training measures over the days ``start``-``end`` (inclusive), per week where a rate is meant.

    Keys: ``start``, ``end``, ``days``, ``n_sessions``, ``n_with_hr``, ``sessions_per_week``,
    ``minutes_per_week``, ``moderate_per_week``, ``pct_above_70`` (None without HR), ``rest_days_per_week``,
    ``load_per_week``, ``prolonged_sessions``, ``heat_sessions``, ``families`` (sessions per family).
    """
    n_days = (end - start).days + 1
    weeks = n_days / 7
    # whole columns as arrays, masked to the window (rather than a copy of every column of the rows inside)
    if len(sessions):
        d = _dates(sessions).to_numpy()
        inside = (d >= np.datetime64(start)) & (d <= np.datetime64(end))
    else:
        inside = np.zeros(0, dtype=bool)

    def values(name: str) -> np.ndarray:
        """A numeric column inside the window, missing values as 0."""
        return sessions[name].fillna(0).to_numpy(dtype=float)[inside] if len(sessions) else np.zeros(0)

    def count(flag: Callable[[pd.DataFrame], pd.Series]) -> int:
        """How many sessions inside the window ``flag`` marks."""
        if not len(sessions):
            return 0
        return int(np.count_nonzero(flag(sessions).fillna(False).to_numpy(dtype=bool)[inside]))

    n_sessions = int(np.count_nonzero(inside))
    hr_time = values("hr_time_s")
    hr_s = float(hr_time.sum())
    above = float((values("share_above_70") * hr_time).sum())
    active = len(np.unique(d[inside])) if n_sessions else 0
    family = sessions["family"].to_numpy(dtype=object)[inside] if len(sessions) else np.zeros(0, dtype=object)
    return {
        "start": start,
        "end": end,
        "days": n_days,
        "n_sessions": n_sessions,
        "n_with_hr": count(lambda s: s["classified_from"] == "hr"),
        "sessions_per_week": n_sessions / weeks,
        "minutes_per_week": float(values("duration_s").sum()) / 60 / weeks,
        "moderate_per_week": count(lambda s: s["is_moderate_cardio"]) / weeks,
        "pct_above_70": 100 * above / hr_s if hr_s > 0 else None,
        "rest_days_per_week": (n_days - active) / weeks,
        "load_per_week": float(values(LOAD_COLUMN).sum()) / weeks,
        "prolonged_sessions": count(lambda s: s["is_prolonged_strenuous"]),
        "heat_sessions": count(lambda s: s["heat_class"].isin(["warm", "hot"])),
        "families": {f: int(np.count_nonzero(family == f)) for f in FAMILIES},
    }


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in ``flags``."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def longest_idle_run(sessions: pd.DataFrame, start: date, end: date) -> int:
    """Longest run of consecutive days without a session inside ``start``-``end`` (runs are clipped to it)."""
    if len(sessions):
        d = _dates(sessions)
        inside = np.sort(d[(d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))].unique())
    else:
        inside = np.array([], dtype="datetime64[ns]")
    bounds = np.concatenate([[np.datetime64(start - timedelta(days=1), "ns")], inside.astype("datetime64[ns]"),
                             [np.datetime64(end + timedelta(days=1), "ns")]])
    idle = np.diff(bounds).astype("timedelta64[D]").astype(int) - 1
    return int(idle.max())


def consistency(sessions: pd.DataFrame, end: date | None = None) -> dict[str, Any]:
    """Streaks, gaps and detraining periods.

    - A streak is a run of consecutive ISO weeks with at least one session; ``current_streak_weeks`` is the run
      that includes the week of ``end`` (0 if that week has no session).
    - A gap is a run of at least 14 consecutive days without any session, between two sessions or, if ``end`` is
      given, from the last session to ``end`` (then ``ongoing``).
    - A detraining period is a gap of at least 28 days (4 weeks with fewer than one session a week: none) that
      follows at least 4 sessions in the 28 days before it, so there was training to lose; training effects on
      fitness and on the gut (Allen 2018) have been seen to reverse within such spans.

    ``end`` defaults to the last session's date.
    """
    if sessions.empty:
        return {"n_sessions": 0, "longest_streak_weeks": 0, "current_streak_weeks": 0, "streak": None,
                "gaps": [], "detraining": []}
    all_days = _dates(sessions).to_numpy()
    days = np.sort(np.unique(all_days))
    first = pd.Timestamp(days[0])
    last_day = pd.Timestamp(days[-1])
    end_ts = pd.Timestamp(end) if end is not None else last_day
    gaps: list[dict[str, Any]] = []
    detraining: list[dict[str, Any]] = []
    stops = list(days[1:]) + ([end_ts + pd.Timedelta(days=1)] if end_ts > last_day else [])
    for prev, nxt in zip(days, stops, strict=False):
        idle = (pd.Timestamp(nxt) - pd.Timestamp(prev)).days - 1
        if idle < GAP_MIN_DAYS:
            continue
        gap = {"start": (pd.Timestamp(prev) + pd.Timedelta(days=1)).date(),
               "end": (pd.Timestamp(nxt) - pd.Timedelta(days=1)).date(),
               "days": idle, "ongoing": pd.Timestamp(nxt) > last_day}
        gaps.append(gap)
        before = int(((all_days > pd.Timestamp(prev) - pd.Timedelta(days=DETRAINING_MIN_DAYS))
                      & (all_days <= pd.Timestamp(prev))).sum())
        if idle >= DETRAINING_MIN_DAYS and before >= DETRAINING_MIN_BEFORE:
            detraining.append({**gap, "weeks": round(idle / 7, 1), "sessions_in_28_days_before": before})
    week_index = pd.date_range(_week_start(pd.DatetimeIndex([first]))[0],
                               _week_start(pd.DatetimeIndex([max(end_ts, last_day)]))[0], freq="7D")
    counts = pd.Series(_week_start(pd.DatetimeIndex(_dates(sessions))), dtype="datetime64[ns]").value_counts()
    per_week = counts.reindex(week_index, fill_value=0).to_numpy()
    active = per_week > 0
    streaks = _runs(active)
    longest = max(streaks, key=lambda r: r[1] - r[0], default=None)
    current = next((b - a + 1 for a, b in streaks if b == len(active) - 1), 0)
    return {
        "n_sessions": len(sessions),
        "longest_streak_weeks": 0 if longest is None else longest[1] - longest[0] + 1,
        "streak": None if longest is None else {"start": week_index[longest[0]].date(),
                                                "end": (week_index[longest[1]] + pd.Timedelta(days=6)).date()},
        "current_streak_weeks": current,
        "gaps": gaps,
        "detraining": detraining,
    }


def around_sample(sessions: pd.DataFrame, sample_date: date, window_days: int = 28) -> dict[str, Any]:
    """How training changed before a microbiome sample.

    Compares :func:`window_measures` over the ``window_days`` before the sample day (the day itself excluded, since
    training later that day cannot have shaped the sample) with the ``window_days`` before that.

    Returns ``{"sample_date", "window_days", "before", "prior", "change", "days_since_last_session"}`` where
    ``change`` holds before minus prior for each numeric measure (None where either is None).
    """
    before_end = sample_date - timedelta(days=1)
    before_start = sample_date - timedelta(days=window_days)
    prior_end = before_start - timedelta(days=1)
    prior_start = before_start - timedelta(days=window_days)
    before = window_measures(sessions, before_start, before_end)
    prior = window_measures(sessions, prior_start, prior_end)
    numeric = ("sessions_per_week", "minutes_per_week", "moderate_per_week", "pct_above_70", "rest_days_per_week",
               "load_per_week", "prolonged_sessions", "heat_sessions")
    change = {k: None if before[k] is None or prior[k] is None else before[k] - prior[k] for k in numeric}
    since = None
    if len(sessions):
        d = _dates(sessions)
        earlier = d[d <= pd.Timestamp(before_end)]
        if len(earlier):
            since = (pd.Timestamp(sample_date) - earlier.max()).days
    return {"sample_date": sample_date, "window_days": window_days, "before": before, "prior": prior,
            "change": change, "days_since_last_session": since}
