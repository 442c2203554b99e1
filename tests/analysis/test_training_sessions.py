"""Per-session training metrics, checked on real FIT files (decoded with fitdecode) and with property tests."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import fitdecode
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.analysis.training import analyse_session, classify_from_pace, sessions_frame, sport_family
from gutstride.analysis.training.sessions import vo2_60_hr
from gutstride.model.activity import SPORTS

FIT = Path(__file__).parents[1] / "data" / "activities" / "fit-fitparse"


@functools.cache
def decode_fit(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Records (time, hr, speed, temperature) and the session message of a FIT file, via fitdecode (cached)."""
    cols: dict[str, list[float]] = {"time": [], "hr": [], "speed": [], "temperature": []}
    session: dict[str, Any] = {}

    def value(frame: fitdecode.FitDataMessage, name: str) -> float:
        v = frame.get_value(name, fallback=None)
        return math.nan if v is None else float(v)

    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if not isinstance(frame, fitdecode.FitDataMessage):
                continue
            if frame.name == "record" and frame.get_value("timestamp", fallback=None) is not None:
                cols["time"].append(frame.get_value("timestamp").timestamp())
                cols["hr"].append(value(frame, "heart_rate"))
                cols["speed"].append(value(frame, "speed"))
                cols["temperature"].append(value(frame, "temperature"))
            elif frame.name == "session":
                session = {f.name: f.value for f in frame.fields}
    return {k: np.asarray(v, dtype=float) for k, v in cols.items()}, session


def summary_of(session: dict[str, Any], sport: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": 1, "sport": sport, "start_time": session["start_time"], "local_offset_s": 0,
        "duration_s": session["total_elapsed_time"], "moving_time_s": session["total_timer_time"],
        "distance_m": session.get("total_distance"), **extra,
    }


def loop_zones(time: np.ndarray, hr: np.ndarray, hrmax: float) -> tuple[list[float], float, float]:
    """Independent reference: zone seconds, HR seconds and weighted HR sum, one sample at a time.

    Applies the documented rules: drop HR outside 30-230 and single-sample spikes (> 30 bpm/s in and out in
    opposite directions), weight each sample by min(dt to next, 10 s).
    """
    n = len(time)
    good = [not math.isnan(h) and 30 <= h <= 230 for h in hr]
    idx = [i for i in range(n) if good[i]]
    for a, b, c in zip(idx, idx[1:], idx[2:], strict=False):
        r_in = (hr[b] - hr[a]) / max(time[b] - time[a], 1.0)
        r_out = (hr[c] - hr[b]) / max(time[c] - time[b], 1.0)
        if abs(r_in) > 30 and abs(r_out) > 30 and (r_in > 0) != (r_out > 0):
            good[b] = False
    zones = [0.0] * 6
    hr_s = weighted = 0.0
    for i in range(n - 1):
        if not good[i]:
            continue
        dt = min(max(time[i + 1] - time[i], 0.0), 10.0)
        pct = hr[i] / hrmax
        z = 0 if pct < 0.5 else 1 if pct < 0.6 else 2 if pct < 0.7 else 3 if pct < 0.8 else 4 if pct < 0.9 else 5
        zones[z] += dt
        hr_s += dt
        weighted += dt * hr[i]
    return zones, hr_s, weighted


@pytest.mark.parametrize(
    ("name", "sport"),
    [("activity-small-fenix2-run.fit", "running"), ("garmin-edge-500-activity.fit", "cycling"),
     ("sample-activity.fit", "cycling")],
)
def test_zone_times_match_an_independent_loop(name: str, sport: str) -> None:
    stream, session = decode_fit(FIT / name)
    m = analyse_session(stream, summary_of(session, sport), hrmax=190.0)
    zones, hr_s, weighted = loop_zones(stream["time"], stream["hr"], 190.0)
    assert m.zone_s == pytest.approx(zones, abs=1e-6)
    assert m.hr_time_s == pytest.approx(hr_s)
    assert m.mean_hr == pytest.approx(weighted / hr_s)
    assert m.share_above_70 == pytest.approx(sum(zones[3:]) / hr_s)
    assert m.trimp_edwards == pytest.approx(sum(z / 60 * k for k, z in enumerate(zones) if k))


@pytest.mark.parametrize("name", ["garmin-edge-500-activity.fit", "sample-activity.fit"])
def test_mean_hr_agrees_with_the_device_average(name: str) -> None:
    # The device's session average (written by the Garmin unit, not by us) is within about 1 bpm of our
    # time-weighted mean; these files record at irregular intervals, so a sample mean would be further off.
    stream, session = decode_fit(FIT / name)
    m = analyse_session(stream, summary_of(session, "cycling"), hrmax=190.0)
    assert m.mean_hr == pytest.approx(session["avg_heart_rate"], abs=1.5)
    assert abs(np.nanmean(stream["hr"]) - session["avg_heart_rate"]) > abs(m.mean_hr - session["avg_heart_rate"])


