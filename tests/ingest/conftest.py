"""Export zips built from the real files in tests/data/activities (Garmin-like nested, Strava-like)."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

ACT = Path(__file__).parents[1] / "data" / "activities"
FIT_A = ACT / "sweatpy" / "4801048867.fit"
FIT_B = ACT / "sweatpy" / "2020-06-01-16-52-40.fit"
FIT_C = ACT / "fit-fitparse" / "activity-small-fenix2-run.fit"
GPX = ACT / "sweatpy" / "4078723797_strava.gpx"
TCX = ACT / "sweatpy" / "activity_4801048867.tcx"


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def garmin_export(tmp_path: Path) -> Path:
    """A zip of zips like Garmin Connect's: FIT files two and three levels down, plus JSON noise."""
    deeper = make_zip({"deep/" + FIT_C.name: FIT_C.read_bytes()}, zipfile.ZIP_STORED)
    part1 = make_zip({FIT_A.name: FIT_A.read_bytes(), FIT_B.name: FIT_B.read_bytes(), "more.zip": deeper})
    outer = make_zip({
        "DI_CONNECT/DI-Connect-Fitness/summarizedActivities.json": b'{"a": 1}',
        "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip": part1,
    })
    path = tmp_path / "garmin-export.zip"
    path.write_bytes(outer)
    return path


STRAVA_CSV = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,"
    "Relative Effort,Activity Gear,Filename,Elapsed Time,Perceived Exertion\n"
    '4801048867,"Feb 3, 2021",Morning Run,Run,,3000,8.1,42,Pegasus 37,activities/4801048867.fit.gz,3000,6\n'
    '4078723797,"Sep 27, 2020","Ride, with a comma",Ride,,3600,30.2,,Canyon,activities/4078723797.gpx.gz,3600,\n'
    "5039744860,\"Mar 25, 2021\",Walk,Walk,,1200,2,,,activities/activity_4801048867.tcx,1200,3\n"
    "999,\"Mar 26, 2021\",Manual entry,Run,,1200,2,,,,1200,\n"
)


@pytest.fixture
def strava_export(tmp_path: Path) -> Path:
    members = {
        "activities.csv": STRAVA_CSV.encode(),
        "activities/4801048867.fit.gz": gzip.compress(FIT_A.read_bytes()),
        "activities/4078723797.gpx.gz": gzip.compress(GPX.read_bytes()),
        "activities/activity_4801048867.tcx": TCX.read_bytes(),
        "profile.csv": b"Athlete ID,Email\n1,a@b.c\n",
    }
    path = tmp_path / "export_12345.zip"
    path.write_bytes(make_zip(members))
    return path


