"""Benchmark: training analysis of 3 years of data (1,500 activities, 1 Hz streams of about 1 h) from a workspace.

Builds a temporary workspace (ActivityRows in SQLite, streams as Parquet), then times loading
(``load_activities`` + ``load_stream``) and :func:`gutstride.analysis.training.analyse_training`. Goal: under 2 s.
There is no reference library for this analysis; as a check, the zone times of one session are compared with a
plain per-sample loop first.

Run: ``.venv/bin/python bench/bench_training.py [--activities N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from gutstride.analysis.training import STREAM_COLUMNS, Profile, analyse_session, analyse_training
from gutstride.services.athletes import workspace_athlete
from gutstride.store.activities import load_activities, load_stream
from gutstride.store.schema import ActivityRow
from gutstride.store.workspace import Workspace

SPORTS = ["running"] * 5 + ["cycling"] * 3 + ["strength", "yoga", "walking", "swimming"]


def build(ws: Workspace, n: int, today: date, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(today - timedelta(days=3 * 365), tz="UTC")
    offsets = np.sort(rng.uniform(0, 3 * 365 * 86400, n))
    with ws.session() as session:
        person = ws.athlete(session, workspace_athlete(ws))
        for i, off in enumerate(offsets, start=1):
            start = first + pd.Timedelta(seconds=int(off))
            seconds = int(rng.uniform(1200, 5400))
            t = start.timestamp() + np.arange(seconds, dtype=float)
            has_hr = rng.random() > 0.1
            hr = np.clip(130 + np.cumsum(rng.normal(0, 0.5, seconds)) + rng.normal(0, 2, seconds), 60, 200)
            if has_hr:
                hr[rng.integers(0, seconds, 5)] = 0.0  # dropouts
            else:
                hr[:] = np.nan
            stream = {"time": t, "hr": hr, "speed": np.full(seconds, rng.uniform(2, 8)),
                      "distance": np.cumsum(np.full(seconds, 3.0)), "cadence": np.full(seconds, 85.0),
                      "altitude": np.full(seconds, 100.0), "temperature": np.full(seconds, rng.uniform(5, 32)),
                      "power": np.full(seconds, np.nan), "lat": np.full(seconds, np.nan),
                      "lon": np.full(seconds, np.nan)}
            session.add(ActivityRow(
                id=i, person_id=person.id, sport=SPORTS[i % len(SPORTS)], start_time=start.to_pydatetime(),
                local_offset_s=3600, duration_s=float(seconds), moving_time_s=float(seconds),
                distance_m=3.0 * seconds, format="fit", source_path=f"a{i}.fit", source_sha256=f"{i:064d}",
                n_records=seconds, n_hr=seconds if has_hr else 0, has_stream=True,
            ))
            ws.write_stream(person.id, i, stream)


def loop_check(stream: dict[str, np.ndarray], hrmax: float) -> list[float]:
    """Zone seconds by a plain loop (dropouts out of 30-230 removed, dt capped at 10 s, last sample 0 s)."""
    zones = [0.0] * 6
    t, hr = stream["time"], stream["hr"]
    for i in range(len(t) - 1):
        if not 30 <= hr[i] <= 230:
            continue
        pct = hr[i] / hrmax
        z = sum(pct >= b for b in (0.5, 0.6, 0.7, 0.8, 0.9))
        zones[z] += min(t[i + 1] - t[i], 10.0)
    return zones


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=1500)
    args = parser.parse_args()
    today = date(2026, 6, 30)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws", create=True)
        t0 = time.perf_counter()
        build(ws, args.activities, today)
        print(f"built workspace with {args.activities} activities in {time.perf_counter() - t0:.1f} s (not timed)")

        stream = load_stream(ws, workspace_athlete(ws), 1)
        check = analyse_session(stream, {"id": 1, "sport": "running"}, hrmax=190.0)
        assert np.allclose(check.zone_s, loop_check(stream, 190.0)), "zone times differ from the plain loop"

        clock = Clock()
        activities = load_activities(ws, workspace_athlete(ws))
        clock.lap("load_activities")
        ids = [int(i) for i in activities["id"][activities["has_stream"]]]
        streams = {i: load_stream(ws, workspace_athlete(ws), i) for i in ids}
        clock.lap(f"load_stream x {len(ids)} (all columns)")
        streams = {i: ws.read_stream(workspace_athlete(ws), i, columns=STREAM_COLUMNS) for i in ids}
        clock.lap(f"read_stream x {len(ids)} (4 columns used)")
        result = analyse_training(activities, streams, Profile(birth_year=1985, resting_hr=50, sex="male"), today)
        clock.lap("analyse_training")
    print(f"{len(result.sessions)} sessions, {len(result.weekly)} weeks, HRmax {result.hrmax.value} "
          f"({result.hrmax.method}), {len(result.findings)} findings")
    print(f"{'step':<40} {'wall s':>8} {'cpu s':>8}")
    for name, wall, cpu in clock.laps:
        print(f"{name:<40} {wall:8.3f} {cpu:8.3f}")
    used = [lap for lap in clock.laps if "all columns" not in lap[0]]
    print(f"{'total (without the all-column load)':<40} {sum(x[1] for x in used):8.3f} {sum(x[2] for x in used):8.3f}"
          "   goal < 2 s")


class Clock:
    """Wall-clock and process CPU time of successive steps (CPU time is less disturbed by other processes)."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float, float]] = []
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.laps.append((name, wall - self._wall, cpu - self._cpu))
        self._wall, self._cpu = wall, cpu

if __name__ == "__main__":
    main()
