"""Fuzzing the FIT decoder: random and mutated inputs give a DecodedFile or our own errors, quickly and in bounded
memory."""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import GutstrideError
from gutstride.ingest.activities.fit import fit_crc, read_fit
from gutstride.model.activity import DecodedFile

FITPARSE = Path(__file__).parents[1] / "data" / "activities" / "fit-fitparse"
SEEDS = [(FITPARSE / name).read_bytes() for name in (
    "garmin-fenix-5-run.fit",  # little-endian, hrv, laps
    "Activity.fit",  # big-endian definitions
    "DeveloperData.fit",  # developer fields
    "compressed-speed-distance.fit",  # compressed timestamps and speed/distance
    "activity-settings.fit",  # chained
)]


@pytest.fixture(scope="module", autouse=True)
def _compiled() -> None:
    """Read each seed once (imports, profile tables) before any timing bound applies."""
    for seed in SEEDS:
        read_fit(seed)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(data: bytes) -> None:
    started = time.perf_counter()
    try:
        decoded = read_fit(data)
    except GutstrideError:
        return
    assert isinstance(decoded, DecodedFile)
    assert decoded.status in ("ok", "partial", "error")
    assert decoded.status == "ok" or decoded.message
    for activity in decoded.activities:
        lengths = {len(v) for v in activity.stream.values()}
        assert lengths == {activity.summary.n_records}
    assert time.perf_counter() - started < 5.0


def _header(data_size: int) -> bytes:
    head = struct.pack("<BBHI4s", 14, 0x20, 2100, data_size, b".FIT")
    return head + struct.pack("<H", fit_crc(head))


@given(st.binary(max_size=4000))
@FUZZ
def test_random_bytes(data: bytes) -> None:
    _check(data)


@given(st.binary(max_size=4000))
@FUZZ
def test_random_body_behind_a_valid_header(body: bytes) -> None:
    _check(_header(len(body)) + body)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "byte", "insert", "delete", "truncate"]))
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and data:
            data[where] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[where:where + draw(st.integers(1, 16))]
        else:
            del data[where:]
    return bytes(data)


@given(_mutated())
@FUZZ
def test_mutated_real_files(data: bytes) -> None:
    _check(data)


def test_huge_claimed_sizes_do_not_allocate() -> None:
    # a header claiming 4 GB of data, then a definition of 255 fields of 255 bytes, then a few bytes
    body = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([255]) + bytes([1, 255, 0x0D]) * 255
    data = _header(0xFFFFFFFF) + body + bytes([0x00]) + bytes(100)
    tracemalloc.start()
    try:
        decoded = read_fit(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded.status in ("partial", "error")
    assert "cut off" in decoded.message
    assert peak < 50 * 2**20


@pytest.mark.parametrize("n_segments", [2000])
def test_many_tiny_chained_segments_stay_fast(n_segments: int) -> None:
    definition = bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([1, 3, 1, 0x02])
    body = definition + bytes([0x00, 100])
    segment = _header(len(body)) + body
    segment += struct.pack("<H", fit_crc(segment))
    started = time.perf_counter()
    decoded = read_fit(segment * n_segments)
    assert time.perf_counter() - started < 10.0
    assert decoded.status == "ok"
    assert len(decoded.activities) == n_segments
