"""Fuzzing the GPX, TCX and CSV-summary readers and the dispatcher.

Random bytes, random XML-ish text and mutated real files must only ever give a DecodedFile (ok, partial or
error with a reason): no exception escapes, and each case finishes quickly (hypothesis deadline).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.ingest.activities.dispatch import decode_activity
from gutstride.ingest.activities.gpx import read_gpx
from gutstride.ingest.activities.summary_csv import read_summary_csv
from gutstride.ingest.activities.tcx import read_tcx
from gutstride.model.activity import DecodedFile

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"
SMALL_GPX = (ACTIVITIES / "sweatpy" / "activity_5039744860.gpx").read_bytes()[:6000] + b"</trkseg></trk></gpx>"
SMALL_TCX = (ACTIVITIES / "sweatpy" / "activity_5039744860.tcx").read_bytes()[:6000]
READERS = (read_gpx, read_tcx, read_summary_csv)
FUZZ = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

_TAGS = ["gpx", "trk", "trkseg", "trkpt", "time", "ele", "hr", "ns3:hr", "TrainingCenterDatabase", "Activity",
         "Lap", "Track", "Trackpoint", "Time", "HeartRateBpm", "Value", "Position", "LatitudeDegrees", "type"]
_TEXT = st.sampled_from(["", "1", "-5.5", "nan", "1e308", "abc", "2020-01-01T00:00:00Z", "2020-13-45T99:99:99",
                         "&amp;", "<", "]]>", "\x00", "\u00e9"])


@st.composite
def xmlish(draw: st.DrawFn) -> bytes:
    """Nested tags from the GPX/TCX vocabulary with odd texts and attributes, sometimes left unclosed."""
    parts: list[str] = []
    stack: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        action = draw(st.integers(0, 3))
        if action == 0 or not stack:
            tag = draw(st.sampled_from(_TAGS))
            attrs = draw(st.sampled_from(['', ' lat="1" lon="2"', ' Sport="Running"', ' lat="x"', ' StartTime="?"']))
            parts.append(f"<{tag}{attrs}>")
            stack.append(tag)
        elif action == 1:
            parts.append(draw(_TEXT))
        else:
            parts.append(f"</{stack.pop()}>")
    if draw(st.booleans()):
        parts.extend(f"</{tag}>" for tag in reversed(stack))
    head = draw(st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="latin-1"?>',
                                 '<!DOCTYPE gpx [<!ENTITY e "x">]>']))
    return (head + "".join(parts)).encode("utf-8", "surrogatepass")


def _check(result: DecodedFile) -> None:
    assert isinstance(result, DecodedFile)
    assert result.status in ("ok", "partial", "error")
    if result.status != "ok":
        assert result.message


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    for reader in READERS:
        _check(reader(data, "x"))
    _check(decode_activity(data, "x.gpx"))
    _check(decode_activity(gzip.compress(data), "x.tcx.gz"))


@FUZZ
@given(data=xmlish())
def test_random_xml(data: bytes) -> None:
    _check(read_gpx(data))
    _check(read_tcx(data))
    _check(decode_activity(data, "x"))


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """A real file with a few bytes flipped, inserted or deleted, and possibly truncated."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        kind = draw(st.integers(0, 2))
        if kind == 0:
            data[pos] = draw(st.integers(0, 255))
        elif kind == 1:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos: pos + draw(st.integers(1, 16))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(data=mutated(SMALL_GPX))
def test_mutated_gpx(data: bytes) -> None:
    _check(read_gpx(data))
    _check(decode_activity(data, "x.gpx"))


@FUZZ
@given(data=mutated(SMALL_TCX))
def test_mutated_tcx(data: bytes) -> None:
    _check(read_tcx(data))
    _check(decode_activity(data, "x.tcx"))


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list(',;\t\n"0123456789:-TZ .abcdefmsilhrDtyp')), max_size=300))
def test_random_csv(text: str) -> None:
    _check(read_summary_csv(("date,type,duration,distance,avg hr\n" + text).encode()))
