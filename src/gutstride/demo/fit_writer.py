"""A small FIT encoder: one activity (file_id, device_info, start/stop events, records, a lap, a session, and the
activity message with its local time), for the demo athlete and for round-trip tests of the decoder.

Message and field numbers, base types, scales and offsets come from Garmin's profile
(:mod:`gutstride.ingest.activities.fit_profile`): ``raw = round((value + offset) * scale)``. A NaN, or a value the
base type cannot hold, is written as the base type's invalid sentinel. Positions are written in semicircles,
``degrees * 2**31 / 180``.
"""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import numpy as np

from gutstride.errors import BadInputError
from gutstride.ingest.activities import fit_profile as prof
from gutstride.ingest.activities.fit import fit_crc
from gutstride.ingest.activities.fit_summary import FIT_EPOCH_S, SPORT_MAP

#: sample column -> record field name in the profile
_RECORD_FIELDS = {
    "hr": "heart_rate", "distance": "distance", "speed": "speed", "altitude": "altitude",
    "temperature": "temperature", "cadence": "cadence", "power": "power", "lat": "position_lat",
    "lon": "position_long",
}
_DEVELOPMENT = "development"  # the profile's manufacturer name for unregistered makers
_PROFILE_VERSION = 2100


def _fit_sport(sport: str, sub_sport: str | None) -> tuple[int, int]:
    """FIT (sport, sub_sport) numbers for one of our sports (see SPORT_MAP) or a FIT sport name."""
    fit_sport, fit_sub = next(((s, sub) for s, sub, ours in SPORT_MAP if ours == sport), (sport, None))
    try:
        sport_num = prof.enum_value("sport", fit_sport)
    except KeyError:
        sport_num = prof.enum_value("sport", "generic")
    sub = sub_sport or fit_sub or "generic"
    try:
        return sport_num, prof.enum_value("sub_sport", sub)
    except KeyError as exc:
        raise BadInputError(f"unknown FIT sub_sport {sub!r}") from exc


def _raw(values: np.ndarray, info: prof.FieldInfo) -> np.ndarray:
    """Physical values -> raw integers of the field's base type; NaN or out of range -> invalid sentinel."""
    _, code, _, sentinel = prof.BASE_TYPES[info.base_type]
    invalid = 0 if sentinel is None else sentinel
    dtype = np.dtype("<" + code)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    raw = np.round((np.asarray(values, dtype=np.float64) + info.offset) * info.scale)
    bad = ~np.isfinite(raw) | (raw < lo) | (raw > hi) | (raw == invalid)
    return np.where(bad, invalid, raw).astype(dtype)


