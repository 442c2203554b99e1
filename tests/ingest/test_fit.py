"""FIT decoder: values against fitdecode, garmin-fit-sdk and the fitparse record CSVs; statuses of every file."""

from __future__ import annotations

import csv
import functools
import io
import struct
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import fitdecode
import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Stream
from garmin_fit_sdk.crc_calculator import CrcCalculator
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.ingest.activities.fit import FIT_EPOCH_S, fit_crc, map_sport, read_fit
from gutstride.model.activity import SPORTS, STREAM_COLUMNS

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"
FIT_FILES = sorted(p for p in ACTIVITIES.rglob("*") if p.suffix.lower() == ".fit")
FITPARSE = ACTIVITIES / "fit-fitparse"


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# ----------------------------------------------------------------------------- statuses

#: file -> (status, number of activities, a phrase the message or warnings must contain)
EXPECTED_STATUS: dict[str, tuple[str, int, str]] = {
    "fit-fitdecode/garmin-fr935-cr.fit": ("ok", 1, ""),
    "fit-fitparse/2013-02-06-12-11-14.fit": ("ok", 1, ""),
    "fit-fitparse/2015-10-13-08-43-15.fit": ("ok", 1, ""),
    "fit-fitparse/20170518-191602-1740899583.fit": ("ok", 1, ""),
    "fit-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit": ("ok", 1, ""),
    "fit-fitparse/Activity.fit": ("ok", 1, ""),
    "fit-fitparse/DeveloperData.fit": ("ok", 1, ""),
    "fit-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit": ("ok", 1, ""),
    "fit-fitparse/MonitoringFile.fit": ("ok", 0, "type monitoring_b: no activity"),
    "fit-fitparse/Settings.fit": ("ok", 0, "type settings: no activity"),
    "fit-fitparse/Settings2.fit": ("ok", 0, "type settings: no activity"),
    "fit-fitparse/nametest.FIT": ("ok", 0, "type settings: no activity"),
    "fit-fitparse/WeightScaleMultiUser.fit": ("ok", 0, "type weight: no activity"),
    "fit-fitparse/WeightScaleSingleUser.fit": ("ok", 0, "type weight: no activity"),
    "fit-fitparse/WorkoutCustomTargetValues.fit": ("ok", 0, "type workout: no activity"),
    "fit-fitparse/WorkoutIndividualSteps.fit": ("ok", 0, "type workout: no activity"),
    "fit-fitparse/WorkoutRepeatGreaterThanStep.fit": ("ok", 0, "type workout: no activity"),
    "fit-fitparse/WorkoutRepeatSteps.fit": ("ok", 0, "type workout: no activity"),
    "fit-fitparse/activity-activity-filecrc.fit": ("ok", 2, "file CRC mismatch"),
    "fit-fitparse/activity-filecrc.fit": ("ok", 1, "file CRC mismatch"),
    "fit-fitparse/activity-large-fenxi2-multisport.fit": ("ok", 1, ""),
    "fit-fitparse/activity-settings-corruptheader.fit": ("partial", 1, "corrupt chained FIT header"),
    "fit-fitparse/activity-settings-nodata.fit": ("partial", 1, "cut off"),
    "fit-fitparse/activity-settings.fit": ("ok", 1, ""),
    "fit-fitparse/activity-small-fenix2-run.fit": ("ok", 1, ""),
    "fit-fitparse/activity-unexpected-eof.fit": ("partial", 1, "unexpected end of file"),
    "fit-fitparse/antfs-dump.63.fit": ("ok", 1, ""),
    "fit-fitparse/compressed-speed-distance.fit": ("ok", 1, ""),
    "fit-fitparse/coros-pace-2-cycling-misaligned-fields.fit": ("ok", 1, ""),
    "fit-fitparse/developer-types-sample.fit": ("ok", 1, ""),
    "fit-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit": ("ok", 1, ""),
    "fit-fitparse/event_timestamp.fit": ("ok", 1, ""),
    "fit-fitparse/garmin-edge-500-activity.fit": ("ok", 1, ""),
    "fit-fitparse/garmin-edge-820-bike.fit": ("ok", 1, ""),
    "fit-fitparse/garmin-fenix-5-bike.fit": ("ok", 1, ""),
    "fit-fitparse/garmin-fenix-5-run.fit": ("ok", 1, ""),
    "fit-fitparse/garmin-fenix-5-walk.fit": ("ok", 1, ""),
    "fit-fitparse/nick.fit": ("partial", 1, "message cut off"),
    "fit-fitparse/null_compressed_speed_dist.fit": ("ok", 1, ""),
    "fit-fitparse/sample-activity-indoor-trainer.fit": ("ok", 1, ""),
    "fit-fitparse/sample-activity.fit": ("ok", 1, ""),
    "fit-fitparse/sample_mulitple_header.fit": ("ok", 1, ""),
    "fit-fitparse/strava-android-app-201.10-b1218918.fit": ("partial", 1, "undefined local message type"),
    "sweatpy/2020-06-01-16-52-40.fit": ("ok", 1, ""),
    "sweatpy/4078723797.fit": ("ok", 1, ""),
    "sweatpy/4801048867.fit": ("ok", 1, ""),
    "sweatpy/6449921903_ACTIVITY.fit": ("ok", 1, ""),
    "sweatpy/6471559601_ACTIVITY.fit": ("ok", 1, ""),
}


