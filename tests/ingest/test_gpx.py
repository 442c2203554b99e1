"""GPX reader: status of every real file, agreement with gpxpy, extensions, faults and safety."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

import gpxpy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutstride.ingest.activities.gpx import read_gpx
from gutstride.ingest.activities.xmlstream import UNSAFE_XML_MESSAGE
from gutstride.model.activity import STREAM_COLUMNS

ACTIVITIES = Path(__file__).parents[1] / "data" / "activities"

GPX_FILES = sorted(ACTIVITIES.rglob("*.gpx"))

#: file name -> (status, number of activities). Read off the files: "error" files have no <trkpt> with a <time>
#: (routes, waypoints, planned tracks); the cerknicko/korita files hold several <trk> elements.
EXPECTED = {
    "Mojstrovka.gpx": ("ok", 1),
    "around-visnjan-with-car.gpx": ("ok", 1),
    "cerknicko-jezero-no-creator.gpx": ("ok", 7),
    "cerknicko-jezero-with-elevations-zero.gpx": ("ok", 7),
    "cerknicko-jezero-without-elevations.gpx": ("ok", 7),
    "cerknicko-jezero.gpx": ("ok", 7),
    "cerknicko-without-times.gpx": ("ok", 1),
    "custom_schema_locations.gpx": ("error", 0),
    "default_schema_locations.gpx": ("error", 0),
    "first_and_last_elevation.gpx": ("ok", 1),
    "gpx-with-node-with-comments.gpx": ("ok", 1),
    "gpx1.0_with_all_fields.gpx": ("ok", 1),
    "gpx1.1_with_all_fields.gpx": ("ok", 1),
    "gpx1.1_with_extensions.gpx": ("error", 0),
    "gpx1.1_with_extensions_without_namespaces.gpx": ("error", 0),
    "gpx_with_garmin_extension.gpx": ("error", 0),
    "korita-zbevnica.gpx": ("ok", 2),
    "route.gpx": ("error", 0),
    "track-with-empty-segment.gpx": ("ok", 1),
    "track-with-extremes.gpx": ("error", 0),
    "track-with-less-sec-time.gpx": ("ok", 1),
    "track-with-small-floats.gpx": ("error", 0),
    "track_with_dilution_errors.gpx": ("error", 0),
    "track_with_speed.gpx": ("ok", 1),
    "unicode.gpx": ("error", 0),
    "unicode2.gpx": ("error", 0),
    "unicode_with_bom.gpx": ("error", 0),
    "unicode_with_bom_noencoding.gpx": ("error", 0),
    "4078723797_strava.gpx": ("ok", 1),
    "4801048867_strava.gpx": ("ok", 1),
    "activity_4078723797.gpx": ("ok", 1),
    "activity_4801048867.gpx": ("ok", 1),
    "activity_5039744860.gpx": ("ok", 1),
}


def test_expected_table_covers_every_gpx_file() -> None:
    assert sorted(p.name for p in GPX_FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", GPX_FILES, ids=lambda p: p.name)
def test_status_of_every_real_file(path: Path) -> None:
    decoded = read_gpx(path.read_bytes(), path.name)
    status, n = EXPECTED[path.name]
    assert decoded.format == "gpx"
    assert (decoded.status, len(decoded.activities)) == (status, n), decoded.message
    if status == "error":
        assert decoded.message
    for activity in decoded.activities:
        assert set(activity.stream) == set(STREAM_COLUMNS)
        lengths = {col.shape for col in activity.stream.values()}
        assert len(lengths) == 1
        assert np.all(np.diff(activity.stream["time"]) >= 0)


def _ext_hr(extensions: list[Element]) -> float:
    for ext in extensions:
        for elem in ext.iter():
            if elem.tag.rpartition("}")[2] == "hr" and elem.text:
                return float(elem.text)
    return float("nan")


def _gpxpy_tracks(path: Path) -> list[dict[str, np.ndarray]]:
    """Per track with at least one timed point: the timed points' values, as gpxpy reads them."""
    parsed = gpxpy.parse(path.read_text(encoding="utf-8-sig"))
    out = []
    for track in parsed.tracks:
        points = [p for seg in track.segments for p in seg.points if p.time is not None]
        if not points:
            continue
        times = [p.time if p.time.tzinfo else p.time.replace(tzinfo=UTC) for p in points]
        out.append({
            "time": np.array([t.timestamp() for t in times]),
            "lat": np.array([p.latitude for p in points]),
            "lon": np.array([p.longitude for p in points]),
            "altitude": np.array([np.nan if p.elevation is None else p.elevation for p in points]),
            "hr": np.array([_ext_hr(p.extensions) for p in points]),
        })
    return out


