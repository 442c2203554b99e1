"""What ``gutstride inspect`` prints of a FIT file, in one compiled pass and without numpy.

:func:`quick_summary` reads the common case, one well-formed activity FIT file, with ``_gutstride_native.fit_inspect``
(a loop over the messages that keeps only what the summary needs: the file type, the sport and session messages,
and per record the heart rate, distance and timestamp) and gives the same values as the full decoder
(:func:`gutstride.ingest.activities.fit.read_fit`, whose summary rules are repeated here from
``fit._summary``): the CLI then starts without numpy (about half of a one-file ``inspect``). Anything else
(chained FIT files or trailing bytes, compressed timestamps, cut-off or corrupt messages, records with
``compressed_speed_distance``, more than two sessions, no records, no absolute start time, another file type)
gives None, and the caller uses the full decoder.

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


def _sum_of_two(values: Iterable[float]) -> tuple[bool, float | None]:
    """(usable, sum of the finite values or None). Not usable with more than two: numpy sums three or more in a
    different order than left to right, and the values must be the full decoder's to the last bit."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) > 2:
        return False, None
    return True, (finite[0] + finite[1] if len(finite) == 2 else finite[0]) if finite else None


def quick_summary(data: bytes) -> dict[str, Any] | None:
    """The ``inspect`` values of a well-formed single-activity FIT file, or None to use the full decoder.

    Returns
    -------
    dict or None
        ``sport`` (gutstride's), ``start_time`` and ``end_time`` (aware UTC datetimes), ``duration_s``,
        ``distance_m``, ``n_records``, ``n_hr`` (heart-rate samples above 0), ``avg_hr`` and ``max_hr`` (mean
        and maximum of those samples): what :func:`~gutstride.ingest.activities.fit.read_fit`'s activity summary
        and stream give, and the file's status is "ok" with no message.
    """
    import _gutstride_native as native

    spec = _spec()
    hr_field = spec[3][0]
    if data[:2] == b"\x1f\x8b" or hr_field[1:] != (1.0, 0.0):  # gzip: the dispatcher's; a scaled HR: not exact
        return None
    result = native.fit_inspect(data, spec)
    if result is None:
        return None
    files, sports, sessions, n_records, n_hr, hr_sum, hr_max, t_min, t_max, distance_max = result
    kind = prof.enum_name("file", _first(row[0] for row in files))
    if n_records == 0 or kind not in (None, "activity"):
        return None
    if sessions:
        keyed = [row[1] if math.isfinite(row[1]) else -1.0 for row in sessions]
        main = sessions[keyed.index(max(keyed))]
        sport_raw, sub_raw = main[3], main[4]
    else:
        sport_raw = sub_raw = None
    if sport_raw is None or not math.isfinite(sport_raw):
        sport_raw, sub_raw = _first(row[0] for row in sports), _first(row[1] for row in sports)
    starts = [row[0] for row in sessions if math.isfinite(row[0])]
    start_fit = min(starts) if starts else None if t_min is None else float(t_min)
    if start_fit is None or start_fit < MIN_DATE_TIME:
        return None  # undated: "partial", the dispatcher's message
    usable_duration, duration = _sum_of_two(row[1] for row in sessions)
    usable_distance, distance = _sum_of_two(row[2] for row in sessions)
    if not (usable_duration and usable_distance):
        return None
    if duration is None and t_min is not None:
        duration = float(t_max - t_min)
    if distance is None and math.isfinite(distance_max):
        distance = distance_max
    start = datetime.fromtimestamp(start_fit + FIT_EPOCH_S, tz=UTC)
    return {
        "sport": map_sport(prof.enum_name("sport", sport_raw), prof.enum_name("sub_sport", sub_raw)),
        "start_time": start,
        "end_time": None if duration is None else start + timedelta(seconds=duration),
        "duration_s": duration,
        "distance_m": distance,
        "n_records": n_records,
        "n_hr": n_hr,
        "avg_hr": hr_sum / n_hr if n_hr else None,
        "max_hr": hr_max if n_hr else None,
    }
