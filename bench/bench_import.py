"""Benchmark: import a year of data into a fresh workspace.

A year of data is 500 one-hour runs recorded at 1 Hz (3600 records each: time, heart rate, speed, distance,
cadence, altitude, temperature), written as FIT files by :func:`gutstride.demo.fit_writer.write_activity_fit`
into a temporary folder (not timed). Then :func:`gutstride.services.importing.import_files` imports the folder
into a new workspace with 2 decoding processes (timed): hashing, decoding, deduplication, SQL rows and one
Parquet stream per activity.

Goal (issue 3): under 10 s on 2 cores.

There is no reference library that imports into a workspace; as a yardstick the script also times fitdecode
reading the timestamp and heart rate of every record of a sample of the same files (the same values we decode),
extrapolated to all files, and checks that our stored streams hold exactly those values.

Run::

    .venv/bin/python bench/bench_import.py [--files 500] [--workers 2] [--sample 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from gutstride.demo.fit_writer import write_activity_fit
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.activities import load_activities, load_stream
from gutstride.store.workspace import Workspace

DURATION_S = 3600
FIRST_START = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)


def one_hour(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One hour at 1 Hz of a plausible easy run (relative time in seconds)."""
    t = np.arange(DURATION_S, dtype=float)
    speed = np.clip(3.0 + 0.3 * np.sin(t / 300.0) + rng.normal(0, 0.05, t.size), 0.5, 6.0)
    hr = np.clip(np.round(110 + 35 * (1 - np.exp(-t / 400.0)) + rng.normal(0, 2, t.size)), 60, 200)
    return {
        "time": t,
        "hr": hr,
        "speed": np.round(speed, 3),
        "distance": np.round(np.cumsum(speed), 2),
        "cadence": np.round(85 + rng.normal(0, 2, t.size)),
        "altitude": np.round(300 + 20 * np.sin(t / 600.0), 1),
        "temperature": np.full(t.size, 18.0),
    }


def write_year(folder: Path, n_files: int) -> list[Path]:
    rng = np.random.default_rng(2026)
    spacing = timedelta(days=365) / n_files
    paths = []
    for i in range(n_files):
        path = folder / f"run-{i:03d}.fit"
        write_activity_fit(path, FIRST_START + i * spacing, one_hour(rng), "running")
        paths.append(path)
    return paths


def fitdecode_values(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (epoch s) and heart rates of every record message, as fitdecode reads them."""
    import fitdecode

    times, hrs = [], []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                times.append(frame.get_value("timestamp").timestamp())
                hr = frame.get_value("heart_rate", fallback=None)
                hrs.append(np.nan if hr is None else float(hr))
    return np.array(times), np.array(hrs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=10, help="files read with fitdecode as the yardstick")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gutstride-bench-") as tmp:
        folder = Path(tmp) / "year"
        folder.mkdir()
        paths = write_year(folder, args.files)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6

        ws = Workspace(Path(tmp) / "ws", create=True)
        load_before = os.getloadavg()[0]
        cpu_start = time.process_time()
        children_start = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        records = import_files(ws, workspace_athlete(ws), [folder], workers=args.workers)
        ours = time.perf_counter() - start
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_main = time.process_time() - cpu_start
        cpu_workers = (children.ru_utime - children_start.ru_utime) + (children.ru_stime - children_start.ru_stime)

        statuses = {r.status for r in records}
        assert statuses == {"ok"}, [r for r in records if r.status != "ok"][:3]
        frame = load_activities(ws, workspace_athlete(ws)).set_index("source_path")
        assert len(frame) == args.files, len(frame)

        sample = paths[:: max(1, len(paths) // args.sample)][: args.sample]
        start = time.perf_counter()
        reference = [fitdecode_values(p) for p in sample]
        ref_per_file = (time.perf_counter() - start) / len(sample)
        for path, (times, hrs) in zip(sample, reference, strict=True):
            stream = load_stream(ws, workspace_athlete(ws), int(frame.loc[str(path), "id"]))
            np.testing.assert_array_equal(stream["time"], times)
            np.testing.assert_array_equal(stream["hr"], hrs)

    print(f"import of a year of data: {args.files} one-hour 1 Hz FIT files, {megabytes:.1f} MB, "
          f"{args.workers} workers")
    print(f"  gutstride import_files: {ours:.2f} s  ({args.files / ours:.0f} files/s, {megabytes / ours:.1f} MB/s)"
          f"  goal < 10 s: {'met' if ours < 10 else 'NOT met'}")
    print(f"  CPU used: {cpu_main:.2f} s main process + {cpu_workers:.2f} s workers; machine load average "
          f"{load_before:.1f} before the run (other processes share the {os.cpu_count()} cores)")
    print(f"  fitdecode, timestamp + HR only, 1 process: {ref_per_file * 1000:.0f} ms/file "
          f"(measured on {len(sample)} files), {ref_per_file * args.files:.1f} s for {args.files} files (extrapolated)")
    print(f"  ratio (fitdecode decode-only time / our full import time): {ref_per_file * args.files / ours:.1f}x")
    print(f"  stored time and HR equal fitdecode's on the {len(sample)} sampled files")


if __name__ == "__main__":
    main()
