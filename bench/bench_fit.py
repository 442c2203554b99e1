"""FIT decoding throughput: gutstride's read_fit against garmin-fit-sdk's Decoder and fitdecode.

Each decoder extracts the timestamp and heart rate of every record message of the same files, in the same run.
The values are checked equal first. Files: every real FIT file with records under tests/data/activities that all
three decoders read without error (the SDK does not read compressed timestamps), plus a synthetic 10 h, 1 Hz
activity written by gutstride's demo FIT writer.

Run: .venv/bin/python bench/bench_fit.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import fitdecode
import numpy as np
from garmin_fit_sdk import Decoder, Stream

from gutstride.demo.fit_writer import write_activity_fit
from gutstride.ingest.activities.fit import FIT_EPOCH_S, read_fit

ROOT = Path(__file__).resolve().parents[1]
ACTIVITIES = ROOT / "tests" / "data" / "activities"

Series = tuple[np.ndarray, np.ndarray]  # (time as Unix seconds, heart rate with NaN = none)


def ours(data: bytes) -> Series:
    decoded = read_fit(data)
    if not decoded.activities:
        return np.zeros(0), np.zeros(0)
    time_ = np.concatenate([a.stream["time"] for a in decoded.activities])
    hr = np.concatenate([a.stream["hr"] for a in decoded.activities])
    return time_, hr


def garmin_sdk(data: bytes) -> Series:
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(
        convert_datetimes_to_dates=False, merge_heart_rates=False)
    if errors:
        raise RuntimeError(str(errors[0]))
    records = messages.get("record_mesgs", [])
    time_ = np.array([r.get("timestamp", np.nan) for r in records], dtype=float) + FIT_EPOCH_S
    hr = np.array([r.get("heart_rate", np.nan) for r in records], dtype=float)
    return time_, hr


def fit_decode(data: bytes) -> Series:
    times, hrs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.DISABLED) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                    stamp = frame.get_value("timestamp", fallback=None)
                    heart = frame.get_value("heart_rate", fallback=None)
                    times.append(np.nan if stamp is None else stamp.timestamp())
                    hrs.append(np.nan if heart is None else heart)
    return np.array(times, dtype=float), np.array(hrs, dtype=float)


DECODERS = {"gutstride read_fit": ours, "garmin-fit-sdk Decoder": garmin_sdk, "fitdecode": fit_decode}


def synthetic(hours: float = 10.0) -> bytes:
    n = int(hours * 3600)
    rng = np.random.default_rng(0)
    speed = np.clip(3.0 + rng.normal(0, 0.3, n), 0.5, 6)
    samples = {
        "hr": np.round(140 + 10 * np.sin(np.arange(n) / 600) + rng.normal(0, 2, n)),
        "speed": speed, "distance": np.cumsum(speed), "cadence": np.round(85 + rng.normal(0, 2, n)),
        "altitude": 200 + np.cumsum(rng.normal(0, 0.1, n)), "temperature": np.full(n, 18.0),
        "lat": 45.0 + np.cumsum(rng.normal(0, 1e-5, n)), "lon": 7.0 + np.cumsum(rng.normal(0, 1e-5, n)),
    }
    return write_activity_fit(None, datetime(2025, 6, 1, 6, 0, tzinfo=UTC), samples, "running")


def _same(a: Series, b: Series) -> bool:
    return len(a[0]) == len(b[0]) and all(
        np.allclose(x, y, rtol=0, atol=1e-6, equal_nan=True) for x, y in zip(a, b, strict=True))


def corpus() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(p for p in ACTIVITIES.rglob("*") if p.suffix.lower() == ".fit"):
        data = path.read_bytes()
        reference = ours(data)
        if len(reference[0]) == 0:
            continue
        try:
            if not all(_same(reference, decode(data)) for decode in (garmin_sdk, fit_decode)):
                print(f"  left out {path.name}: decoders disagree")
                continue
        except Exception as exc:  # noqa: BLE001 - a reference decoder cannot read it: leave the file out
            print(f"  left out {path.name}: {type(exc).__name__}: {str(exc)[:70]}")
            continue
        files[path.name] = data
    return files


def throughput(decode: object, files: list[bytes], repeat: int) -> tuple[float, float]:
    """Best MB/s over ``repeat`` passes over ``files``: by wall-clock time and by this process's CPU time (the
    second is steadier on a shared machine)."""
    total = sum(len(d) for d in files)
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        for data in files:
            decode(data)  # type: ignore[operator]
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return total / wall / 1e6, total / cpu / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes for gutstride (best one kept)")
    args = parser.parse_args()
    ours(synthetic(0.01))  # load the compiled scan from numba's cache before timing
    print("checking values (timestamp and heart rate of every record) ...")
    real = corpus()
    big = synthetic()
    assert _same(ours(big), garmin_sdk(big)) and _same(ours(big), fit_decode(big)), "synthetic file disagrees"
    sets = {
        f"real files ({len(real)} files, {sum(map(len, real.values())) / 1e6:.2f} MB)": list(real.values()),
        f"synthetic 10 h at 1 Hz ({len(big) / 1e6:.2f} MB)": [big],
    }
    for title, files in sets.items():
        print(f"\n{title}")
        rates = {name: throughput(decode, files, args.repeat if name.startswith("gutstride") else 1)
                 for name, decode in DECODERS.items()}
        mine = rates["gutstride read_fit"]
        print(f"  {'':24s} {'wall MB/s':>10s} {'cpu MB/s':>10s}   ratio (wall, cpu)")
        for name, (wall, cpu) in rates.items():
            ratio = "" if name.startswith("gutstride") else f"   {mine[0] / wall:6.1f}x  {mine[1] / cpu:6.1f}x"
            print(f"  {name:24s} {wall:10.2f} {cpu:10.2f}{ratio}")


if __name__ == "__main__":
    main()