@pytest.mark.parametrize("path", GPX_FILES, ids=lambda p: p.name)
def test_points_agree_with_gpxpy(path: Path) -> None:
    """gpxpy reads every GPX file here; timed points, track by track, must match it."""
    ours = read_gpx(path.read_bytes(), path.name).activities
    ref = _gpxpy_tracks(path)
    assert len(ours) == len(ref)
    for activity, expected in zip(ours, ref, strict=True):
        order = np.argsort(expected["time"], kind="stable")
        stream = activity.stream
        assert stream["time"].size == expected["time"].size
        np.testing.assert_allclose(stream["time"], expected["time"][order], rtol=0, atol=1e-3)
        for col in ("lat", "lon", "altitude", "hr"):
            np.testing.assert_allclose(stream[col], expected[col][order], rtol=1e-12, equal_nan=True, err_msg=col)


def _gpx(points: str, creator: str = "test", ns: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1" '
        f'{ns}><trk><name>T</name><type>running</type><trkseg>{points}</trkseg></trk></gpx>'
    ).encode()


def _pt(second: int, ext: str = "", lat: float = 52.0, lon: float = 6.0) -> str:
    return (f'<trkpt lat="{lat}" lon="{lon + second * 1e-4}"><ele>{10 + second}</ele>'
            f"<time>2020-04-18T11:10:{second:02d}Z</time>{ext}</trkpt>")


@pytest.mark.parametrize("ext", [
    '<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>',
    '<extensions><ns3:TrackPointExtension><ns3:hr>{}</ns3:hr></ns3:TrackPointExtension></extensions>',
    '<extensions><gpxdata:hr>{}</gpxdata:hr></extensions>',
    '<extensions><heartrate>{}</heartrate></extensions>',
    '<extensions><HeartRate>{}</HeartRate></extensions>',
    '<extensions><heart_rate>{}</heart_rate></extensions>',
])
def test_heart_rate_spellings(ext: str) -> None:
    ns = ('xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" '
          'xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1" '
          'xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0"')
    data = _gpx(_pt(0, ext.format(120)) + _pt(1, ext.format(131)), ns=ns)
    decoded = read_gpx(data)
    assert decoded.status == "ok"
    np.testing.assert_array_equal(decoded.activities[0].stream["hr"], [120.0, 131.0])


def test_garmin_v2_cadence_temperature_and_speed() -> None:
    ext = ('<extensions><x:TrackPointExtension><x:atemp>21.5</x:atemp><x:hr>99</x:hr><x:cad>85</x:cad>'
           '<x:speed>3.2</x:speed></x:TrackPointExtension><power>250</power></extensions>')
    data = _gpx(_pt(0, ext), ns='xmlns:x="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"')
    stream = read_gpx(data).activities[0].stream
    assert (stream["temperature"][0], stream["hr"][0], stream["cadence"][0]) == (21.5, 99.0, 85.0)
    assert (stream["speed"][0], stream["power"][0]) == (3.2, 250.0)


def test_gpx_1_0_speed_and_no_namespace() -> None:
    data = (b'<gpx version="1.0"><trk><trkseg><trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time>'
            b"<speed>2.5</speed></trkpt></trkseg></trk></gpx>")
    stream = read_gpx(data).activities[0].stream
    assert stream["speed"][0] == 2.5


