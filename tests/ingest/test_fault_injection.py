"""Issue 12: fault injection. An import is killed with SIGKILL at a random moment, once in its main process and
once in a decoding worker. Afterwards no process of it is left, the database is intact, and importing the same
files again reaches exactly the state of an import that was never interrupted."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.schema import ActivityRow, ImportRow
from gutstride.store.workspace import DB_NAME, Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
SOURCES = [
    ACT / "sweatpy" / "activity_4078723797.gpx", ACT / "sweatpy" / "4078723797.fit", ACT / "sweatpy" / "4801048867.fit",
    ACT / "sweatpy" / "activity_4801048867.gpx", ACT / "tcx-python-tcxparser" / "test.tcx",
    ACT / "fit-fitparse" / "garmin-fenix-5-run.fit", ACT / "fit-fitparse" / "DeveloperData.fit",
    ACT / "sweatpy" / "activity_5039744860.tcx",
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for i, source in enumerate(SOURCES):
        shutil.copy(source, folder / f"{i:02}-{source.name}")
    return folder


def state(ws: Workspace) -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
    """What a workspace holds: its activities (summary fields and sources) and the status of each file."""
    with ws.session() as session:
        activities = sorted(
            (str(r.start_time), r.duration_s, r.sport, r.format, Path(r.source_path).name, r.n_records, r.has_stream,
             tuple(sorted(Path(s["path"]).name for s in r.sources)))
            for r in session.scalars(select(ActivityRow)))
        files = sorted((Path(r.path).name, r.status) for r in session.scalars(select(ImportRow)))
    return activities, files


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ...]:
    return state_after_clean_import(inputs, tmp_path_factory.mktemp("ref") / "ws")


def state_after_clean_import(inputs: Path, where: Path) -> tuple[object, ...]:
    ws = Workspace(where, create=True)
    import_files(ws, workspace_athlete(ws), [inputs], workers=1)
    return state(ws)


@pytest.mark.parametrize("target", ["main", "worker"])
def test_kill_at_a_random_moment_then_reimport(inputs: Path, reference: tuple[object, ...], tmp_path: Path,
                                               target: str) -> None:
    ws_path = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "gutstride", "import", str(inputs), "--workspace", str(ws_path),
                             "--workers", "2", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    main = psutil.Process(proc.pid)
    seen: set[psutil.Process] = set()
    deadline = time.monotonic() + 60
    while len(main.children()) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(random.Random(f"{target}-{os.getpid()}").uniform(0.0, 1.5))  # somewhere in the decoding
    try:
        seen.update(main.children(recursive=True))
        victim = main if target == "main" or not seen else sorted(seen, key=lambda p: p.pid)[0]
        victim.send_signal(signal.SIGKILL)
    except psutil.NoSuchProcess:
        pass  # it finished before the kill: the checks below still hold
    proc.communicate(timeout=120)
    _, alive = psutil.wait_procs(list(seen), timeout=15)
    for process in alive:
        process.kill()
    assert not alive, "a process of the killed import was left running"
    with sqlite3.connect(ws_path / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ws = Workspace(ws_path)
    import_files(ws, workspace_athlete(ws), [inputs], workers=1)
    again, files = state(ws)
    ref_activities, ref_files = reference  # type: ignore[misc]
    assert again == ref_activities
    # Each file ends ok, partial or duplicate as in the clean import (a re-import of a stored file is a duplicate).
    final = dict(files)
    for name, status in ref_files:
        assert final[name] == status or (final[name] == "duplicate" and status in ("ok", "partial")), name
    folder = ws.path / "athletes" / str(workspace_athlete(ws)) / "streams"
    with ws.session() as session:
        ids = set(session.scalars(select(ActivityRow.id)))
    assert {int(p.name.split(".")[0]) for p in folder.glob("*.parquet")} <= ids
