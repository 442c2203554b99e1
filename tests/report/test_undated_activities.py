"""Issue 12, defect 1: a FIT activity without absolute timestamps is stored as "partial" with the reason, kept out
of the time-based analyses, and never breaks the report; ``gutstride activities --remove ID`` removes it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import fitdecode
import pytest

from gutstride.report.write import write_report
from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.services.report import build_report
from gutstride.store.activities import load_activities, remove_activity
from gutstride.store.workspace import Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
UNDATED = [ACT / "fit-fitparse" / name for name in ("compressed-speed-distance.fit", "DeveloperData.fit",
                                                     "antfs-dump.63.fit")]
DATED = ACT / "fit-fitparse" / "garmin-fenix-5-run.fit"


def has_absolute_time(path: Path) -> bool:
    """Whether fitdecode finds any record or session timestamp at or after 1990 (FIT's epoch + 10 years)."""
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.DISABLED) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name in ("record", "session", "lap"):
                value = frame.get_value("timestamp", fallback=None) if frame.has_field("timestamp") else None
                if value is not None and hasattr(value, "year") and value.year >= 2000:
                    return True
    return False


@pytest.mark.parametrize("path", UNDATED, ids=lambda p: p.name)
def test_undated_fit_is_partial_and_the_report_still_works(tmp_path: Path, path: Path) -> None:
    assert not has_absolute_time(path)
    ws = Workspace(tmp_path / "ws", create=True)
    records = import_files(ws, workspace_athlete(ws), [path, DATED], workers=1)
    assert [r.status for r in records] == ["partial", "ok"]
    assert "no absolute start time" in records[0].message
    content = build_report(ws, workspace_athlete(ws), date(2017, 12, 31))
    write_report(content, tmp_path / "r.html")
    assert content["training"]["n_sessions"] == 1  # the dated run only
    assert "1 activity without a start time" in content["data_used"]["summary"]


def test_remove_activity_and_the_cli_option(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    import_files(ws, workspace_athlete(ws), [UNDATED[0], DATED], workers=1)
    frame = load_activities(ws, workspace_athlete(ws))
    undated_id = int(frame.loc[frame["start_time"].isna(), "id"].iloc[0])
    assert ws.storage.exists(ws.stream_key(workspace_athlete(ws), undated_id))
    out = subprocess.run([sys.executable, "-m", "gutstride", "activities", "--remove", str(undated_id),
                          "--workspace", str(ws.path), "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["removed"] == undated_id
    assert not ws.storage.exists(ws.stream_key(workspace_athlete(ws), undated_id))
    remaining = set(load_activities(ws, workspace_athlete(ws))["id"])
    assert remaining and undated_id not in remaining
    with pytest.raises(Exception, match=f"no activity with id {undated_id}"):
        remove_activity(ws, workspace_athlete(ws), undated_id)
    again = subprocess.run([sys.executable, "-m", "gutstride", "activities", "--remove", str(undated_id),
                            "--workspace", str(ws.path)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and len(again.stderr.splitlines()) == 1
