"""The normalised activity every reader returns.

A reader turns one file into a :class:`DecodedFile`: zero or more :class:`Activity` objects, a status and a
reason. An activity is a :class:`ActivitySummary` plus a per-sample stream of numpy columns.

Stream columns (all the same length, one row per sample, in the order the device recorded them, which is
normally increasing time):

=============  ==========  =====================================================
column         dtype       meaning
=============  ==========  =====================================================
time           float64     seconds since the Unix epoch, UTC
hr             float64     heart rate, beats/min; NaN where not recorded
speed          float64     m/s
distance       float64     cumulative metres
cadence        float64     rpm or steps/min as the device wrote it
altitude       float64     metres
temperature    float64     degrees Celsius
power          float64     watts
lat, lon       float64     degrees (WGS84)
=============  ==========  =====================================================

Missing values are NaN, never zero: an HR gap stays a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

STREAM_COLUMNS = (
    "time", "hr", "speed", "distance", "cadence", "altitude", "temperature", "power", "lat", "lon",
)

#: The one sport vocabulary. Readers map their own names onto these.
SPORTS = (
    "running", "trail_running", "treadmill_running", "walking", "hiking", "cycling", "indoor_cycling",
    "swimming", "rowing", "strength", "yoga", "mobility", "cross_training", "skiing", "other",
)

FileStatus = Literal["ok", "partial", "error"]


@dataclass
class ActivitySummary:
    """One activity, summarised. Times are timezone-aware UTC; ``local_offset_s`` is local minus UTC."""

    sport: str = "other"
    sub_sport: str | None = None
    start_time: datetime | None = None
    local_offset_s: int | None = None
    duration_s: float | None = None
    moving_time_s: float | None = None
    distance_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    ascent_m: float | None = None
    avg_temp_c: float | None = None
    device: str | None = None
    n_records: int = 0
    n_hr: int = 0
    name: str | None = None
    perceived_exertion: float | None = None
    gear: str | None = None

    @property
    def end_time(self) -> datetime | None:
        from datetime import timedelta

        if self.start_time is None or self.duration_s is None:
            return None
        return self.start_time + timedelta(seconds=float(self.duration_s))


@dataclass
class Activity:
    """A summary, its per-sample stream (see module docstring), laps, R-R intervals (seconds) and device events."""

    summary: ActivitySummary
    stream: dict[str, np.ndarray] = field(default_factory=dict)
    laps: list[dict[str, Any]] = field(default_factory=list)
    rr_intervals: np.ndarray | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DecodedFile:
    """What one reader made of one file."""

    format: str
    status: FileStatus
    message: str = ""
    activities: list[Activity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def empty_stream(n: int = 0) -> dict[str, np.ndarray]:
    """A stream with every column present and all values missing."""
    return {name: np.full(n, np.nan) for name in STREAM_COLUMNS}
