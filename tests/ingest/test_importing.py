"""The import pipeline on real files: every file gets a record, bad ones don't stop the batch, re-import adds
nothing, and the same activity from several sources is kept once."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gutstride.errors import MissingDataError
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import collect_files, import_files
from gutstride.store.activities import load_activities, load_stream
from gutstride.store.schema import ActivityRow, ImportRow
from gutstride.store.workspace import Workspace

from .conftest import ACT, FIT_A, FIT_C, STRAVA_CSV, make_zip

SWEAT = ACT / "sweatpy"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", create=True)


def counts(ws: Workspace) -> tuple[int, int]:
    with ws.session() as session:
        return (
            session.scalar(select(func.count()).select_from(ActivityRow)) or 0,
            session.scalar(select(func.count()).select_from(ImportRow)) or 0,
        )


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder of good and bad real files, with a subfolder and a hidden file."""
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    for rel in ("fit-fitparse/activity-small-fenix2-run.fit", "tcx-python-tcxparser/test.tcx",
                "fit-fitparse/activity-unexpected-eof.fit", "fit-fitparse/Settings.fit", "gpx-gpxpy/route.gpx"):
        shutil.copy(ACT / rel, folder / Path(rel).name)
    shutil.copy(SWEAT / "6449921903_ACTIVITY.fit", folder / "sub" / "6449921903_ACTIVITY.fit")
    (folder / "sub" / "6449921903_ACTIVITY.fit.gz").write_bytes(
        gzip.compress((SWEAT / "6449921903_ACTIVITY.fit").read_bytes())
    )
    shutil.copy(SWEAT / "LICENSE", folder / "LICENSE")
    (folder / "empty.fit").write_bytes(b"")
    (folder / "noise.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "truncated.fit").write_bytes(FIT_C.read_bytes()[:5])
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    return folder


def test_every_file_gets_one_record_and_bad_ones_do_not_stop_the_batch(ws: Workspace, mixed: Path) -> None:
    records = import_files(ws, workspace_athlete(ws), [mixed], workers=1)
    files = collect_files([mixed])
    assert [r.path for r in records] == [str(f) for f in files]
    assert ".DS_Store" not in {Path(r.path).name for r in records}
    status = {Path(r.path).name: r.status for r in records}
    assert status["activity-small-fenix2-run.fit"] == "ok"
    assert status["test.tcx"] == "ok"
    assert status["6449921903_ACTIVITY.fit"] == "ok"
    assert status["activity-unexpected-eof.fit"] == "partial"
    assert status["empty.fit"] == "error"
    assert status["truncated.fit"] == "error"
    assert status["route.gpx"] == "error"  # a route is planned, not recorded
    assert status["Settings.fit"] == "skipped"  # a FIT file, but no activity in it
    assert status["LICENSE"] == "skipped" and status["noise.bin"] == "skipped"
    messages = {Path(r.path).name: r.message for r in records}
    assert messages["LICENSE"].startswith("not a file gutstride reads")
    assert all(r.message for r in records if r.status in ("error", "skipped", "partial", "duplicate"))
    # The gzipped copy holds the same activity: kept once, both files recorded.
    assert status["6449921903_ACTIVITY.fit.gz"] == "duplicate"
    frame = load_activities(ws, workspace_athlete(ws))
    assert len(frame) == 4  # fenix2 run, tcx, eof (partial), 6449921903
    assert all(r.sha256 and len(r.sha256) == 64 for r in records)


def test_reimport_adds_nothing(ws: Workspace, mixed: Path) -> None:
    first = import_files(ws, workspace_athlete(ws), [mixed], workers=1)
    before = counts(ws)
    frame_before = load_activities(ws, workspace_athlete(ws))
    again = import_files(ws, workspace_athlete(ws), [mixed], workers=1)
    assert counts(ws) == before
    assert len(again) == len(first)
    for old, new in zip(first, again, strict=True):
        if old.status in ("ok", "partial", "duplicate"):
            assert new.status == "duplicate" and new.message.startswith("already imported"), new
        else:  # failures are tried again, and their row updated in place
            assert (new.status, new.message) == (old.status, old.message)
    assert load_activities(ws, workspace_athlete(ws))["sources"].tolist() == frame_before["sources"].tolist()


def test_fit_gpx_tcx_of_one_run_are_kept_once_with_three_sources(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "triplet"
    folder.mkdir()
    for name in ("activity_4801048867.gpx", "activity_4801048867.tcx", "4801048867.fit"):
        shutil.copy(SWEAT / name, folder / name)
    records = import_files(ws, workspace_athlete(ws), [folder], workers=1)
    frame = load_activities(ws, workspace_athlete(ws))
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["format"] == "fit"  # FIT and TCX have the same distinct HR samples; TCX repeats lap points
    assert sorted(s["format"] for s in row["sources"]) == ["fit", "gpx", "tcx"]
    by_name = {Path(r.path).name: r for r in records}
    assert [Path(r.path).name for r in records][0] == "4801048867.fit"  # sorted: the FIT comes first
    assert by_name["4801048867.fit"].status == "ok"
    for name in ("activity_4801048867.gpx", "activity_4801048867.tcx"):
        assert by_name[name].status == "duplicate"
        assert by_name[name].message == f"duplicate of activity {row['id']} (kept the richer FIT)"
    stream = load_stream(ws, workspace_athlete(ws), int(row["id"]))
    assert len(stream["time"]) == 5159


def test_garmin_and_strava_exports(ws: Workspace, tmp_path: Path, garmin_export: Path) -> None:
    strava = tmp_path / "strava.zip"
    strava.write_bytes(make_zip({
        "activities.csv": STRAVA_CSV.replace("4801048867.fit.gz", "4801048867.gpx.gz").encode(),
        "activities/4801048867.gpx.gz": gzip.compress((SWEAT / "4801048867_strava.gpx").read_bytes()),
        "../escape.fit": FIT_C.read_bytes(),
    }))
    records = import_files(ws, workspace_athlete(ws), [garmin_export, strava], workers=1)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in records}
    assert len(records) == 7  # json, 3 FIT from the Garmin zip; csv, gpx.gz and the unsafe member from Strava's
    assert by_name["escape.fit"].status == "skipped" and "traversal" in by_name["escape.fit"].message
    assert by_name["4801048867.gpx.gz"].status == "duplicate"
    assert by_name["4801048867.fit"].status == "ok"
    frame = load_activities(ws, workspace_athlete(ws)).set_index("source_path")
    fit_label = next(r.path for r in records if r.path.endswith("4801048867.fit"))
    kept = frame.loc[fit_label]
    assert kept["format"] == "fit"
    assert kept["name"] == "Morning Run" and kept["perceived_exertion"] == 6 and kept["gear"] == "Pegasus 37"
    strava_source = [s for s in kept["sources"] if s["format"] == "gpx"]
    assert strava_source[0]["strava_id"] == "4801048867" and strava_source[0]["relative_effort"] == 42
    before = counts(ws)
    again = import_files(ws, workspace_athlete(ws), [garmin_export, strava], workers=1)
    assert counts(ws) == before
    assert {r.status for r in again} <= {"duplicate", "skipped"}


def test_process_pool_gives_the_same_records(ws: Workspace, tmp_path: Path, mixed: Path) -> None:
    serial = import_files(w1 := Workspace(tmp_path / "ws1", create=True), workspace_athlete(w1), [mixed], workers=1)
    pooled = import_files(ws, workspace_athlete(ws), [mixed], workers=2)
    assert [(r.path, r.status, r.message, r.n_items) for r in pooled] == [
        (r.path, r.status, r.message, r.n_items) for r in serial
    ]


def test_progress_reports_every_file(ws: Workspace, mixed: Path) -> None:
    calls: list[tuple[int, int, int]] = []
    records = import_files(ws, workspace_athlete(ws), [mixed], workers=1, progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == list(range(1, len(records) + 1))
    total = sum(f.stat().st_size for f in collect_files([mixed]))
    assert calls[-1][1:] == (total, total)


def test_missing_path_and_empty_folder(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="no such file or folder"):
        import_files(ws, workspace_athlete(ws), [tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    assert import_files(ws, workspace_athlete(ws), [tmp_path / "empty"]) == []


def test_unreadable_zip_gets_an_error_record(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 50)
    (record,) = import_files(ws, workspace_athlete(ws), [bad], workers=1)
    assert record.status == "error" and "not a readable zip" in record.message
    assert FIT_A.exists()


def test_a_store_failure_fails_only_that_file(ws: Workspace, mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gutstride.store.activities as store

    real = store.save_activities

    def flaky(ws_: Workspace, session, person, activities, fmt, source_path, *args):  # type: ignore[no-untyped-def]
        if source_path.endswith("test.tcx"):
            raise RuntimeError("disk on fire")
        return real(ws_, session, person, activities, fmt, source_path, *args)

    monkeypatch.setattr(store, "save_activities", flaky)
    records = {Path(r.path).name: r for r in import_files(ws, workspace_athlete(ws), [mixed], workers=1)}
    assert records["test.tcx"].status == "error" and "internal error while storing" in records["test.tcx"].message
    assert records["activity-small-fenix2-run.fit"].status == "ok"
    assert records["6449921903_ACTIVITY.fit"].status == "ok"
    assert len(load_activities(ws, workspace_athlete(ws))) == 3
    monkeypatch.setattr(store, "save_activities", real)
    again = {Path(r.path).name: r for r in import_files(ws, workspace_athlete(ws), [mixed], workers=1)}
    assert again["test.tcx"].status == "ok"  # the failure is retried, and now stored
    assert len(load_activities(ws, workspace_athlete(ws))) == 4


def test_microbiome_tables_and_logs_are_routed(ws: Workspace, tmp_path: Path) -> None:
    import biom

    folder = tmp_path / "other"
    folder.mkdir()
    table = ACT.parent / "microbiome" / "biom-format-examples" / "min_sparse_otu_table.biom"
    shutil.copy(table, folder / table.name)
    (folder / "log.csv").write_text("date,bloating,bristol\n2025-01-02,2,4\n2025-01-03,1,5\n")
    (folder / "bad-log.csv").write_text("date,bloating\nnot a day,2\n")
    first = str(biom.load_table(str(table)).ids()[0])  # several undated samples: the athlete's is chosen
    records = {r.path.rsplit("/", 1)[-1]: r
               for r in import_files(ws, workspace_athlete(ws), [folder], workers=1, sample=first)}
    assert records[table.name].kind == "microbiome" and records[table.name].status == "ok"
    assert records[table.name].n_items == 1
    assert (records["log.csv"].kind, records["log.csv"].status, records["log.csv"].n_items) == ("log", "ok", 2)
    assert (records["bad-log.csv"].kind, records["bad-log.csv"].status) == ("log", "error")
    again = import_files(ws, workspace_athlete(ws), [folder], workers=1, sample=first)
    assert [r.status for r in again] == ["error", "duplicate", "duplicate"]


def test_small_chunks_give_the_same_records(
    ws: Workspace, tmp_path: Path, mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gutstride.ingest.activities.dispatch as dispatch
    import gutstride.services.importing as pipeline

    (mixed / "log.csv").write_text("date,bloating\n2025-01-02,2\n")
    whole = import_files(w1 := Workspace(tmp_path / "ws1", create=True), workspace_athlete(w1), [mixed], workers=1)
    monkeypatch.setattr(pipeline, "CHUNK_BYTES", 100)
    monkeypatch.setattr(pipeline, "START_BYTES", 300)
    chunked = import_files(ws, workspace_athlete(ws), [mixed], workers=1)
    assert [(r.path, r.status, r.message, r.sha256) for r in chunked] == [
        (r.path, r.status, r.message, r.sha256) for r in whole
    ]
    monkeypatch.setattr(dispatch, "MAX_ACTIVITY_BYTES", 1000)
    (mixed / "big.fit").write_bytes(b"\x0e\x10" + FIT_A.read_bytes()[2:])  # a different hash, same activity
    (record,) = [r for r in import_files(ws, workspace_athlete(ws), [mixed], workers=1) if r.path.endswith("big.fit")]
    assert record.status == "error" and "larger than" in record.message