class _Encoder:
    """Collects definition and data messages (little-endian, normal headers)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def table(self, local: int, message: str, columns: dict[str, np.ndarray | str]) -> None:
        """Write a definition for ``message`` and one data message per row of ``columns``.

        Numeric columns hold physical values (one per row); a str column is a fixed string for every row.
        """
        info = prof.message(prof.message_num(message))
        assert info is not None
        fields: list[tuple[int, int, int]] = []
        dtype_fields: list[tuple[str, str]] = [("header", "u1")]
        data: dict[str, np.ndarray | bytes] = {}
        n = next(len(v) for v in columns.values() if not isinstance(v, str))
        for name, values in columns.items():
            field = info.fields[info.field_num(name)]
            if isinstance(values, str):
                encoded = values.encode("utf-8")[:63] + b"\0"
                fields.append((field.num, len(encoded), prof.STRING))
                dtype_fields.append((name, f"S{len(encoded)}"))
                data[name] = encoded
                continue
            raw = _raw(values, field)
            fields.append((field.num, raw.dtype.itemsize, field.base_type | (0x80 if raw.dtype.itemsize > 1 else 0)))
            dtype_fields.append((name, raw.dtype.str))
            data[name] = raw
        definition = bytes([0x40 | local, 0, 0]) + struct.pack("<HB", info.num, len(fields))
        self.parts.append(definition + b"".join(bytes(f) for f in fields))
        rows = np.zeros(n, dtype=np.dtype(dtype_fields))
        rows["header"] = local
        for name, content in data.items():
            rows[name] = content
        self.parts.append(rows.tobytes())

    def file(self) -> bytes:
        body = b"".join(self.parts)
        header = struct.pack("<BBHI4s", 14, 0x20, _PROFILE_VERSION, len(body), b".FIT")
        header += struct.pack("<H", fit_crc(header))
        out = header + body
        return out + struct.pack("<H", fit_crc(out))


def _one(value: float | None) -> np.ndarray:
    return np.array([np.nan if value is None else value], dtype=np.float64)


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def write_activity_fit(path_or_none: str | Path | None, start_time: datetime, samples: dict[str, np.ndarray],
                       sport: str, sub_sport: str | None = None, device: str = "gutstride demo",
                       local_offset_s: int = 0) -> bytes:
    """Encode one activity as a FIT file; write it to ``path_or_none`` unless None; return the bytes.

    Parameters
    ----------
    path_or_none : str, Path or None
        Where to write the file, or None to only return the bytes.
    start_time : datetime
        The start, timezone-aware.
    samples : dict of str to numpy arrays
        Equal-length columns: ``time`` (seconds since ``start_time``; 0, 1, 2, ... if absent) and any of
        ``hr``, ``speed`` (m/s), ``distance`` (m), ``cadence``, ``altitude`` (m), ``temperature`` (deg C),
        ``power`` (W), ``lat``, ``lon`` (degrees). NaN = not recorded.
    sport : str
        One of our sports (:data:`gutstride.model.activity.SPORTS`) or a FIT sport name.
    sub_sport : str, optional
        A FIT sub_sport name overriding the one implied by ``sport``.
    device : str
        Written as the product name of the file creator (manufacturer "development").
    local_offset_s : int
        Local time minus UTC, stored in the activity message's ``local_timestamp``.
    """
    if start_time.tzinfo is None:
        raise BadInputError("start_time must be timezone-aware")
    unknown = set(samples) - set(_RECORD_FIELDS) - {"time"}
    if unknown:
        raise BadInputError(f"unknown sample columns: {sorted(unknown)}")
    lengths = {len(v) for v in samples.values()}
    if len(lengths) > 1:
        raise BadInputError("sample columns differ in length")
    n = lengths.pop() if lengths else 0
    columns = {k: np.asarray(v, dtype=np.float64) for k, v in samples.items()}
    start = float(round(start_time.timestamp())) - FIT_EPOCH_S
    elapsed = columns.get("time", np.arange(n, dtype=np.float64))
    stamps = start + elapsed
    end = float(stamps[-1]) if n else start
    duration = end - start
    sport_num, sub_num = _fit_sport(sport, sub_sport)
    manufacturer = prof.enum_value("manufacturer", _DEVELOPMENT)

    hr = _finite(columns.get("hr", np.zeros(0)))
    hr = hr[hr > 0]
    distance = _finite(columns.get("distance", np.zeros(0)))
    altitude = _finite(columns.get("altitude", np.zeros(0)))
    temperature = _finite(columns.get("temperature", np.zeros(0)))
    totals = {
        "start_time": _one(start), "total_elapsed_time": _one(duration), "total_timer_time": _one(duration),
        "total_distance": _one(float(distance.max()) if len(distance) else None),
        "avg_heart_rate": _one(float(hr.mean()) if len(hr) else None),
        "max_heart_rate": _one(float(hr.max()) if len(hr) else None),
    }

    enc = _Encoder()
    enc.table(0, "file_id", {"type": _one(prof.enum_value("file", "activity")), "manufacturer": _one(manufacturer),
                             "product": _one(0), "time_created": _one(start), "product_name": device})
    enc.table(1, "device_info", {"timestamp": _one(start), "device_index": _one(0),
                                 "manufacturer": _one(manufacturer), "product": _one(0), "product_name": device})
    timer = prof.enum_value("event", "timer")
    enc.table(2, "event", {"timestamp": _one(start), "event": _one(timer),
                           "event_type": _one(prof.enum_value("event_type", "start"))})
    record: dict[str, np.ndarray | str] = {"timestamp": stamps}
    for column, name in _RECORD_FIELDS.items():
        if column in columns:
            values = columns[column]
            record[name] = values * (2**31 / 180.0) if column in ("lat", "lon") else values
    if n:
        enc.table(3, "record", record)
    enc.table(2, "event", {"timestamp": _one(end), "event": _one(timer),
                           "event_type": _one(prof.enum_value("event_type", "stop_all"))})
    enc.table(4, "lap", {"timestamp": _one(end), **totals})
    enc.table(5, "session", {
        "timestamp": _one(end), **totals, "sport": _one(sport_num), "sub_sport": _one(sub_num),
        "total_ascent": _one(float(np.clip(np.diff(altitude), 0, None).sum()) if len(altitude) > 1 else None),
        "avg_temperature": _one(float(temperature.mean()) if len(temperature) else None),
        "num_laps": _one(1)})
    enc.table(6, "activity", {"timestamp": _one(end), "total_timer_time": _one(duration), "num_sessions": _one(1),
                              "local_timestamp": _one(end + local_offset_s)})
    data = enc.file()
    if path_or_none is not None:
        Path(path_or_none).write_bytes(data)
    return data
