"""What ``gutstride inspect`` prints of a FIT file, in one compiled pass and without numpy.

:func:`quick_summary` reads the common case, one well-formed activity FIT file, with ``_gutstride_native.fit_inspect``
(a loop over the messages that keeps only what the summary needs: the file type, the sport and session messages,
and per record the heart rate, distance and timestamp) and gives the same values as the full decoder
(:func:`gutstride.ingest.activities.fit.read_fit`, whose summary rules are repeated here from
``fit._summary``): the CLI then starts without numpy (about half of a one-file ``inspect``). Anything else
(trailing bytes that are not a FIT file or zero padding, compressed timestamps, cut-off or corrupt messages,
``compressed_speed_distance`` not stored as bytes, float heart rates, an activity without records, no activity at
all) gives None, and the caller uses the full decoder.

The constants and the sport mapping shared with the full decoder live here, so that this module imports nothing
heavy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from gutstride.ingest.activities import fit_profile as prof

#: Seconds from the Unix epoch to the FIT epoch, 1989-12-31T00:00:00Z.
FIT_EPOCH_S = 631065600
#: FIT date_time values below this are relative (seconds since device power-up).
MIN_DATE_TIME = 0x10000000

#: (FIT sport, FIT sub_sport or None for any) -> gutstride sport. Checked in order; first match wins.
SPORT_MAP: tuple[tuple[str, str | None, str], ...] = (
    ("running", "trail", "trail_running"),
    ("running", "treadmill", "treadmill_running"),
    ("running", "indoor_running", "treadmill_running"),
    ("running", None, "running"),
    ("walking", None, "walking"),
    ("hiking", None, "hiking"),
    ("cycling", "indoor_cycling", "indoor_cycling"),
    ("cycling", "spin", "indoor_cycling"),
    ("cycling", "virtual_activity", "indoor_cycling"),
    ("cycling", None, "cycling"),
    ("e_biking", None, "cycling"),
    ("fitness_equipment", "treadmill", "treadmill_running"),
    ("fitness_equipment", "indoor_cycling", "indoor_cycling"),
    ("fitness_equipment", "indoor_rowing", "rowing"),
    ("fitness_equipment", None, "cross_training"),
    ("swimming", None, "swimming"),
    ("rowing", None, "rowing"),
    ("training", "strength_training", "strength"),
    ("training", "yoga", "yoga"),
    ("training", "flexibility_training", "mobility"),
    ("training", "pilates", "mobility"),
    ("training", None, "cross_training"),
    ("cross_country_skiing", None, "skiing"),
    ("alpine_skiing", None, "skiing"),
    ("snowboarding", None, "skiing"),
)


def map_sport(sport: str | None, sub_sport: str | None) -> str:
    """Map a FIT (sport, sub_sport) pair onto :data:`gutstride.model.activity.SPORTS`."""
    for fit_sport, fit_sub, ours in SPORT_MAP:
        if sport == fit_sport and (fit_sub is None or fit_sub == sub_sport):
            return ours
    return "other"


#: The messages fit_inspect reads (global numbers fixed by the FIT protocol's profile, in the order the C code
#: expects) and the fields read from each, in the order of the rows it returns.
_READ: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("type",)),  # file_id
    (12, ("sport", "sub_sport")),  # sport
    (18, ("start_time", "total_elapsed_time", "total_distance", "sport", "sub_sport")),  # session
    (20, ("heart_rate", "distance", "compressed_speed_distance")),  # record
)


@functools.cache
def _spec() -> tuple[tuple[tuple[int, float, float], ...], ...]:
    """(field number, scale, offset) of every field in :data:`_READ`, from Garmin's profile."""
    out = []
    for num, names in _READ:
        info = prof.message(num)
        assert info is not None
        fields = (info.fields[info.field_num(name)] for name in names)
        out.append(tuple((f.num, f.scale, f.offset) for f in fields))
    return tuple(out)


def _first(values: Iterable[float]) -> float | None:
    """The first finite value, or None."""
    return next((v for v in values if math.isfinite(v)), None)


