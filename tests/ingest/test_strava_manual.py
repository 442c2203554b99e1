"""Issue 12, defect 9: rows of a Strava ``activities.csv`` without a file (manual strength sessions) were dropped.
They are imported from the list, without a stream, and the record counts the files actually joined."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.activities import load_activities
from gutstride.store.workspace import Workspace

from .conftest import FIT_A, make_zip

CSV = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,"
    "Relative Effort,Activity Gear,Filename,Elapsed Time,Perceived Exertion\n"
    '4801048867,"Feb 3, 2021, 6:30:44 AM",Morning Run,Run,,3000,8.1,42,Pegasus 37,activities/4801048867.fit.gz,'
    "3000,6\n"
    '4078723797,"Sep 27, 2020, 4:00:00 PM",Lost ride,Ride,,3600,30.2,,,activities/4078723797.gpx.gz,3600,\n'
    '111,"Mar 26, 2021, 7:12:33 PM",Gym,Weight Training,,2700,0,,,,2700,7\n'
    '112,"Mar 28, 2021, 8:00:00 AM",Easy jog by hand,Run,,1800,5.2,,,,1800,\n'
    '113,"not a date",Broken,Run,,1800,5.2,,,,1800,\n'
)


def test_manual_rows_become_streamless_activities(tmp_path: Path) -> None:
    export = tmp_path / "export_1.zip"
    export.write_bytes(make_zip({
        "activities.csv": CSV.encode(), "activities/4801048867.fit.gz": gzip.compress(FIT_A.read_bytes()),
    }))
    ws = Workspace(tmp_path / "ws", create=True)
    records = {r.path.rsplit("/", 1)[-1]: r for r in import_files(ws, workspace_athlete(ws), [export], workers=1)}
    listing = records["activities.csv"]
    assert listing.status == "ok" and listing.n_items == 2
    assert "metadata of 1 activities joined" in listing.message
    assert "1 rows name a file that is not in the export" in listing.message
    assert "2 activities without a file" in listing.message
    frame = load_activities(ws, workspace_athlete(ws))
    manual = frame[frame["format"] == "strava-csv"].set_index("name")
    assert list(manual.index) == ["Gym", "Easy jog by hand"]
    gym = manual.loc["Gym"]
    assert gym["sport"] == "strength" and not gym["has_stream"] and gym["duration_s"] == 2700
    assert gym["start_time"].to_pydatetime() == datetime(2021, 3, 26, 19, 12, 33, tzinfo=UTC)
    assert gym["perceived_exertion"] == 7
    assert manual.loc["Easy jog by hand", "distance_m"] == 5200
    assert len(frame) == 3
    again = import_files(ws, workspace_athlete(ws), [export], workers=1)
    assert {r.status for r in again} == {"duplicate"} and len(load_activities(ws, workspace_athlete(ws))) == 3
