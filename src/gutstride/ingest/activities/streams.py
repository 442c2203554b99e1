"""Helpers shared by the activity readers: build a stream, summarise it, parse times, name sports.

Every reader (GPX, TCX, FIT, ...) gathers its samples as plain lists or arrays, then calls
:func:`stream_from_columns` to get a stream with every column of :data:`model.STREAM_COLUMNS`, sorted by time,
and :func:`summarise_stream` to fill the summary fields the file did not state itself.

Rules used here (documented because they change the numbers):

* **Moving time.** The interval between samples ``i-1`` and ``i`` counts as moving when the speed at sample
  ``i`` is above :data:`MOVING_SPEED_MS` (0.5 m/s, a slow walk is about 1.2 m/s), or, where speed is missing,
  when the distance gained over the interval divided by its length is above that same threshold. So GPS jitter
  of a few metres during a long stop does not count as moving.
* **Ascent.** Sum of climbs with a hysteresis of :data:`ASCENT_HYSTERESIS_M` (2 m): the reference altitude
  follows the track down at once, but a rise is only counted once it exceeds the reference by more than the
  hysteresis. Noise smaller than 2 m is ignored; each climb may be under-counted by at most 2 m.
* **Heart rate.** Only samples with ``hr > 0`` count for ``avg_hr``, ``max_hr`` and ``n_hr``. Gaps stay NaN.
* **Apple-style heart rate.** Some devices (Apple Watch exports) write HR only when it changes.
  :func:`carry_forward_hr` repeats the last value over a gap of at most ``max_gap_s`` (5 s by default) after
  the sample that carried it; longer gaps stay NaN.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from gutstride.model.activity import STREAM_COLUMNS, ActivitySummary

MOVING_SPEED_MS = 0.5
ASCENT_HYSTERESIS_M = 2.0
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


def stream_from_columns(columns: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """Build a stream with every column of ``STREAM_COLUMNS`` from the columns a reader found.

    Parameters
    ----------
    columns : dict of str to list or ndarray
        Any subset of the stream columns, each of length ``n``; ``None`` entries become NaN. Unknown names are
        an error (a typo would silently lose data).
    n : int
        Number of samples.

    Returns
    -------
    dict of str to ndarray
        float64 columns, all of length ``n``, rows sorted by ``time`` (stable, so equal times keep file order;
        rows with a NaN time go last).
    """
    unknown = set(columns) - set(STREAM_COLUMNS)
    if unknown:
        raise ValueError(f"unknown stream columns: {sorted(unknown)}")
    out: dict[str, np.ndarray] = {}
    for name in STREAM_COLUMNS:
        values = columns.get(name)
        if values is None:
            out[name] = np.full(n, np.nan)
            continue
        if isinstance(values, np.ndarray):
            arr = values.astype(np.float64, copy=True)
        else:
            arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        if arr.shape != (n,):
            raise ValueError(f"stream column {name!r} has {arr.shape[0]} values, expected {n}")
        out[name] = arr
    time = out["time"]
    if n > 1 and not bool(np.all(time[1:] >= time[:-1])):
        order = np.argsort(time, kind="stable")
        out = {name: col[order] for name, col in out.items()}
    return out


def _first_last(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite[0]), float(finite[-1])


def moving_time(time: np.ndarray, speed: np.ndarray, distance: np.ndarray,
                threshold_ms: float = MOVING_SPEED_MS) -> float:
    """Seconds spent moving (see the module docstring for the rule).

    An interval ``dt_i = t_i - t_{i-1}`` counts when ``speed_i > threshold``, or, where ``speed_i`` is NaN,
    when ``(d_i - d_{i-1}) / dt_i > threshold``.
    """
    if time.size < 2:
        return 0.0
    dt = np.diff(time)
    valid = np.isfinite(dt) & (dt > 0)
    sp = speed[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.diff(distance) / dt
    moving = np.where(np.isfinite(sp), sp > threshold_ms, np.isfinite(rate) & (rate > threshold_ms))
    return float(np.sum(dt[valid & moving]))


def ascent(altitude: np.ndarray, hysteresis_m: float = ASCENT_HYSTERESIS_M) -> float | None:
    """Total climb in metres with a hysteresis (see the module docstring); None without altitude."""
    alt = altitude[np.isfinite(altitude)]
    if alt.size == 0:
        return None
    total = 0.0
    ref = float(alt[0])
    for a in alt.tolist():
        if a < ref:
            ref = a
        elif a - ref > hysteresis_m:
            total += a - ref
            ref = a
    return total


def path_distance(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cumulative great-circle distance along a track, metres (haversine formula, spherical Earth).

    ``d = 2 R asin(sqrt(sin^2(dphi/2) + cos(phi1) cos(phi2) sin^2(dlambda/2)))`` with ``R`` the mean Earth
    radius. Samples without a position get NaN; the distance carries on from the last known position.
    """
    n = lat.size
    out = np.full(n, np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    phi = np.radians(lat[idx])
    lam = np.radians(lon[idx])
    h = np.sin(np.diff(phi) / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(np.diff(lam) / 2) ** 2
    step = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    out[idx] = np.concatenate([[0.0], np.cumsum(step)])
    return out


def summarise_stream(stream: dict[str, np.ndarray], summary: ActivitySummary) -> ActivitySummary:
    """Fill the summary fields that are still unset from a stream, and return the summary.

    Fields filled where None: ``start_time`` (first time), ``duration_s`` (last time minus first),
    ``moving_time_s`` (:func:`moving_time`), ``distance_m`` (last minus first finite cumulative distance),
    ``avg_hr``/``max_hr`` (over samples with hr > 0), ``ascent_m`` (:func:`ascent`), ``avg_temp_c`` (mean of
    recorded temperatures). ``n_hr`` (samples with hr > 0) and ``n_records`` are set when still 0.
    Works for any reader's stream (GPX, TCX, FIT).
    """
    time = stream.get("time", np.empty(0))
    n = int(time.size)
    if summary.n_records == 0:
        summary.n_records = n
    span = _first_last(time)
    if span is not None:
        if summary.start_time is None:
            summary.start_time = datetime.fromtimestamp(span[0], tz=UTC)
        if summary.duration_s is None:
            summary.duration_s = span[1] - span[0]
    nan = np.full(n, np.nan)
    speed = stream.get("speed", nan)
    distance = stream.get("distance", nan)
    if summary.moving_time_s is None and n > 1 and (np.isfinite(speed).any() or np.isfinite(distance).any()):
        summary.moving_time_s = moving_time(time, speed, distance)
    if summary.distance_m is None:
        d = _first_last(distance)
        if d is not None:
            summary.distance_m = d[1] - d[0]
    hr = stream.get("hr", nan)
    with np.errstate(invalid="ignore"):
        good = hr[np.isfinite(hr) & (hr > 0)]
    if summary.n_hr == 0:
        summary.n_hr = int(good.size)
    if good.size:
        if summary.avg_hr is None:
            summary.avg_hr = float(good.mean())
        if summary.max_hr is None:
            summary.max_hr = float(good.max())
    if summary.ascent_m is None:
        summary.ascent_m = ascent(stream.get("altitude", nan))
    temp = stream.get("temperature", nan)
    if summary.avg_temp_c is None and np.isfinite(temp).any():
        summary.avg_temp_c = float(np.nanmean(temp))
    return summary


def carry_forward_hr(time: np.ndarray, hr: np.ndarray, max_gap_s: float = 5.0) -> np.ndarray:
    """Carry heart rate written only on change (Apple Watch style) forward over short gaps.

    A NaN sample takes the last recorded value when it lies at most ``max_gap_s`` seconds (default 5 s) after
    the sample that recorded it; beyond that it stays NaN, so a real dropout stays a gap. Returns a new array.
    """
    out = np.asarray(hr, dtype=np.float64).copy()
    t = np.asarray(time, dtype=np.float64)
    have = np.isfinite(out)
    if not have.any():
        return out
    idx = np.where(have, np.arange(out.size), -1)
    last = np.maximum.accumulate(idx)
    fill = (~have) & (last >= 0)
    src = last[fill]
    near = (t[fill] - t[src]) <= max_gap_s
    targets = np.flatnonzero(fill)[near]
    out[targets] = out[src[near]]
    return out


_ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def iso_times_to_epoch(texts: Sequence[str | None]) -> tuple[np.ndarray, int, int]:
    """Parse ISO 8601 timestamps into float seconds since the epoch, UTC.

    Returns ``(seconds, n_naive, n_bad)``: times without a zone are taken as UTC (counted in ``n_naive`` so the
    reader can warn); unparseable or missing ones become NaN (counted in ``n_bad``). The common case, every time
    ending in "Z", is parsed vectorised by numpy; anything else goes through :meth:`datetime.fromisoformat`.
    """
    n = len(texts)
    match = _ISO_Z.fullmatch
    if n and all(t is not None and match(t) for t in texts):
        try:  # the pattern admits month 13 or second 61, which numpy rejects: then take the slow path
            stamps = np.array([t[:-1] for t in texts if t is not None], dtype="datetime64[us]")
            return stamps.astype(np.int64) / 1e6, 0, 0
        except ValueError:
            pass
    out = np.full(n, np.nan)
    n_naive = n_bad = 0
    for i, text in enumerate(texts):
        if text is None:
            n_bad += 1
            continue
        try:
            dt = datetime.fromisoformat(text.strip())
        except ValueError:
            n_bad += 1
            continue
        if dt.tzinfo is None:
            n_naive += 1
            dt = dt.replace(tzinfo=UTC)
        out[i] = dt.timestamp()
    return out, n_naive, n_bad


_SPORT_WORDS: dict[str, str] = {
    "running": "running", "run": "running", "trail_running": "trail_running", "trailrun": "trail_running",
    "treadmill_running": "treadmill_running", "treadmill": "treadmill_running", "virtualrun": "treadmill_running",
    "walking": "walking", "walk": "walking", "hiking": "hiking", "hike": "hiking",
    "cycling": "cycling", "biking": "cycling", "bike": "cycling", "ride": "cycling", "road_biking": "cycling",
    "mountain_biking": "cycling", "gravel_cycling": "cycling", "ebikeride": "cycling",
    "indoor_cycling": "indoor_cycling", "virtualride": "indoor_cycling", "virtual_ride": "indoor_cycling",
    "swimming": "swimming", "swim": "swimming", "lap_swimming": "swimming", "open_water_swimming": "swimming",
    "rowing": "rowing", "row": "rowing", "indoor_rowing": "rowing",
    "strength": "strength", "strength_training": "strength", "weighttraining": "strength",
    "weight_training": "strength", "yoga": "yoga", "pilates": "mobility", "mobility": "mobility",
    "cross_training": "cross_training", "crossfit": "cross_training", "workout": "cross_training",
    "skiing": "skiing", "alpineski": "skiing", "nordicski": "skiing", "backcountryski": "skiing",
    "cross_country_skiing": "skiing", "alpine_skiing": "skiing",
}

#: Strava's numeric activity-type codes as written in the <type> of its GPX exports. Only codes checked against
#: the same activity exported by Garmin Connect are listed (1: the sweatpy rides).
_STRAVA_TYPE_CODES = {"1": "cycling"}


def normalise_sport(name: str | None) -> str:
    """Map a sport name as written by a device or platform onto the :data:`model.SPORTS` vocabulary.

    Case, spaces and hyphens are ignored ("Trail Running", "trail-running", "TrailRun"); unknown names
    give "other".
    """
    if not name:
        return "other"
    text = name.strip()
    if text in _STRAVA_TYPE_CODES:
        return _STRAVA_TYPE_CODES[text]
    key = re.sub(r"[\s\-]+", "_", text.lower())
    if key in _SPORT_WORDS:
        return _SPORT_WORDS[key]
    squashed = key.replace("_", "")
    for word, sport in _SPORT_WORDS.items():
        if word.replace("_", "") == squashed:
            return sport
    return "other"
