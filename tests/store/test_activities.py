"""Storing activities: deduplication across sources, loading back as a DataFrame and streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gutstride.model.activity import Activity, ActivitySummary, empty_stream
from gutstride.services.athletes import workspace_athlete
from gutstride.store.activities import load_activities, load_stream, same_activity, sample_counts, save_activities
from gutstride.store.schema import ActivityRow
from gutstride.store.workspace import Workspace

T0 = datetime(2021, 2, 3, 6, 30, tzinfo=UTC)


def make_activity(start: datetime, duration: float, n: int, n_hr: int, **summary: object) -> Activity:
    stream = empty_stream(n)
    stream["time"] = start.timestamp() + np.linspace(0, duration, n)
    stream["hr"][:n_hr] = 120 + np.arange(n_hr) % 30
    return Activity(
        ActivitySummary(
            sport=str(summary.pop("sport", "running")), start_time=start, duration_s=duration, n_records=n,
            n_hr=n_hr, max_hr=float(np.nanmax(stream["hr"])) if n_hr else None, **summary,  # type: ignore[arg-type]
        ),
        stream,
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", create=True)


def save(ws: Workspace, activity: Activity, fmt: str, sha: str) -> tuple[list[int], list[str]]:
    with ws.session() as session:
        person = ws.athlete(session, workspace_athlete(ws))
        outcome = save_activities(ws, session, person, [activity], fmt, f"{sha}.{fmt}", sha)
    return outcome.new_ids, outcome.duplicates


def test_same_activity_rule_edges() -> None:
    assert same_activity(T0, 1000, T0 + timedelta(seconds=60), 1050)  # 60 s, 4.8 %
    assert not same_activity(T0, 1000, T0 + timedelta(seconds=61), 1000)
    assert not same_activity(T0, 1000, T0, 1060)  # 6000/106000 = 5.7 % of the longer
    assert same_activity(T0, 1000, T0 - timedelta(seconds=30), 950)  # exactly 5 % of the longer


def test_richer_file_stored_first_is_kept_and_both_sources_recorded(ws: Workspace) -> None:
    fit = make_activity(T0, 3000, 3000, 2990)
    gpx = make_activity(T0 + timedelta(seconds=20), 2950, 2900, 2500, name="Morning Run", gear="Pegasus")
    new, dup = save(ws, fit, "fit", "a" * 64)
    assert len(new) == 1 and dup == []
    new2, dup2 = save(ws, gpx, "gpx", "b" * 64)
    assert new2 == []
    assert dup2 == [f"duplicate of activity {new[0]} (kept the richer FIT)"]
    frame = load_activities(ws, workspace_athlete(ws))
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["format"] == "fit" and row["n_records"] == 3000
    assert row["name"] == "Morning Run" and row["gear"] == "Pegasus"  # filled from the GPX
    assert [s["format"] for s in row["sources"]] == ["fit", "gpx"]
    assert load_stream(ws, workspace_athlete(ws), int(row["id"]))["time"].shape == (3000,)


def test_richer_file_arriving_later_replaces_the_stored_one(ws: Workspace) -> None:
    gpx = make_activity(T0, 3000, 3000, 0, name="Strava name")
    tcx = make_activity(T0 - timedelta(seconds=40), 3010, 3000, 3000)
    (first,), _ = save(ws, gpx, "gpx", "c" * 64)
    new, dup = save(ws, tcx, "tcx", "d" * 64)
    assert new == [] and dup == [f"duplicate of activity {first} (kept the richer TCX, this file)"]
    frame = load_activities(ws, workspace_athlete(ws))
    assert len(frame) == 1
    row = frame.iloc[0]
    assert int(row["id"]) == first
    assert row["format"] == "tcx" and row["n_hr"] == 3000 and row["name"] == "Strava name"
    assert row["start_time"] == T0 - timedelta(seconds=40)
    stream = load_stream(ws, workspace_athlete(ws), first)
    np.testing.assert_array_equal(stream["hr"], tcx.stream["hr"])


def test_equal_richness_keeps_fit_over_gpx(ws: Workspace) -> None:
    (first,), _ = save(ws, make_activity(T0, 3000, 100, 100), "gpx", "e" * 64)
    _, dup = save(ws, make_activity(T0, 3000, 100, 100), "fit", "f" * 64)
    assert dup == [f"duplicate of activity {first} (kept the richer FIT, this file)"]


def test_activities_outside_the_tolerances_are_kept_apart(ws: Workspace) -> None:
    save(ws, make_activity(T0, 3000, 10, 10), "fit", "1" * 64)
    save(ws, make_activity(T0 + timedelta(seconds=61), 3000, 10, 10), "gpx", "2" * 64)
    save(ws, make_activity(T0 + timedelta(seconds=5), 3200, 10, 10), "tcx", "3" * 64)
    no_start = make_activity(T0, 3000, 10, 10)
    no_start.summary.start_time = None
    save(ws, no_start, "gpx", "4" * 64)
    assert len(load_activities(ws, workspace_athlete(ws))) == 4


def test_same_file_twice_adds_nothing(ws: Workspace) -> None:
    activity = make_activity(T0, 600, 60, 60)
    (first,), _ = save(ws, activity, "fit", "9" * 64)
    new, dup = save(ws, activity, "fit", "9" * 64)
    assert new == [] and dup == [f"already stored as activity {first}"]
    with ws.session() as session:
        assert session.query(ActivityRow).count() == 1


def test_load_activities_columns_and_utc(ws: Workspace) -> None:
    empty = load_activities(ws, workspace_athlete(ws))
    assert list(empty.columns) == [c.name for c in ActivityRow.__table__.columns]
    assert len(empty) == 0
    save(ws, make_activity(T0 + timedelta(days=1), 600, 60, 60), "fit", "5" * 64)
    save(ws, make_activity(T0, 600, 60, 0, sport="cycling"), "gpx", "6" * 64)
    frame = load_activities(ws, workspace_athlete(ws))
    assert list(frame.columns) == [c.name for c in ActivityRow.__table__.columns]
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert list(frame["start_time"]) == [T0, T0 + timedelta(days=1)]  # sorted by start
    assert list(frame["sport"]) == ["cycling", "running"]
    person = int(frame["person_id"].iloc[0])
    assert len(load_activities(ws, person)) == 2
    assert len(load_activities(ws, ws.create_athlete('other'))) == 0


def test_stream_round_trip_keeps_gaps(ws: Workspace) -> None:
    activity = make_activity(T0, 100, 101, 50)
    (first,), _ = save(ws, activity, "fit", "7" * 64)
    stream = load_stream(ws, workspace_athlete(ws), first)
    assert set(stream) == set(activity.stream)
    for name, column in activity.stream.items():
        np.testing.assert_array_equal(stream[name], column)
    assert np.isnan(stream["hr"][50:]).all()


def test_merged_file_saved_again_adds_no_source(ws: Workspace) -> None:
    (first,), _ = save(ws, make_activity(T0, 3000, 300, 300), "fit", "a" * 64)
    gpx = make_activity(T0, 3000, 200, 200)
    save(ws, gpx, "gpx", "b" * 64)
    _, dup = save(ws, gpx, "gpx", "b" * 64)
    assert dup == [f"already stored as activity {first}"]
    assert len(load_activities(ws, workspace_athlete(ws)).iloc[0]["sources"]) == 2


def test_repeated_timestamps_count_once() -> None:
    activity = make_activity(T0, 9, 10, 10)
    assert sample_counts(activity) == (10, 10)
    activity.stream["time"][5] = activity.stream["time"][4]  # a lap boundary written twice, as TCX does
    activity.stream["hr"][9] = np.nan
    assert sample_counts(activity) == (8, 9)


def test_known_sport_survives_a_richer_file_that_says_other(ws: Workspace) -> None:
    (first,), _ = save(ws, make_activity(T0, 3000, 100, 0, sport="hiking"), "gpx", "c" * 64)
    save(ws, make_activity(T0, 3000, 100, 100, sport="other"), "fit", "d" * 64)
    row = load_activities(ws, workspace_athlete(ws)).iloc[0]
    assert (row["format"], row["sport"]) == ("fit", "hiking")
    (second,), _ = save(ws, make_activity(T0 + timedelta(days=1), 600, 100, 100, sport="other"), "fit", "e" * 64)
    save(ws, make_activity(T0 + timedelta(days=1), 600, 10, 0, sport="walking"), "gpx", "f" * 64)
    assert load_activities(ws, workspace_athlete(ws)).set_index("id").loc[second, "sport"] == "walking"


def test_rr_intervals_are_kept_beside_the_stream(tmp_path: Path) -> None:
    import fitdecode

    from gutstride.services.importing import import_files

    path = Path(__file__).parents[1] / "data" / "activities" / "fit-fitparse" / "garmin-fenix-5-run.fit"
    ws = Workspace(tmp_path / "ws", create=True)
    import_files(ws, workspace_athlete(ws), [path], workers=1)
    (activity_id,) = load_activities(ws, workspace_athlete(ws))["id"]
    expected = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "hrv":
                expected += [v for v in frame.get_value("time") or () if v is not None]
    stored = ws.read_rr(workspace_athlete(ws), int(activity_id))
    assert stored is not None and len(expected) > 50
    np.testing.assert_allclose(stored, expected, atol=1e-9)
    assert ws.read_rr(workspace_athlete(ws), int(activity_id) + 1) is None