def numpy_sum(values: list[float]) -> float:
    """The sum of ``values`` in numpy's order (``numpy.sum`` of a float64 array of up to 128 values), so that the
    quick path gives the full decoder's sums to the last bit.

    numpy adds fewer than 8 values left to right from 0; from 8 on, into 8 running sums (value i into sum i mod 8,
    over the whole blocks of 8), combined as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then adds the rest
    left to right. (Above 128 values it splits the array in halves, recursively; callers do not pass that many.)
    """
    n = len(values)
    if n < 8:
        total = 0.0
        for value in values:
            total += value
        return total
    sums = list(values[:8])
    whole = n - n % 8
    for i in range(8, whole, 8):
        for j in range(8):
            sums[j] += values[i + j]
    total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]))
    for value in values[whole:]:
        total += value
    return total


def _sum_or_none(values: Iterable[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return numpy_sum(finite) if finite else None


def quick_summary(data: bytes) -> list[dict[str, Any]] | None:
    """The ``inspect`` values of each activity in a well-formed FIT file, or None to use the full decoder.

    Returns
    -------
    list of dict, or None
        Per activity, in file order: ``sport`` (gutstride's), ``start_time`` and ``end_time`` (aware UTC
        datetimes), ``duration_s``, ``distance_m``, ``n_records``, ``n_hr`` (heart-rate samples above 0),
        ``avg_hr`` and ``max_hr`` (mean and maximum of those samples): what
        :func:`~gutstride.ingest.activities.fit.read_fit`'s activity summaries and streams give, for a file whose
        status is "ok" with no message (before the dispatcher marks undated activities: ``start_time`` None, see
        :mod:`gutstride.ingest.activities.undated`).
    """
    import _gutstride_native as native

    spec = _spec()
    if data[:2] == b"\x1f\x8b" or spec[3][0][1:] != (1.0, 0.0):  # gzip: the dispatcher's; a scaled HR: not exact
        return None
    segments = native.fit_inspect(data, spec)
    if segments is None:
        return None
    out = []
    for files, sports, sessions, n_records, n_hr, hr_sum, hr_max, t_min, t_max, distance_max in segments:
        kind = prof.enum_name("file", _first(row[0] for row in files))
        if kind != "activity" and not (kind is None and n_records):
            continue  # another kind of FIT file in the chain (settings, ...): not listed
        if n_records == 0 or len(sessions) > 128:
            return None
        out.append(_activity(sports, sessions, n_records, n_hr, hr_sum, hr_max, t_min, t_max, distance_max))
    return out or None


def _activity(sports: list[tuple[float, ...]], sessions: list[tuple[float, ...]], n_records: int, n_hr: int,
              hr_sum: float, hr_max: float, t_min: int | None, t_max: int | None,
              distance_max: float) -> dict[str, Any]:
    """One activity's values (see :func:`quick_summary`) from what fit_inspect read of its FIT file (session rows:
    start_time, total_elapsed_time, total_distance, sport, sub_sport); ``start_time`` None when it has no absolute
    start time."""
    if sessions:
        keyed = [row[1] if math.isfinite(row[1]) else -1.0 for row in sessions]
        main = sessions[keyed.index(max(keyed))]  # the longest session (the first of equals)
        sport_raw: float | None = main[3]
        sub_raw: float | None = main[4]
    else:
        sport_raw = sub_raw = None
    if sport_raw is None or not math.isfinite(sport_raw):
        sport_raw, sub_raw = _first(row[0] for row in sports), _first(row[1] for row in sports)
    starts = [row[0] for row in sessions if math.isfinite(row[0])]
    start_fit = min(starts) if starts else None if t_min is None else float(t_min)
    duration = _sum_or_none(row[1] for row in sessions)
    if duration is None and t_min is not None and t_max is not None:
        duration = float(t_max - t_min)
    distance = _sum_or_none(row[2] for row in sessions)
    if distance is None and math.isfinite(distance_max):
        distance = distance_max
    start = None if start_fit is None or start_fit < MIN_DATE_TIME else datetime.fromtimestamp(
        start_fit + FIT_EPOCH_S, tz=UTC)
    return {
        "sport": map_sport(prof.enum_name("sport", sport_raw), prof.enum_name("sub_sport", sub_raw)),
        "start_time": start,
        "end_time": None if start is None or duration is None else start + timedelta(seconds=duration),
        "duration_s": duration,
        "distance_m": distance,
        "n_records": n_records,
        "n_hr": n_hr,
        "avg_hr": hr_sum / n_hr if n_hr else None,
        "max_hr": hr_max if n_hr else None,
    }
