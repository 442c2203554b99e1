"""GPX parsing throughput: gutstride's read_gpx against gpxpy.parse on the same files, in the same run.

Files: the four largest real GPX files in tests/data/activities (Garmin Connect and Strava exports with
TrackPointExtension heart rate) and a synthetic 50,000-point GPX with hr/cad/atemp extensions. Before timing,
the values (times, lat, lon, elevation, heart rate of every timed point) are checked equal. Each timing is the
best CPU time (time.process_time) of several runs; gpxpy gets its input already decoded to str (its fastest path).

    .venv/bin/python bench/bench_gpx.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import gpxpy
import numpy as np

from gutstride.ingest.activities.gpx import read_gpx

ROOT = Path(__file__).resolve().parents[1]
ACTIVITIES = ROOT / "tests" / "data" / "activities"
N_SYNTHETIC = 50_000


def synthetic_gpx(n: int) -> bytes:
    """A GPX 1.1 track of ``n`` one-second points with Garmin TrackPointExtension v2 hr, cad and atemp."""
    rng = np.random.default_rng(42)
    lat = 52.0 + np.cumsum(rng.normal(0, 2e-5, n))
    lon = 6.0 + np.cumsum(rng.normal(0, 2e-5, n))
    ele = 20 + np.cumsum(rng.normal(0, 0.2, n))
    hr = np.clip(140 + np.cumsum(rng.normal(0, 1, n)), 60, 200).astype(int)
    start = np.datetime64("2024-05-01T06:00:00")
    stamps = np.datetime_as_string(start + np.arange(n).astype("timedelta64[s]"))
    points = "".join(
        f'<trkpt lat="{la:.7f}" lon="{lo:.7f}"><ele>{el:.1f}</ele><time>{t}Z</time><extensions>'
        f"<gpxtpx:TrackPointExtension><gpxtpx:atemp>21</gpxtpx:atemp><gpxtpx:hr>{h}</gpxtpx:hr>"
        f"<gpxtpx:cad>88</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>\n"
        for la, lo, el, t, h in zip(lat, lon, ele, stamps, hr, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="bench" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">\n'
        f"<trk><name>synthetic</name><type>running</type><trkseg>\n{points}</trkseg></trk></gpx>\n"
    ).encode()


def _hr(point: gpxpy.gpx.GPXTrackPoint) -> float:
    for ext in point.extensions:
        for elem in ext.iter():
            if elem.tag.rpartition("}")[2] == "hr" and elem.text:
                return float(elem.text)
    return float("nan")


def check_equal(data: bytes, text: str) -> int:
    """Assert read_gpx and gpxpy give the same timed points; return the number of points."""
    ours = read_gpx(data).activities
    ref = [[p for s in t.segments for p in s.points if p.time is not None] for t in gpxpy.parse(text).tracks]
    ref = [pts for pts in ref if pts]
    assert len(ours) == len(ref)
    total = 0
    for activity, points in zip(ours, ref, strict=True):
        stream = activity.stream
        times = [(p.time if p.time.tzinfo else p.time.replace(tzinfo=UTC)).timestamp() for p in points]
        order = np.argsort(times, kind="stable")
        expected = {
            "time": np.array(times), "lat": np.array([p.latitude for p in points]),
            "lon": np.array([p.longitude for p in points]),
            "altitude": np.array([np.nan if p.elevation is None else p.elevation for p in points]),
            "hr": np.array([_hr(p) for p in points]),
        }
        for col, values in expected.items():
            np.testing.assert_allclose(stream[col], values[order], rtol=1e-12, atol=1e-3 if col == "time" else 0,
                                       equal_nan=True, err_msg=col)
        total += len(points)
    return total


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time (process_time) of ``repeat`` runs: on a shared machine wall time mostly measures the load."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    real = sorted((p for p in ACTIVITIES.rglob("*.gpx")), key=lambda p: p.stat().st_size, reverse=True)[:4]
    cases = [(p.name, p.read_bytes()) for p in real] + [(f"synthetic {N_SYNTHETIC} pts", synthetic_gpx(N_SYNTHETIC))]
    print(f"{'file':34} {'points':>7} {'MB':>6} {'ours pts/s':>12} {'gpxpy pts/s':>12} {'ratio':>6}")
    total_points = total_ours = total_ref = 0.0
    for name, data in cases:
        text = data.decode("utf-8")
        n = check_equal(data, text)
        ours = best_time(lambda data=data: read_gpx(data), 7)
        ref = best_time(lambda text=text: gpxpy.parse(text), 3)
        total_points += n
        total_ours += ours
        total_ref += ref
        print(f"{name:34} {n:7d} {len(data) / 1e6:6.2f} {n / ours:12,.0f} {n / ref:12,.0f} {ref / ours:6.2f}")
    print(f"{'all files':34} {int(total_points):7d} {'':6} {total_points / total_ours:12,.0f} "
          f"{total_points / total_ref:12,.0f} {total_ref / total_ours:6.2f}")
    print("goal: ratio >= 3 (read_gpx at least 3x gpxpy's points per second)")


if __name__ == "__main__":
    main()
