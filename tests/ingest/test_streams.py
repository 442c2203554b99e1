"""Shared stream helpers, against values worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from gutstride.ingest.activities.streams import (
    EARTH_RADIUS_M,
    ascent,
    carry_forward_hr,
    iso_times_to_epoch,
    moving_time,
    normalise_sport,
    path_distance,
    stream_from_columns,
    summarise_stream,
)
from gutstride.model.activity import STREAM_COLUMNS, ActivitySummary


def test_stream_from_columns_fills_and_sorts() -> None:
    stream = stream_from_columns({"time": [3.0, 1.0, 2.0], "hr": [130, None, 120]}, 3)
    assert set(stream) == set(STREAM_COLUMNS)
    np.testing.assert_array_equal(stream["time"], [1, 2, 3])
    np.testing.assert_array_equal(stream["hr"], [np.nan, 120, 130])
    assert np.isnan(stream["power"]).all()
    with pytest.raises(ValueError, match="unknown"):
        stream_from_columns({"heartrate": [1]}, 1)
    with pytest.raises(ValueError, match="expected 2"):
        stream_from_columns({"time": [1.0]}, 2)


def test_moving_time_rule() -> None:
    time = np.array([0, 1, 2, 3, 10.0])
    speed = np.array([np.nan, 1.0, 0.2, np.nan, np.nan])
    distance = np.array([0, 1, 1.2, 5.0, 5.1])
    # interval 1: speed 1 > 0.5; interval 2: speed 0.2; interval 3: no speed, 3.8 m/s; interval 4: 0.1 m in 7 s
    assert moving_time(time, speed, distance) == 2.0


def test_ascent_hysteresis() -> None:
    # 100 -> 103 counts 3 (noise 101/100.5 ignored), 102 -> 106 counts 4, the final 0.5 m dip nothing
    assert ascent(np.array([100, 101, 100.5, 103, 102, 106, 105.5])) == 7.0
    assert ascent(np.array([100, 101.9, 100.1, 101.8])) == 0.0
    assert ascent(np.full(3, np.nan)) is None


def test_carry_forward_hr() -> None:
    time = np.array([0, 1, 2, 6, 7, 20.0])
    hr = np.array([100, np.nan, np.nan, np.nan, 110, np.nan])
    np.testing.assert_array_equal(carry_forward_hr(time, hr), [100, 100, 100, np.nan, 110, np.nan])
    np.testing.assert_array_equal(carry_forward_hr(time, hr, max_gap_s=6), [100, 100, 100, 100, 110, np.nan])
    assert np.isnan(hr[1])  # input untouched


def test_path_distance_one_degree_of_latitude() -> None:
    d = path_distance(np.array([0.0, np.nan, 1.0]), np.array([10.0, np.nan, 10.0]))
    assert d[0] == 0 and np.isnan(d[1])
    assert d[2] == pytest.approx(EARTH_RADIUS_M * math.pi / 180, rel=1e-12)


def test_summarise_stream_keeps_given_values() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    stream = stream_from_columns({
        "time": t0 + np.arange(5.0), "hr": [0, 100, np.nan, 120, 140], "distance": [0, 2, 4, 6, 8],
        "temperature": [20, np.nan, 22, np.nan, np.nan],
    }, 5)
    summary = summarise_stream(stream, ActivitySummary(max_hr=150.0))
    assert summary.start_time == datetime(2024, 1, 1, tzinfo=UTC)
    assert (summary.duration_s, summary.moving_time_s, summary.distance_m) == (4.0, 4.0, 8.0)
    assert (summary.n_hr, summary.avg_hr, summary.max_hr) == (3, 120.0, 150.0)  # max_hr was given
    assert (summary.avg_temp_c, summary.n_records, summary.ascent_m) == (21.0, 5, None)


def test_iso_times() -> None:
    seconds, naive, bad = iso_times_to_epoch(["2020-01-01T00:00:00.250Z", "2020-01-01T01:00:00+01:00",
                                              "2020-01-01T00:00:02", "nonsense", None])
    base = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    np.testing.assert_array_equal(seconds, [base + 0.25, base, base + 2, np.nan, np.nan])
    assert (naive, bad) == (1, 2)


@pytest.mark.parametrize(("name", "sport"), [
    ("Running", "running"), ("Biking", "cycling"), ("Trail Running", "trail_running"), ("TrailRun", "trail_running"),
    ("VirtualRide", "indoor_cycling"), ("1", "cycling"), ("Other", "other"), (None, "other"), ("curling", "other"),
])
def test_normalise_sport(name: str | None, sport: str) -> None:
    assert normalise_sport(name) == sport