def test_long_hard_ride_is_prolonged_strenuous_and_hand_checked_flags() -> None:
    # garmin-edge-500: 3 h 31 min elapsed (2 h 57 min moving), device average HR 162, max 189.
    stream, session = decode_fit(FIT / "garmin-edge-500-activity.fit")
    m = analyse_session(stream, summary_of(session, "cycling"), hrmax=190.0, resting_hr=50.0, sex="male")
    assert m.duration_s == pytest.approx(10641.06)
    assert m.is_prolonged_strenuous is True  # > 2 h, and 162 bpm average is far above 50 + 0.566 x 140 = 129 bpm
    assert m.vo2_60_hr == pytest.approx(50 + (27 - 3.5) / (45 - 3.5) * 140)
    assert m.is_moderate_cardio is False
    assert m.intensity_class == "vigorous"
    assert m.family == "endurance"
    assert m.classified_from == "hr"
    assert m.heat_class == "none"  # mean device temperature ~23 C
    assert 22 < m.avg_temp_c < 24


def test_zero_hr_file_is_all_dropouts_and_classified_from_duration() -> None:
    # null_compressed_speed_dist.fit writes heart_rate = 0 throughout (a strap that was not connected).
    stream, session = decode_fit(FIT / "null_compressed_speed_dist.fit")
    assert np.all(stream["hr"] == 0)
    m = analyse_session(stream, summary_of(session, "cycling"), hrmax=190.0)
    assert m.hr_quality == 0.0
    assert m.n_dropouts == len(stream["hr"])
    assert m.classified_from == "duration"
    assert m.is_prolonged_strenuous is False  # 30 min: ruled out by duration alone
    assert m.is_moderate_cardio is None  # 30 min endurance: intensity unknown
    assert m.intensity_class is None


def test_no_hr_classification_from_rpe_and_none() -> None:
    base = {"id": 3, "sport": "running", "start_time": pd.Timestamp("2024-05-01 06:00", tz="UTC"),
            "moving_time_s": 40 * 60}
    m = analyse_session({}, {**base, "perceived_exertion": 3.0}, hrmax=190.0)
    assert (m.classified_from, m.intensity_class, m.is_moderate_cardio) == ("rpe", "moderate", True)
    m = analyse_session({}, {**base, "perceived_exertion": 8.0, "moving_time_s": 3 * 3600}, hrmax=190.0)
    assert (m.intensity_class, m.is_prolonged_strenuous) == ("very_hard", True)
    m = analyse_session({}, {"id": 4, "sport": "yoga"}, hrmax=None)
    assert m.classified_from == "none" and m.is_moderate_cardio is None and m.family == "mobility"


def test_classify_from_pace_uses_own_hr_sessions() -> None:
    start = pd.Timestamp("2024-05-01 06:00", tz="UTC")
    rows = []
    for i in range(6):  # slow runs are moderate, fast runs are hard
        speed = 2.5 + 0.1 * i
        t = np.arange(0.0, 2400.0)
        hr = np.full(t.shape, 120.0 if i < 3 else 170.0)
        rows.append(analyse_session({"time": t, "hr": hr, "speed": np.full(t.shape, speed)},
                                    {"id": i, "sport": "running", "start_time": start + pd.Timedelta(days=i)},
                                    hrmax=190.0))
    no_hr = analyse_session({}, {"id": 9, "sport": "running", "start_time": start + pd.Timedelta(days=9),
                                 "distance_m": 2.55 * 2400, "moving_time_s": 2400.0}, hrmax=190.0)
    assert no_hr.classified_from == "duration"
    out = classify_from_pace(sessions_frame([*rows, no_hr]))
    last = out[out["activity_id"] == 9].iloc[0]
    assert last["classified_from"] == "pace"
    assert last["intensity_class"] == "moderate"  # its 5 nearest by speed: 3 moderate, 2 hard; median share
    assert bool(last["is_moderate_cardio"]) is True


def test_sport_families_cover_the_vocabulary() -> None:
    families = {s: sport_family(s) for s in SPORTS}
    assert families["running"] == families["swimming"] == "endurance"
    assert families["strength"] == "strength"
    assert families["yoga"] == families["mobility"] == "mobility"
    assert families["other"] == "other"
    assert set(families.values()) <= {"endurance", "strength", "mobility", "other"}