def test_status_table_covers_every_fit_file() -> None:
    assert sorted(EXPECTED_STATUS) == sorted(_name(p) for p in FIT_FILES)


@pytest.mark.parametrize("path", FIT_FILES, ids=_name)
def test_status(path: Path) -> None:
    status, n_activities, phrase = EXPECTED_STATUS[_name(path)]
    decoded = read_fit(path.read_bytes(), path.name)
    assert decoded.format == "fit"
    assert decoded.status == status, decoded.message
    assert len(decoded.activities) == n_activities
    assert phrase in decoded.message + " ".join(decoded.warnings)
    if status == "ok" and "CRC" not in phrase:
        assert decoded.warnings == []
    for activity in decoded.activities:
        assert activity.summary.sport in SPORTS
        assert set(STREAM_COLUMNS) <= set(activity.stream)
        assert all(len(v) == activity.summary.n_records for v in activity.stream.values())


@pytest.mark.parametrize(("data", "phrase"), [
    (b"", "not a FIT file"),
    (b"\x0e\x10", "truncated header"),
    (b"hello world, this is text", "not a FIT file"),
    (b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00\x00\x00", "no messages"),
])
def test_error_status(data: bytes, phrase: str) -> None:
    decoded = read_fit(data)
    assert decoded.status == "error"
    assert phrase in decoded.message


def test_truncation_gives_partial_with_the_records_before_the_cut() -> None:
    data = (FITPARSE / "garmin-edge-500-activity.fit").read_bytes()
    whole = read_fit(data).activities[0].stream
    cut = read_fit(data[: len(data) // 2])
    assert cut.status == "partial"
    assert "unexpected end of file" in cut.message
    part = cut.activities[0].stream
    assert 0 < len(part["time"]) < len(whole["time"])
    np.testing.assert_array_equal(part["hr"], whole["hr"][: len(part["hr"])])


# ----------------------------------------------------------------------------- CRC

@given(st.binary(max_size=300))
@settings(max_examples=50, deadline=None)
def test_crc_matches_garmin_sdk(data: bytes) -> None:
    assert fit_crc(data) == CrcCalculator.calculate_crc(data, 0, len(data))


# ----------------------------------------------------------------------------- fitdecode

#: Compare whole files (all 4.3 MB of real FIT files take fitdecode about 15 s); a smaller prefix would compare the
#: cut file, which our decoder reads as a partial one.
PREFIX = 1 << 30


@functools.cache
def _fitdecode(path: Path) -> dict[str, list[fitdecode.FitDataMessage]]:
    """The data messages fitdecode decodes from the first PREFIX bytes (up to its first error; CRC unchecked)."""
    out: dict[str, list[fitdecode.FitDataMessage]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with fitdecode.FitReader(io.BytesIO(path.read_bytes()[:PREFIX]),
                                     check_crc=fitdecode.CrcCheck.DISABLED) as reader:
                for frame in reader:
                    if isinstance(frame, fitdecode.FitDataMessage):
                        out.setdefault(frame.name, []).append(frame)
        except fitdecode.FitError:
            pass
    return out


def _fitdecode_records(path: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for frame in _fitdecode(path).get("record", []):
        values: dict[str, object] = {}
        for f in frame.fields:  # expanded components repeat a name; keep the first value
            if values.get(f.name) is None:
                values[f.name] = f.value
        out.append(values)
    return out


def _fitdecode_messages(path: Path, name: str) -> list[fitdecode.FitDataMessage]:
    assert path.stat().st_size <= PREFIX, "whole file needed"
    return _fitdecode(path).get(name, [])


def _as_epoch(value: object) -> float:
    if value is None:
        return np.nan
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) + FIT_EPOCH_S  # type: ignore[arg-type]


def _column(records: list[dict[str, object]], *names: str) -> np.ndarray:
    out = np.full(len(records), np.nan)
    for i, rec in enumerate(records):
        for name in names:
            value = rec.get(name)
            if isinstance(value, int | float):
                out[i] = float(value)
                break
    return out


def _concat(decoded_activities: list, key: str) -> np.ndarray:  # type: ignore[type-arg]
    return np.concatenate([a.stream[key] for a in decoded_activities]) if decoded_activities else np.zeros(0)


@pytest.mark.parametrize("path", [p for p in FIT_FILES if EXPECTED_STATUS[_name(p)][1]], ids=_name)
def test_records_equal_fitdecode(path: Path) -> None:
    expected = _fitdecode_records(path)
    decoded = read_fit(path.read_bytes()[:PREFIX])
    assert len(_concat(decoded.activities, "time")) == len(expected)
    times = np.array([_as_epoch(r.get("timestamp")) for r in expected])
    np.testing.assert_allclose(_concat(decoded.activities, "time"), times, rtol=0, atol=1e-6)
    checks = {
        "hr": ("heart_rate",),
        "speed": ("enhanced_speed", "speed"),
        "distance": ("distance",),
        "altitude": ("enhanced_altitude", "altitude"),
        "cadence": ("cadence",),
        "power": ("power",),
        "temperature": ("temperature",),
        "lat": ("position_lat",),
        "lon": ("position_long",),
    }
    for ours, theirs in checks.items():
        want = _column(expected, *theirs)
        if theirs[0].startswith("position"):
            want = want * 180.0 / 2**31
        np.testing.assert_allclose(_concat(decoded.activities, ours), want, rtol=0, atol=1e-6, err_msg=ours)


@pytest.mark.parametrize("path", [
    FITPARSE / "developer-types-sample.fit",
    FITPARSE / "20170518-191602-1740899583.fit",
    FITPARSE / "DeveloperData.fit",
    ACTIVITIES / "fit-fitdecode" / "garmin-fr935-cr.fit",
], ids=_name)
def test_developer_fields_equal_fitdecode(path: Path) -> None:
    records = _fitdecode(path).get("record", [])
    stream = read_fit(path.read_bytes()[:PREFIX]).activities[0].stream
    dev_names = {f.name for r in records for f in r.fields
                 if isinstance(f.field, fitdecode.types.DevField) and isinstance(f.value, int | float)}
    assert dev_names, "the file has numeric developer fields"
    for name in dev_names:
        want = np.array([next((float(f.value) for f in r.fields if f.name == name and f.value is not None), np.nan)
                         for r in records])
        np.testing.assert_allclose(stream[f"dev_{name}"], want, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("path", [p for p in FIT_FILES if EXPECTED_STATUS[_name(p)] == ("ok", 1, "")
                                  and p.stat().st_size <= PREFIX], ids=_name)
def test_summary_equals_fitdecode_session(path: Path) -> None:
    sessions = _fitdecode_messages(path, "session")
    summary = read_fit(path.read_bytes()).activities[0].summary
    if not sessions:
        return
    def value(message: fitdecode.FitDataMessage, name: str) -> object:
        return message.get_value(name, fallback=None)

    starts = [value(s, "start_time") for s in sessions]
    if isinstance(starts[0], datetime):
        assert summary.start_time == min(starts)
    elapsed = sum(value(s, "total_elapsed_time") or 0 for s in sessions)
    assert summary.duration_s == pytest.approx(elapsed)
    distance = [value(s, "total_distance") for s in sessions if value(s, "total_distance") is not None]
    assert summary.distance_m == (pytest.approx(sum(distance)) if distance else summary.distance_m)
    max_hr = [value(s, "max_heart_rate") for s in sessions if value(s, "max_heart_rate") is not None]
    if max_hr:
        assert summary.max_hr == max(max_hr)


def test_laps_rr_local_offset_and_device_equal_fitdecode() -> None:
    path = FITPARSE / "garmin-fenix-5-run.fit"
    activity = read_fit(path.read_bytes()).activities[0]
    laps = _fitdecode_messages(path, "lap")
    assert len(laps) > 0
    assert [lap["total_elapsed_time"] for lap in activity.laps] == pytest.approx(
        [lap.get_value("total_elapsed_time") for lap in laps])
    assert [lap["start_time"] for lap in activity.laps] == [lap.get_value("start_time") for lap in laps]
    act = _fitdecode_messages(path, "activity")[0]
    local = act.get_raw_value("local_timestamp") - act.get_raw_value("timestamp")
    assert activity.summary.local_offset_s == local == -7 * 3600
    file_id = _fitdecode_messages(path, "file_id")[0]
    assert activity.summary.device == f"{file_id.get_value('manufacturer')} {file_id.get_value('garmin_product')}"
    hrv = [v for m in _fitdecode_messages(path, "hrv") for v in (m.get_value("time") or ()) if v is not None]
    assert activity.rr_intervals is not None and len(hrv) > 50
    np.testing.assert_allclose(activity.rr_intervals, hrv, atol=1e-9)


# ----------------------------------------------------------------------------- fitparse record CSVs

_TZ = {"PDT": timezone(timedelta(hours=-7)), "PST": timezone(timedelta(hours=-8))}


def _csv_time(text: str) -> float:
    if text.isdigit():
        return float(text) + FIT_EPOCH_S
    parts = text.split()
    naive = datetime.strptime(" ".join(parts[:4] + parts[5:]), "%a %b %d %H:%M:%S %Y")
    return naive.replace(tzinfo=_TZ[parts[4]]).astimezone(UTC).timestamp()


def _csv_float(text: str) -> float:
    text = text.strip()
    return np.nan if text in ("", "null") else float(text)


@pytest.mark.parametrize("path", sorted(FITPARSE.glob("*-records.csv")), ids=lambda p: p.name)
def test_records_equal_fitparse_csv(path: Path) -> None:
    with path.open() as handle:
        rows = list(csv.reader(handle))
    header = [h.strip().split(" [")[0].lower().replace(" ", "_") for h in rows[0]]
    table = {h: [r[i] for r in rows[1:]] for i, h in enumerate(header)}
    fit_path = path.with_name(path.name.replace("-records.csv", ".fit"))
    stream = read_fit(fit_path.read_bytes()).activities[0].stream
    ours = {k: v for k, v in stream.items()}
    time = np.array([_csv_time(t) for t in table["timestamp"]])
    # the CSV lists the records in file order; compressed-speed-distance.fit's CSV leaves out its first record,
    # which holds only a timestamp
    index = np.arange(len(time)) + (len(ours["time"]) - len(time))
    np.testing.assert_array_equal(ours["time"][index], time)
    columns = {"heart_rate": "hr", "speed": "speed", "distance": "distance", "cadence": "cadence",
               "altitude": "altitude", "temperature": "temperature", "position_lat": "lat", "position_long": "lon"}
    for theirs, mine in columns.items():
        if theirs not in table:
            continue
        want = np.array([_csv_float(v) for v in table[theirs]])
        got = ours[mine][index]
        if theirs.startswith("position"):
            got = np.round(got * 2**31 / 180.0)
        # the SDK dump tool that wrote these CSVs logs an invalid cadence as 0 and an invalid position as the
        # last valid one
        if theirs == "cadence":
            got = np.where(np.isnan(got) & (want == 0), 0.0, got)
        if theirs.startswith("position"):
            valid = np.flatnonzero(np.isfinite(got))
            got = got[valid[np.maximum(np.searchsorted(valid, np.arange(len(got)), side="right") - 1, 0)]]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=theirs)


# ----------------------------------------------------------------------------- protocol details by hand

def _definition(local: int, global_num: int, fields: list[tuple[int, int, int]], big: bool) -> bytes:
    order = ">" if big else "<"
    out = bytes([0x40 | local, 0, 1 if big else 0]) + struct.pack(order + "H", global_num) + bytes([len(fields)])
    return out + b"".join(bytes(f) for f in fields)


def _fit_file(body: bytes) -> bytes:
    header = struct.pack("<BBHI4s", 14, 0x20, 2100, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    data = header + body
    return data + struct.pack("<H", fit_crc(data))


def _hand_made_file() -> tuple[bytes, int]:
    """A FIT file with big-endian definitions and compressed-timestamp records (crossing a 32 s rollover)."""
    t0 = 1_000_000_000
    body = _definition(0, 0, [(0, 1, 0x00), (1, 2, 0x84), (4, 4, 0x86)], big=True)
    body += bytes([0x00, 4]) + struct.pack(">HI", 1, t0)
    body += _definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02), (6, 2, 0x84)], big=True)
    body += bytes([0x01]) + struct.pack(">IBH", t0 + 30, 120, 3456)
    body += _definition(2, 20, [(3, 1, 0x02), (6, 2, 0x84)], big=False)
    for i, dt in enumerate((1, 2, 5)):
        offset = (t0 + 30 + dt) & 0x1F
        body += bytes([0x80 | (2 << 5) | offset]) + struct.pack("<BH", 121 + i, 3000 + i)
    return _fit_file(body), t0


def test_big_endian_and_compressed_timestamps_equal_fitdecode() -> None:
    data, t0 = _hand_made_file()
    with fitdecode.FitReader(io.BytesIO(data)) as reader:
        records = [f for f in reader if isinstance(f, fitdecode.FitDataMessage) and f.name == "record"]
    decoded = read_fit(data)
    assert decoded.status == "ok" and decoded.warnings == []
    stream = decoded.activities[0].stream
    assert list(stream["hr"]) == [r.get_value("heart_rate") for r in records] == [120, 121, 122, 123]
    np.testing.assert_allclose(stream["speed"], [r.get_value("speed") for r in records])
    assert list(stream["time"]) == [r.get_value("timestamp").timestamp() for r in records]
    assert list(stream["time"]) == [t0 + 30 + FIT_EPOCH_S + dt for dt in (0, 1, 2, 5)]


def test_big_endian_equals_garmin_sdk() -> None:
    data, _ = _hand_made_file()
    data = data[: data.index(bytes([0x40 | 2]))]  # the SDK does not read compressed timestamps: stop before
    messages, _ = Decoder(Stream.from_byte_array(bytearray(data))).read(merge_heart_rates=False)
    record = messages["record_mesgs"][0]
    stream = read_fit(data).activities[0].stream
    assert stream["hr"][0] == record["heart_rate"]
    assert stream["speed"][0] == pytest.approx(record["enhanced_speed"])
    assert stream["time"][0] == record["timestamp"].timestamp()


def test_bad_header_crc_is_a_warning() -> None:
    data = bytearray((FITPARSE / "garmin-fenix-5-run.fit").read_bytes())
    assert data[0] == 14
    data[12] ^= 0xFF
    decoded = read_fit(bytes(data))
    assert decoded.status == "ok"
    assert any("header CRC" in w for w in decoded.warnings)


def test_sport_mapping_lands_in_vocabulary() -> None:
    assert map_sport("running", "trail") == "trail_running"
    assert map_sport("cycling", "indoor_cycling") == "indoor_cycling"
    assert map_sport("training", "strength_training") == "strength"
    assert map_sport("golf", None) == "other"


def test_summary_falls_back_to_the_records_without_a_session() -> None:
    # keep only file_id and record messages of a hand-made file: no session, lap or activity
    t0 = 1_000_000_000
    body = _definition(0, 0, [(0, 1, 0x00)], big=False) + bytes([0x00, 4])
    body += _definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02), (6, 2, 0x84), (5, 4, 0x86)], big=False)
    rows = [(0, 100, 3000, 0), (1, 110, 3000, 300), (2, 0, 3000, 600), (30, 120, 0, 900), (31, 130, 200, 950)]
    for dt, hr, speed, dist in rows:
        body += bytes([0x01]) + struct.pack("<IBHI", t0 + dt, hr, speed, dist)
    summary = read_fit(_fit_file(body)).activities[0].summary
    assert summary.start_time == datetime.fromtimestamp(t0 + FIT_EPOCH_S, tz=UTC)
    assert summary.duration_s == 31
    assert summary.moving_time_s == 2  # the 28 s gap is a pause; the last interval is slower than 0.3 m/s
    assert summary.distance_m == 9.5
    assert summary.n_records == 5 and summary.n_hr == 4
    assert summary.avg_hr == pytest.approx((100 + 110 + 120 + 130) / 4)
    assert summary.max_hr == 130
    assert summary.local_offset_s is None



EVENT_FILES = ["garmin-fenix-5-run.fit", "garmin-edge-820-bike.fit", "activity-small-fenix2-run.fit"]


@pytest.mark.parametrize("name", EVENT_FILES)
def test_event_messages_equal_fitdecode(name: str) -> None:
    path = ACTIVITIES / "fit-fitparse" / name
    ours = [(e["time"], e["event"], e["event_type"]) for a in read_fit(path.read_bytes(), name).activities
            for e in a.events]
    theirs = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "event":
                theirs.append((frame.get_value("timestamp"), frame.get_value("event"), frame.get_value("event_type")))
    assert ours == theirs and len(ours) >= 2
