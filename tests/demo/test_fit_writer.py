"""The demo FIT writer: files fitdecode and garmin-fit-sdk read, and that read_fit reads back (round trip)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import fitdecode
import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Stream
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gutstride.demo.fit_writer import write_activity_fit
from gutstride.errors import BadInputError
from gutstride.ingest.activities.fit import read_fit
from gutstride.model.activity import SPORTS

#: column -> (low, high, quantum written to the file)
RANGES = {
    "hr": (30.0, 250.0, 1.0), "speed": (0.0, 60.0, 0.001), "distance": (0.0, 4e5, 0.01),
    "cadence": (0.0, 250.0, 1.0), "altitude": (-400.0, 8000.0, 0.2), "temperature": (-40.0, 60.0, 1.0),
    "power": (0.0, 2000.0, 1.0), "lat": (-89.0, 89.0, 180.0 / 2**31), "lon": (-179.0, 179.0, 180.0 / 2**31),
}
START = datetime(2025, 5, 1, 6, 0, tzinfo=UTC)


def _samples(n: int = 600) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    hr = np.round(130 + rng.normal(0, 5, n))
    hr[::97] = np.nan
    speed = np.full(n, 3.2)
    return {"time": np.arange(n, dtype=float) * 2, "hr": hr, "speed": speed, "distance": np.cumsum(speed) * 2,
            "altitude": 100 + np.cumsum(rng.normal(0, 0.2, n)), "lat": np.linspace(45.0, 45.05, n),
            "lon": np.linspace(7.0, 7.02, n)}


def test_fitdecode_and_garmin_sdk_read_the_file() -> None:
    samples = _samples()
    data = write_activity_fit(None, START, samples, "running", local_offset_s=3600)
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        frames = [f for f in reader if isinstance(f, fitdecode.FitDataMessage)]
    records = [f for f in frames if f.name == "record"]
    assert [r.get_value("timestamp") for r in records] == [START + timedelta(seconds=t) for t in samples["time"]]
    hr = np.array([np.nan if r.get_value("heart_rate") is None else r.get_value("heart_rate") for r in records])
    np.testing.assert_array_equal(hr, samples["hr"])
    np.testing.assert_allclose([r.get_value("distance") for r in records], samples["distance"], atol=0.005)

    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(merge_heart_rates=False)
    assert errors == []
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    sdk = messages["record_mesgs"]
    assert len(sdk) == len(samples["hr"])
    np.testing.assert_allclose([m["enhanced_altitude"] for m in sdk], samples["altitude"], atol=0.1 + 1e-9)
    np.testing.assert_allclose([m["position_lat"] * 180 / 2**31 for m in sdk], samples["lat"], atol=1e-7)
    session = messages["session_mesgs"][0]
    assert session["sport"] == "running"
    assert session["total_elapsed_time"] == samples["time"][-1]
    activity = messages["activity_mesgs"][0]
    assert activity["local_timestamp"] - activity["timestamp"].timestamp() + 631065600 == 3600


@st.composite
def _random_samples(draw: st.DrawFn) -> dict[str, np.ndarray]:
    n = draw(st.integers(1, 200))
    out: dict[str, np.ndarray] = {"time": np.cumsum(draw(arrays(np.int64, n, elements=st.integers(0, 30))))
                                  .astype(float)}
    for name in draw(st.sets(st.sampled_from(sorted(RANGES)), min_size=1)):
        low, high, _ = RANGES[name]
        values = draw(arrays(np.float64, n, elements=st.floats(low, high) | st.just(np.nan)))
        out[name] = values
    return out


@given(_random_samples(), st.sampled_from(SPORTS), st.integers(-12, 14).map(lambda h: h * 3600))
@settings(max_examples=60, deadline=None)
def test_round_trip(samples: dict[str, np.ndarray], sport: str, offset: int) -> None:
    decoded = read_fit(write_activity_fit(None, START, samples, sport, local_offset_s=offset))
    assert decoded.status == "ok" and decoded.warnings == []
    (activity,) = decoded.activities
    summary, stream = activity.summary, activity.stream
    assert summary.sport == sport
    assert summary.start_time == START
    assert summary.local_offset_s == offset
    assert summary.duration_s == samples["time"][-1]
    assert summary.device == "gutstride demo"
    np.testing.assert_array_equal(stream["time"], START.timestamp() + samples["time"])
    for name, (_, _, quantum) in RANGES.items():
        want = samples.get(name, np.full(len(samples["time"]), np.nan))
        if name == "hr":  # 0 and the sentinel 255 are not heart rates; round to the bpm written
            want = np.round(want)
        np.testing.assert_allclose(stream[name], want, rtol=0, atol=quantum / 2 + 1e-9, err_msg=name)
    hr = stream["hr"][np.isfinite(stream["hr"]) & (stream["hr"] > 0)]
    assert summary.n_hr == len(hr)
    if len(hr):
        assert summary.max_hr == hr.max()


def test_writes_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.fit"
    data = write_activity_fit(path, START, _samples(10), "yoga", device="watch")
    assert path.read_bytes() == data
    assert read_fit(data).activities[0].summary.device == "watch"


@pytest.mark.parametrize("bad", [{"heartrate": np.zeros(3)}, {"hr": np.zeros(3), "speed": np.zeros(4)}])
def test_bad_samples_are_refused(bad: dict[str, np.ndarray]) -> None:
    with pytest.raises(BadInputError):
        write_activity_fit(None, START, bad, "running")