def test_heat_classes_from_summary_temperature() -> None:
    row = {"id": 1, "sport": "running", "moving_time_s": 1800.0}
    assert analyse_session({}, {**row, "avg_temp_c": 31.0}, 190.0).heat_class == "hot"
    assert analyse_session({}, {**row, "avg_temp_c": 25.0}, 190.0).heat_class == "warm"
    assert analyse_session({}, {**row, "avg_temp_c": 24.9}, 190.0).heat_class == "none"
    assert analyse_session({}, row, 190.0).heat_class is None


def test_karvonen_zones_need_resting_hr() -> None:
    t = np.arange(0.0, 601.0)
    hr = np.full(t.shape, 130.0)  # 130/190 = 68% HRmax (zone 2); (130-50)/(140) = 57% HRR (zone 1)
    row = {"id": 1, "sport": "running"}
    assert np.argmax(analyse_session({"time": t, "hr": hr}, row, 190.0, zone_basis="hrr").zone_s) == 2
    m = analyse_session({"time": t, "hr": hr}, row, 190.0, resting_hr=50.0, zone_basis="hrr")
    assert m.zone_basis == "hrr" and np.argmax(m.zone_s) == 1


def test_vo2_conversion_documented_values() -> None:
    assert vo2_60_hr(200.0, None) == pytest.approx(0.754 * 200)
    assert vo2_60_hr(190.0, 60.0) == pytest.approx(60 + 0.5663 * 130, abs=0.05)


streams = st.lists(
    st.tuples(st.floats(0.2, 30.0), st.one_of(st.just(math.nan), st.floats(0.0, 250.0))), min_size=2, max_size=80
)


@settings(max_examples=60, deadline=None)
@given(streams, st.floats(150.0, 210.0))
def test_zone_times_sum_to_hr_covered_time(samples: list[tuple[float, float]], hrmax: float) -> None:
    time = np.cumsum([dt for dt, _ in samples])
    hr = np.array([h for _, h in samples])
    m = analyse_session({"time": time, "hr": hr}, {"id": 1, "sport": "running"}, hrmax)
    zones, hr_s, _ = loop_zones(time, hr, hrmax)
    assert sum(m.zone_s) == pytest.approx(m.hr_time_s, abs=1e-6)
    assert m.hr_time_s == pytest.approx(hr_s, abs=1e-6)
    assert 0.0 <= m.hr_quality <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.floats(60.0, 185.0), st.floats(0.5, 20.0), st.sampled_from(["male", "female", None]))
def test_trimp_rises_with_heart_rate(hr: float, delta: float, sex: Any) -> None:
    t = np.arange(0.0, 1801.0)
    low = analyse_session({"time": t, "hr": np.full(t.shape, hr)}, {"id": 1, "sport": "running"}, 190.0,
                          resting_hr=50.0, sex=sex)
    high = analyse_session({"time": t, "hr": np.full(t.shape, hr + delta)}, {"id": 1, "sport": "running"}, 190.0,
                           resting_hr=50.0, sex=sex)
    assert high.trimp_banister > low.trimp_banister
    assert high.trimp_edwards >= low.trimp_edwards


def test_banister_hand_computed() -> None:
    # 30 min at 155 bpm, HRrest 50, HRmax 190: dHR = 0.75; men 30 x 0.75 x 0.64 e^(1.44), women 0.86 e^(1.2525).
    t = np.arange(0.0, 1801.0)
    stream = {"time": t, "hr": np.full(t.shape, 155.0)}
    men = 30 * 0.75 * 0.64 * math.exp(1.92 * 0.75)
    women = 30 * 0.75 * 0.86 * math.exp(1.67 * 0.75)
    for sex, expected in (("male", men), ("female", women), (None, (men + women) / 2)):
        m = analyse_session(stream, {"id": 1, "sport": "running"}, 190.0, resting_hr=50.0, sex=sex)
        assert m.trimp_banister == pytest.approx(expected)
    assert analyse_session(stream, {"id": 1, "sport": "running"}, 190.0).trimp_banister is None


@pytest.mark.parametrize("name", ["activity-small-fenix2-run.fit", "sample-activity.fit"])
def test_same_metrics_from_our_fit_reader(name: str) -> None:
    # The project's own reader must feed the analysis the same HR and time as fitdecode does.
    from dataclasses import asdict

    from gutstride.ingest.activities.fit import read_fit

    decoded = read_fit((FIT / name).read_bytes(), name)
    activity = decoded.activities[0]
    ours = analyse_session(activity.stream, {"id": 1, **asdict(activity.summary)}, hrmax=190.0, resting_hr=50.0)
    stream, session = decode_fit(FIT / name)
    ref = analyse_session(stream, summary_of(session, activity.summary.sport), hrmax=190.0, resting_hr=50.0)
    assert ours.zone_s == pytest.approx(ref.zone_s)
    assert ours.trimp_banister == pytest.approx(ref.trimp_banister)
    assert ours.duration_s == pytest.approx(ref.duration_s)
