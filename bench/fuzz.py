"""Fuzz every reader for a set time each (``make fuzz``; 10 minutes a reader by default, outside ``make test``).

Each target is a hypothesis test over mutated real files and random bytes. Its contract: the reader returns
(activity readers: a DecodedFile with a status, and a reason when not ok) or raises a GutstrideError, nothing
else, within :data:`PER_INPUT_S` seconds. Hypothesis has no time budget, so each target first runs a calibration
batch, then batches of as many examples as fit in the time left. Failures are shrunk by hypothesis and printed; the exit
code is 1 if any target failed.

    python bench/fuzz.py [--seconds 600] [--only fit,gpx]
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gutstride.errors import GutstrideError
from gutstride.model.activity import DecodedFile

DATA = Path(__file__).parents[1] / "tests" / "data"
ACT = DATA / "activities"
MICRO = DATA / "microbiome"
PER_INPUT_S = 5.0


def _bytes(path: Path, limit: int = 20_000) -> bytes:
    return path.read_bytes()[:limit]


SEEDS: dict[str, list[bytes]] = {
    "fit": [(ACT / "fit-fitparse" / n).read_bytes() for n in (
        "garmin-fenix-5-run.fit", "Activity.fit", "DeveloperData.fit", "compressed-speed-distance.fit")],
    "gpx": [_bytes(ACT / "sweatpy" / "activity_5039744860.gpx"), _bytes(ACT / "gpx-gpxpy" / "route.gpx")],
    "tcx": [_bytes(ACT / "sweatpy" / "activity_5039744860.tcx"), _bytes(ACT / "tcx-python-tcxparser" / "test.tcx")],
    "csv": [b"Activity ID,Activity Date,Activity Type,Elapsed Time,Distance\n1,2021-02-03 06:30:00,Run,3000,8.1\n"],
    "log": [b"date,bloating,bristol,sleep_hours\n2024-01-02,2,4,7.5\n2024-01-03,0,5,8\n",
            b'[{"date": "2024-01-02", "cramps": 3}]'],
    "table": [(MICRO / "biom-format-examples" / "rich_sparse_otu_table.biom").read_bytes(),
              _bytes(MICRO / "american-gut" / "AG_debug" / "AG_100nt.txt", 4000),
              b"clade_name\tNCBI_tax_id\trelative_abundance\nk__Bacteria\t2\t100.0\n"],
}


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with byte flips, overwrites, insertions, deletions and a cut; or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=4000))
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 4))
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == 0 and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == 1 and data:
            data[where] = draw(st.integers(0, 255))
        elif kind == 2:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == 3:
            del data[where:where + draw(st.integers(1, 64))]
        else:
            data = data[: where + 1]
    return bytes(data)


def _decoded(result: object) -> None:
    assert isinstance(result, DecodedFile), type(result)
    assert result.status in ("ok", "partial", "error")
    assert result.status == "ok" or result.message


def _on_file(name: str, reader: Callable[[Path], object]) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            return reader(path)
    return run


def _targets() -> dict[str, tuple[st.SearchStrategy[bytes], Callable[[bytes], object], Callable[[object], None]]]:
    from gutstride.ingest.activities.dispatch import decode_activity
    from gutstride.ingest.activities.fit import read_fit
    from gutstride.ingest.activities.gpx import read_gpx
    from gutstride.ingest.activities.summary_csv import read_summary_csv
    from gutstride.ingest.activities.tcx import read_tcx
    from gutstride.ingest.exports import iter_export
    from gutstride.ingest.logs import read_log
    from gutstride.ingest.microbiome.read import read_table

    def export(data: bytes) -> object:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("activities.csv", b"Activity ID,Activity Date,Filename\n1,x,activities/a.fit\n")
            archive.writestr("activities/a.fit", data)
        blob = bytearray(buffer.getvalue())
        if data:  # also damage the archive itself
            blob[len(data) % len(blob)] ^= data[0]
        return [m.label for m in iter_export(bytes(blob), "x.zip")]

    every = [s for seeds in SEEDS.values() for s in seeds]
    none: Callable[[object], None] = lambda _result: None  # noqa: E731 - any result is fine; only errors matter
    return {
        "fit": (mutated(SEEDS["fit"]), read_fit, _decoded),
        "gpx": (mutated(SEEDS["gpx"]), read_gpx, _decoded),
        "tcx": (mutated(SEEDS["tcx"]), read_tcx, _decoded),
        "csv-summary": (mutated(SEEDS["csv"]), read_summary_csv, _decoded),
        "dispatch-gzip": (mutated(every).map(gzip.compress), lambda d: decode_activity(d, "x.gz"), _decoded),
        "log": (mutated(SEEDS["log"]), lambda d: read_log(d, "log.csv"), none),
        "microbiome-table": (mutated(SEEDS["table"]), _on_file("t.biom", read_table), none),
        "microbiome-text": (mutated(SEEDS["table"][1:]), _on_file("t.tsv", read_table), none),
        "export-zip": (mutated(SEEDS["fit"]), export, none),
    }


def fuzz(name: str, strategy: st.SearchStrategy[bytes], reader: Callable[[bytes], object],
         check: Callable[[object], None], seconds: float) -> tuple[int, str]:
    """Run one target for about ``seconds``; return (examples run, "" or the failure)."""
    count = 0

    def one(data: bytes) -> None:
        nonlocal count
        count += 1
        started = time.perf_counter()
        try:
            result = reader(data)
        except GutstrideError:
            return
        check(result)
        assert time.perf_counter() - started < PER_INPUT_S, "too slow"

    def run(n: int) -> None:
        test = settings(max_examples=n, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck))(given(strategy)(one))
        test()

    started = time.perf_counter()
    try:
        run(50)
        while (left := seconds - (time.perf_counter() - started)) > 0:  # batches sized to end near the budget
            rate = count / max(time.perf_counter() - started, 1e-3)
            run(max(10, int(rate * min(left, 60))))
    except Exception:  # noqa: BLE001 - a finding, reported with hypothesis's shrunk example
        return count, traceback.format_exc(limit=6)
    return count, ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0, help="per reader (default 600)")
    parser.add_argument("--only", default="", help="comma-separated target names")
    args = parser.parse_args()
    targets = _targets()
    chosen = [t for t in targets if not args.only or t in args.only.split(",")]
    failed = []
    print(f"{'target':18} {'examples':>9} {'seconds':>8}  result")
    for name in chosen:
        started = time.perf_counter()
        count, failure = fuzz(name, *targets[name], args.seconds)
        print(f"{name:18} {count:9d} {time.perf_counter() - started:8.0f}  {'FAILED' if failure else 'ok'}",
              flush=True)
        if failure:
            failed.append(name)
            print(failure)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
