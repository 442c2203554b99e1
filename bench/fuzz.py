"""Fuzz every reader for a set time each (``make fuzz``; 10 minutes a reader by default, outside ``make test``).

Each target is a hypothesis test over mutated real files and random bytes. Its contract: the reader returns
(activity readers: a DecodedFile with a status, and a reason when not ok) or raises a GutstrideError, nothing
else, within :data:`PER_INPUT_S` seconds of CPU time (wall time on a shared machine
flags inputs that were merely descheduled). Hypothesis has no time budget, so each target first runs a calibration
batch, then batches of as many examples as fit in the time left. Failures are shrunk by hypothesis and printed; the exit
code is 1 if any target failed.

    python bench/fuzz.py [--seconds 600] [--only fit,gpx]

The account-export targets (Apple Health, Google Fit, Runkeeper, Fitbit) mutate the fixtures the tests build
(``tests/ingest/test_apple_health.py``, ``tests/ingest/test_account_exports.py``), one member at a time.
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

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
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
    "garmin-csv": [b"Activity Type,Date,Title,Distance,Time,Avg HR\n"
                   b"Running,2024-03-01 07:00:00,Run,10.01,00:50:00,150\n"
                   b'Pool Swim,2024-03-02 07:00:00,Swim,"1,500",00:30:00,--\n',
                   (ACT / "garmin-connect-grunt" / "Activities.csv").read_bytes()],
    "consumer": [(MICRO / "ubiome-microbiome-tools" / n).read_bytes()[:20_000] for n in (
        "sprague-ubiome-150815.json", "sprague-uBiomeJun2014.csv")],
    "newick": [b"((Methanobrevibacter_smithii:0.1,'B a':0.2)n1:0.3,(C:0.1,D:0.4):0.2);",
               b"(a:1,(b:2,c:3)[comment]:4,'it''s':5);"],
    "dm": [b"\tS1\tS2\tS3\nS1\t0\t0.5\t0.25\nS2\t0.5\t0\t1e-3\nS3\t0.25\t1e-3\t0\n"],
    "metadata": [b"sample-id\tage\tgroup\n#q2:types\tnumeric\tcategorical\nS1\t31\ta\nS2\t45\tb\n",
                 b'"","BMI","Groupe"\n"S1",22.1,"A"\n"S2",25.3,"B"\n', b"BMI Groupe\nS1 22.1 A\nS2 25.3 B\n"],
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


@st.composite
def _mutated_members(draw: st.DrawFn, files: dict[str, bytes]) -> dict[str, bytes]:
    """The fixture's members with one of them mutated (or replaced by random bytes)."""
    name = draw(st.sampled_from(sorted(files)))
    return {**files, name: draw(mutated([files[name]]))}


def _export_target(reader: Callable[[object], object], files: dict[str, str]) -> tuple[
        st.SearchStrategy[bytes], Callable[[bytes], object], Callable[[object], None]]:
    """A target over a whole account export: the strategy draws member dicts, carried as pickled bytes."""
    import pickle

    from test_account_exports import Members  # on sys.path once _targets has run

    strategy = _mutated_members({k: v.encode() for k, v in files.items()}).map(pickle.dumps)
    return strategy, lambda data: reader(Members(pickle.loads(data))), _bundle  # noqa: S301 - our own bytes


def _bundle(result: object) -> None:
    from gutstride.ingest.bundle import ExportBundle

    assert isinstance(result, ExportBundle), type(result)
    assert len(result.activities) == len(result.extras)


def _targets() -> dict[str, tuple[st.SearchStrategy[bytes], Callable[[bytes], object], Callable[[object], None]]]:
    from zoneinfo import ZoneInfo

    from gutstride.ingest.activities.dispatch import decode_activity
    from gutstride.ingest.activities.fit import read_fit
    from gutstride.ingest.activities.gpx import read_gpx
    from gutstride.ingest.activities.summary_csv import read_summary_csv
    from gutstride.ingest.activities.tcx import read_tcx
    from gutstride.ingest.apple_health import read_apple_health
    from gutstride.ingest.exports import iter_export
    from gutstride.ingest.fitbit import read_fitbit
    from gutstride.ingest.google_fit import read_google_fit
    from gutstride.ingest.logs import read_log
    from gutstride.ingest.microbiome.consumer import read_consumer
    from gutstride.ingest.microbiome.distance_matrix import read_distance_matrix
    from gutstride.ingest.microbiome.metadata import read_metadata
    from gutstride.ingest.microbiome.newick import parse_newick
    from gutstride.ingest.microbiome.read import read_table
    from gutstride.ingest.runkeeper import read_runkeeper

    sys.path.insert(0, str(ROOT / "tests" / "ingest"))  # by path: a dependency ships a top-level "tests" package
    from test_account_exports import fitbit_members, runkeeper_members, takeout_members
    from test_apple_health import export_xml

    sys.path.insert(0, str(ROOT / "tests" / "ingest" / "microbiome"))
    from test_consumer import PROFILE

    zone = ZoneInfo("Europe/Copenhagen")

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
        "garmin-csv": (mutated(SEEDS["garmin-csv"]), read_summary_csv, _decoded),
        "apple-health": (mutated([export_xml().encode()]), lambda d: read_apple_health(io.BytesIO(d)), _bundle),
        "google-fit": _export_target(read_google_fit, takeout_members()),
        "runkeeper": _export_target(lambda c: read_runkeeper(c, zone), runkeeper_members()),
        "fitbit-json": _export_target(lambda c: read_fitbit(c, zone), fitbit_members(False)),
        "fitbit-csv": _export_target(lambda c: read_fitbit(c, zone), fitbit_members(True)),
        "consumer-test": (mutated(SEEDS["consumer"]), _on_file("u.json", read_consumer), none),
        "abundance-profile": (mutated([PROFILE.encode()]), _on_file("p.csv", read_consumer), none),
        "newick": (mutated(SEEDS["newick"]), parse_newick, none),
        "distance-matrix": (mutated(SEEDS["dm"]), _on_file("dm.tsv", read_distance_matrix), none),
        "metadata": (mutated(SEEDS["metadata"]), _on_file("meta.tsv", read_metadata), none),
    }


def fuzz(name: str, strategy: st.SearchStrategy[bytes], reader: Callable[[bytes], object],
         check: Callable[[object], None], seconds: float) -> tuple[int, str]:
    """Run one target for about ``seconds``; return (examples run, "" or the failure)."""
    count = 0

    def one(data: bytes) -> None:
        nonlocal count
        count += 1
        started = time.process_time()  # CPU time: a hang shows, a busy machine does not
        try:
            result = reader(data)
        except GutstrideError:
            return
        check(result)
        assert time.process_time() - started < PER_INPUT_S, "too slow"

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
