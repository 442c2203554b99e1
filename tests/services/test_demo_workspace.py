"""The services on the demo workspace: the report they build is the one of the version before the services existed,
and export then erase holds, then removes, everything of the athlete."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from gutstride.ingest.logs import read_log
from gutstride.services.activities import list_activities
from gutstride.services.athletes import workspace_athlete
from gutstride.services.export import ATHLETE_TABLES, erase_athlete, export_athlete
from gutstride.services.logs import list_log_entries
from gutstride.services.report import build_report
from gutstride.store.microbiome import load_samples
from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace

if TYPE_CHECKING:
    from conftest import CliRun  # the type of the ``cli`` fixture in tests/conftest.py


#: The demo report's JSON as the version before the services layer wrote it (``meta`` left out).
REFERENCE = Path(__file__).parents[1] / "data" / "demo-report.json"


@pytest.fixture
def demo_ws(demo_dir: Path, tmp_path: Path) -> Workspace:
    """A copy of the demo workspace, so that erasing it leaves the shared demo alone."""
    copy = tmp_path / "workspace"
    shutil.copytree(demo_dir / "workspace", copy)
    return Workspace(copy)


def _plain(content: object) -> object:
    return json.loads(json.dumps(content, default=str))


def test_the_demo_report_is_unchanged(demo_dir: Path, demo_ws: Workspace) -> None:
    written = json.loads((demo_dir / "report.json").read_text())
    written.pop("meta")
    expected = json.loads(REFERENCE.read_text())
    assert written == expected
    # the service called directly gives the same content
    from gutstride.demo.build import DEMO_LAST_DAY
    from gutstride.jsonout import dumps

    direct = json.loads(dumps(build_report(demo_ws, workspace_athlete(demo_ws), DEMO_LAST_DAY)))
    direct.pop("meta")
    assert direct == expected


def test_export_holds_everything_then_erase_leaves_nothing(demo_ws: Workspace, tmp_path: Path) -> None:
    athlete = workspace_athlete(demo_ws)
    activities = list_activities(demo_ws, athlete)
    entries = list_log_entries(demo_ws, athlete)
    samples, table = load_samples(demo_ws, athlete)
    assert activities and entries and len(samples)

    summary = export_athlete(demo_ws, athlete, tmp_path / "export.zip")
    assert summary.counts["activities"] == len(activities) and summary.counts["log_entries"] == len(entries)
    with zipfile.ZipFile(summary.path) as archive:
        names = set(archive.namelist())
        assert {"README.txt", "profile.json", "profile.csv", "log.csv", "log.json", "activities.csv",
                "activities.json", "imports.csv", "imports.json", "microbiome/samples.csv",
                "microbiome/samples.biom"} <= names
        # every activity, with its stream; every log entry, read back by the log reader; every sample
        exported = pd.read_csv(io.BytesIO(archive.read("activities.csv")))
        assert sorted(exported["id"]) == sorted(a["id"] for a in activities)
        for a in activities:
            stream = pq.read_table(io.BytesIO(archive.read(f"streams/{a['id']}.parquet")))
            assert stream.num_rows > 0
        assert read_log(archive.read("log.csv"), "log.csv") == entries
        import biom

        exported_table = biom.parse_table(archive.read("microbiome/samples.biom").decode())
        assert sorted(exported_table.ids()) == sorted(table.sample_ids)
        assert exported_table.sum() == pytest.approx(table.data.sum())
        originals = [n for n in names if n.startswith("originals/")]
        imports = json.loads(archive.read("imports.json"))
        assert len(originals) == sum(1 for r in imports if r["status"] in ("ok", "partial"))
        profile = json.loads(archive.read("profile.json"))
        assert profile["birth_year"] is not None and profile["name"] == "Demo athlete"

    removed = erase_athlete(demo_ws, athlete)
    assert removed["activities"] == len(activities) and removed["log_entries"] == len(entries)
    assert removed["files"] > len(activities)
    with demo_ws.session() as session:
        for table_class in ATHLETE_TABLES.values():
            assert session.scalar(select(func.count()).select_from(table_class)
                                  .where(table_class.person_id == athlete)) == 0
    assert demo_ws.storage.list(athlete_prefix(athlete)) == []
    assert not (demo_ws.path / "athletes" / str(athlete)).exists()



def test_cli_activities_export_erase(demo_ws: Workspace, tmp_path: Path, cli: CliRun) -> None:
    ws = str(demo_ws.path)
    code, out, _ = cli("activities", "--workspace", ws, "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows and set(rows[0]) == {"id", "sport", "start_time", "duration_s", "distance_m", "avg_hr", "max_hr",
                                     "source_files", "status"}
    assert all(r["start_time"].endswith("Z") and r["source_files"] for r in rows)
    starts = [r["start_time"] for r in rows]
    assert starts == sorted(starts)
    code, out, _ = cli("activities", "--workspace", ws, "--json", "--since", "2026-10-01",
                        "--sport", "running")
    recent = json.loads(out)
    assert recent and all(r["sport"] == "running" and r["start_time"] >= "2026-10-01" for r in recent)
    assert len(recent) < len(rows)

    code, _, err = cli("activities", "--workspace", ws, "--since", "last week")
    assert code == 2 and "YYYY-MM-DD" in err

    victim = rows[0]["id"]
    code, out, _ = cli("activities", "--workspace", ws, "--remove", str(victim))
    assert code == 0 and f"removed activity {victim}" in out
    code, _, err = cli("activities", "--workspace", ws, "--remove", str(victim))
    assert code == 2 and "no activity" in err

    code, out, _ = cli("export", "--workspace", ws, "-o", str(tmp_path / "mine.zip"), "--json")
    assert code == 0 and json.loads(out)["activities"] == len(rows) - 1
    code, _, err = cli("erase", "--workspace", ws)
    assert code == 2 and "--yes" in err
    code, out, _ = cli("erase", "--workspace", ws, "--yes", "--json")
    assert code == 0 and json.loads(out)["activities"] == len(rows) - 1
    assert not list((demo_ws.path / "athletes").glob("*/*"))