def test_hr_gap_stays_nan_and_summary_uses_hr_samples_only() -> None:
    hr = '<extensions><hr>{}</hr></extensions>'
    data = _gpx(_pt(0, hr.format(100)) + _pt(1) + _pt(2, hr.format(0)) + _pt(3, hr.format(140)))
    activity = read_gpx(data).activities[0]
    np.testing.assert_array_equal(activity.stream["hr"], [100.0, np.nan, 0.0, 140.0])
    assert (activity.summary.n_hr, activity.summary.avg_hr, activity.summary.max_hr) == (2, 120.0, 140.0)


def test_apple_creator_carries_hr_forward_over_short_gaps_only() -> None:
    hr = '<extensions><hr>{}</hr></extensions>'
    points = _pt(0, hr.format(100)) + _pt(3) + _pt(5) + _pt(6) + _pt(20, hr.format(110))
    apple = read_gpx(_gpx(points, creator="Apple Watch")).activities[0].stream["hr"]
    np.testing.assert_array_equal(apple, [100, 100, 100, np.nan, 110])
    other = read_gpx(_gpx(points)).activities[0].stream["hr"]
    assert np.isnan(other[1:4]).all()


def test_segments_join_and_tracks_split() -> None:
    data = (b'<gpx version="1.1"><trk><type>cycling</type><trkseg>' + _pt(0).encode() + b"</trkseg><trkseg>"
            + _pt(5).encode() + b"</trkseg></trk><trk><name>B</name><trkseg>" + _pt(9).encode()
            + b"</trkseg></trk></gpx>")
    decoded = read_gpx(data)
    assert [a.summary.n_records for a in decoded.activities] == [2, 1]
    assert [a.summary.sport for a in decoded.activities] == ["cycling", "other"]
    assert decoded.activities[1].summary.name == "B"
    first = decoded.activities[0].summary
    assert first.start_time == datetime(2020, 4, 18, 11, 10, 0, tzinfo=UTC)
    assert first.duration_s == 5.0


def test_offsets_and_naive_times() -> None:
    data = (b'<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>2020-01-01T02:00:00+02:00</time></trkpt>'
            b'<trkpt lat="1" lon="2"><time>2020-01-01T00:00:05</time></trkpt></trkseg></trk></gpx>')
    decoded = read_gpx(data)
    expected = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    np.testing.assert_array_equal(decoded.activities[0].stream["time"], [expected, expected + 5])
    assert any("without a time zone" in w for w in decoded.warnings)


