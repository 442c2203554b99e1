"""Training analysis for gut health: pure functions over activities and their streams (no I/O).

- :mod:`.profile`: :class:`Profile` (BMI and class), :func:`clean_hr`, :func:`resolve_hrmax`.
- :mod:`.sessions`: :func:`analyse_session` (zones by time, intensity, moderate/prolonged flags, heat, TRIMP).
- :mod:`.weekly`: :func:`weekly_summary`, :func:`load_series`, :func:`consistency`, :func:`around_sample`.
- :mod:`.findings`: :func:`training_findings`.

:func:`analyse_training` runs them all for the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from gutstride.analysis.training.findings import training_findings
from gutstride.analysis.training.profile import (
    HRMax,
    HRQuality,
    clean_hr,
    clean_hr_weighted,
    resolve_hrmax,
    tanaka_hrmax,
)
from gutstride.analysis.training.sessions import (
    SessionMetrics,
    analyse_session,
    classify_from_pace,
    sessions_frame,
    sport_family,
)
from gutstride.analysis.training.weekly import (
    around_sample,
    consistency,
    daily_load,
    load_series,
    weekly_summary,
    window_measures,
)
from gutstride.model.finding import Finding
from gutstride.model.profile import Profile

__all__ = [
    "STREAM_COLUMNS", "HRMax", "HRQuality", "Profile", "SessionMetrics", "TrainingAnalysis", "analyse_session",
    "analyse_training", "around_sample", "classify_from_pace", "clean_hr", "clean_hr_weighted", "consistency",
    "daily_load", "load_series",
    "resolve_hrmax", "sessions_frame", "sport_family", "tanaka_hrmax",
    "training_findings", "weekly_summary", "window_measures",
]


@dataclass
class TrainingAnalysis:
    """Everything the report needs from the training side."""

    sessions: pd.DataFrame
    weekly: pd.DataFrame
    load: pd.DataFrame
    consistency: dict[str, Any]
    hrmax: HRMax
    findings: list[Finding]
    around_samples: list[dict[str, Any]] = field(default_factory=list)


_EMPTY = np.empty(0)
#: The stream columns the training analysis reads (pass to ``Workspace.read_stream(id, columns=...)``).
STREAM_COLUMNS = ["time", "hr", "speed", "temperature"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")`` built from whole columns (``tolist`` boxes the values as ``to_dict`` does, at
    about half the cost)."""
    columns = {name: frame[name].tolist() for name in frame.columns}
    rows = zip(*columns.values(), strict=True) if columns else [()] * len(frame)
    return [dict(zip(columns, values, strict=True)) for values in rows]


def analyse_training(
    activities_df: pd.DataFrame,
    streams: Mapping[int, Mapping[str, np.ndarray]],
    profile: Profile,
    today: date,
    min_observations: int = 5,
    zone_basis: Literal["hrmax", "hrr"] = "hrmax",
    sample_dates: Iterable[date] = (),
) -> TrainingAnalysis:
    """Analyse every activity and summarise.

    Parameters
    ----------
    activities_df
        Columns of the ``activity`` table (``id``, ``sport``, ``start_time``, ``duration_s`` ...).
    streams
        Activity id -> stream columns; activities without an entry are analysed from their summary only.
    profile, today
        The person's profile; ``today`` ends the analysis and fixes the 12-month HRmax window.
    sample_dates
        Microbiome sample dates for :func:`around_sample`.

    Notes
    -----
    Activities without a start time (``start_time`` missing) cannot be placed in a day, week or load series and
    are left out of every measure here; the caller reports how many there were.
    HR is cleaned once (:func:`clean_hr`); HRmax comes from :func:`resolve_hrmax` over the sessions started in the
    365 days up to ``today``; then each session is analysed with it and sessions without HR are classified from
    pace where the person's HR sessions allow (:func:`classify_from_pace`).
    """
    dated = activities_df["start_time"].notna() if "start_time" in activities_df else []
    rows = _records(activities_df[dated]) if len(activities_df) else []
    cleaned: list[tuple[np.ndarray, np.ndarray, HRQuality]] = []
    recent_hr: list[np.ndarray] = []
    year_ago = pd.Timestamp(today - timedelta(days=365), tz="UTC")
    end_ts = pd.Timestamp(today + timedelta(days=1), tz="UTC")
    for row in rows:
        stream = streams.get(int(row["id"]), {}) if row.get("id") is not None else {}
        time = np.asarray(stream.get("time", _EMPTY), dtype=float)
        hr = np.asarray(stream.get("hr", np.full(time.shape, np.nan)), dtype=float)
        result = clean_hr_weighted(time, hr)
        cleaned.append(result)
        start = row.get("start_time")
        in_year = start is not None and pd.notna(start) and year_ago <= pd.Timestamp(start) < end_ts
        if result[2].hr_time_s > 0 and in_year:
            recent_hr.append(result[0][np.isfinite(result[0])])
    all_hr = np.concatenate(recent_hr) if recent_hr else _EMPTY
    hrmax = resolve_hrmax(profile, all_hr, today, n_sessions=len(recent_hr))
    metrics = [
        analyse_session(streams.get(int(row["id"]), {}) if row.get("id") is not None else {}, row, hrmax.value,
                        profile.resting_hr, profile.sex, zone_basis, cleaned=c)
        for row, c in zip(rows, cleaned, strict=True)
    ]
    sessions = classify_from_pace(sessions_frame(metrics))
    dates = pd.to_datetime(sessions["local_date"]).dropna()
    start_day = dates.min().date() if len(dates) else today
    end_day = max(today, dates.max().date()) if len(dates) else today
    weekly = weekly_summary(sessions, start_day, end_day)
    load = load_series(daily_load(sessions, start_day, end_day))
    cons = consistency(sessions, end=end_day)
    findings = training_findings(sessions, weekly, today, hrmax=hrmax, load=load, consistency=cons,
                                 min_observations=min_observations)
    around = [around_sample(sessions, d) for d in sample_dates]
    return TrainingAnalysis(sessions, weekly, load, cons, hrmax, findings, around)