def test_truncated_file_keeps_points_before_the_fault() -> None:
    path = ACTIVITIES / "sweatpy" / "activity_5039744860.gpx"
    data = path.read_bytes()
    cut = data[: data.index(b"<trkpt", len(data) // 2) + 20]
    full = read_gpx(data).activities[0].stream
    decoded = read_gpx(cut)
    assert decoded.status == "partial"
    assert "line" in decoded.message
    stream = decoded.activities[0].stream
    n_before = cut.count(b"</trkpt>")
    assert stream["time"].size == n_before
    np.testing.assert_array_equal(stream["hr"], full["hr"][:n_before])


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gpx><trk><name>&lol3;</name></trk></gpx>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gpx><trk><name>&xxe;</name></trk></gpx>"""

PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<gpx></gpx>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL, PARAMETER], ids=["bomb", "external", "parameter"])
def test_unsafe_xml_is_refused(data: bytes) -> None:
    decoded = read_gpx(data)
    assert (decoded.status, decoded.message) == ("error", UNSAFE_XML_MESSAGE)
    assert decoded.activities == []


def test_external_dtd_is_never_fetched() -> None:
    """An external DTD is not read, so an entity it might declare stays undefined: a fault, not an expansion."""
    dtd = b'<?xml version="1.0"?><!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/x.dtd">'
    point = b'<trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time></trkpt>'
    with_ref = read_gpx(dtd + b"<gpx><trk><name>&foo;</name><trkseg>" + point + b"</trkseg></trk></gpx>")
    assert with_ref.status == "error" and "undefined entity" in with_ref.message
    assert read_gpx(dtd + b"<gpx><trk><trkseg>" + point + b"</trkseg></trk></gpx>").status == "ok"


def test_not_gpx() -> None:
    assert read_gpx(b"<kml></kml>").status == "error"
    assert read_gpx(b"").status == "error"
    assert read_gpx(b"\x00\x01garbage").status == "error"
    unknown = read_gpx(b'<?xml version="1.0" encoding="AUTF-8"?><gpx></gpx>')
    assert unknown.status == "error" and "unknown encoding" in unknown.message


_EXTRA_CHILDREN = ["<name>p</name>", "<sat>7</sat>", "<course>12</course>", "<hdop>1.5</hdop>"]
_UNKNOWN_EXT = ["<x:depth>3</x:depth>", "<x:bearing>90</x:bearing>"]


@st.composite
def point_specs(draw: st.DrawFn) -> list[dict[str, object]]:
    """Track points with random subsets of values, extra GPX children and unknown extension elements."""
    specs = []
    for i in range(draw(st.integers(1, 12))):
        specs.append({
            "second": i,
            "ele": draw(st.none() | st.integers(-50, 3000)),
            "hr": draw(st.none() | st.integers(30, 220)),
            "cad": draw(st.none() | st.integers(0, 200)),
            "extra": draw(st.lists(st.sampled_from(_EXTRA_CHILDREN), max_size=2)),
            "unknown": draw(st.lists(st.sampled_from(_UNKNOWN_EXT), max_size=2)),
            "segment_break": draw(st.booleans()),
        })
    return specs


@settings(max_examples=60, deadline=2000)
@given(specs=point_specs(), waypoint=st.booleans(), track_ext=st.booleans())
def test_generated_points_read_back_exactly(specs: list[dict[str, object]], waypoint: bool, track_ext: bool) -> None:
    """Whatever other children a trkpt has, its values land on that point (never on a neighbour), and values of
    waypoints or track-level extensions never land on a track point."""
    body = []
    for spec in specs:
        ele = f"<ele>{spec['ele']}</ele>" if spec["ele"] is not None else ""
        ext = "".join(spec["unknown"])  # type: ignore[arg-type]
        if spec["hr"] is not None:
            ext += f"<x:hr>{spec['hr']}</x:hr>"
        if spec["cad"] is not None:
            ext += f"<x:cad>{spec['cad']}</x:cad>"
        body.append(f'<trkpt lat="1.5" lon="2.5">{ele}<time>2020-01-01T00:00:{spec["second"]:02d}Z</time>'
                    + "".join(spec["extra"])  # type: ignore[arg-type]
                    + f"<extensions><x:TrackPointExtension>{ext}</x:TrackPointExtension></extensions></trkpt>")
        if spec["segment_break"]:
            body.append("</trkseg><trkseg>")
    ns = 'xmlns:x="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"'
    before = '<wpt lat="0" lon="0"><ele>777</ele><time>2019-01-01T00:00:00Z</time></wpt>' if waypoint else ""
    trk_ext = "<extensions><x:hr>199</x:hr><x:cad>9</x:cad></extensions>" if track_ext else ""
    data = (f'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1" {ns}>{before}<trk>{trk_ext}<trkseg>'
            + "".join(body) + "</trkseg></trk></gpx>").encode()
    stream = read_gpx(data).activities[0].stream
    for col, key in (("altitude", "ele"), ("hr", "hr"), ("cadence", "cad")):
        expected = [np.nan if s[key] is None else float(s[key]) for s in specs]  # type: ignore[arg-type]
        np.testing.assert_array_equal(stream[col], expected, err_msg=col)
