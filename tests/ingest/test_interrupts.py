"""Issue 12, defects 5 and 7: killing or interrupting an import leaves no worker running and nothing stuck; stream
files of rows never committed are removed by the next import; two imports into one workspace take turns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from gutstride.services.athletes import workspace_athlete
from gutstride.services.importing import import_files
from gutstride.store.schema import ActivityRow, ImportRow
from gutstride.store.workspace import Workspace

ACT = Path(__file__).parents[1] / "data" / "activities"
GPX = ACT / "sweatpy" / "activity_4078723797.gpx"
FIT = ACT / "sweatpy" / "4801048867.fit"


def copies(folder: Path, source: Path, n: int) -> Path:
    """``n`` copies of ``source``, each with a different comment after the root (different hashes, same ride)."""
    folder.mkdir()
    data = source.read_bytes()
    for i in range(n):
        (folder / f"ride-{i:02}{source.suffix}").write_bytes(data + f"<!-- copy {i} -->\n".encode())
    return folder


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 copies of a 3 MB GPX file: an import that lasts long enough to be killed while its workers run."""
    return copies(tmp_path_factory.mktemp("many") / "in", GPX, 8)


def start_import(folder: Path, ws: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gutstride", "import", str(folder), "--workspace", str(ws), "--workers", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_for_workers(proc: subprocess.Popen[str], n: int = 2, timeout: float = 90) -> list[psutil.Process]:
    main = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = main.children(recursive=True)
        if len(children) >= n:
            return children
        assert proc.poll() is None, "the import ended before its workers started"
        time.sleep(0.05)
    raise AssertionError("no workers started")


def gone(processes: list[psutil.Process], timeout: float = 10) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:  # don't leave them behind if the test fails
        process.kill()
    return not alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_exit_when_the_import_is_killed(many: Path, tmp_path: Path, sig: signal.Signals) -> None:
    proc = start_import(many, tmp_path / "ws")
    workers = wait_for_workers(proc)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=30)
    assert gone(workers)


def test_ctrl_c_stops_cleanly_with_one_line(many: Path, tmp_path: Path) -> None:
    proc = start_import(many, tmp_path / "ws")
    workers = wait_for_workers(proc)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.startswith("interrupted") and len(err.strip().splitlines()) == 1, err
    assert gone(workers)
    again = import_files(w := Workspace(tmp_path / "ws"), workspace_athlete(w), [many], workers=2)
    assert len(again) == 8 and {r.status for r in again} <= {"ok", "duplicate"}
    assert len({r.path for r in again}) == 8


def test_stream_files_without_a_row_are_removed_by_the_next_import(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    import_files(ws, workspace_athlete(ws), [FIT], workers=1)
    with ws.session() as session:
        (kept,) = session.scalars(select(ActivityRow.id)).all()
    me = workspace_athlete(ws)
    orphans = [ws.storage.local_path(key) for key in
               (ws.stream_key(me, kept + 1), ws.rr_key(me, kept + 1), ws.stream_key(me, kept + 7))]
    for path in orphans:
        path.write_bytes(b"left by a killed import")
    import_files(ws, me, [GPX], workers=1)
    assert ws.storage.exists(ws.stream_key(me, kept))
    with ws.session() as session:
        ids = set(session.scalars(select(ActivityRow.id)))
    for path in orphans:
        assert int(path.name.split(".")[0]) in ids or not path.exists()
        if path.exists():
            assert path.read_bytes() != b"left by a killed import"


def test_a_second_import_waits_for_the_lock(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    with ws.locked():
        proc = start_import(FIT, ws.path)
        time.sleep(3)
        assert proc.poll() is None  # still waiting
        with ws.session() as session:
            assert session.scalar(select(func.count()).select_from(ImportRow)) == 0
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "waiting for it to finish" in err
    assert [r["status"] for r in json.loads(out)] == ["ok"]


def test_two_imports_at_once_take_turns(tmp_path: Path) -> None:
    few = copies(tmp_path / "few", ACT / "sweatpy" / "activity_5039744860.gpx", 12)
    procs = [start_import(few, tmp_path / "ws") for _ in range(2)]
    outs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0 and "Traceback" not in err, err
    records = [r for out, _ in outs for r in json.loads(out)]
    assert len(records) == 24 and not [r for r in records if r["status"] == "error"]
    assert sum(r["status"] == "ok" for r in records) == 1  # one ride; every other copy a duplicate


def test_every_worker_ignores_ctrl_c_from_its_first_instruction() -> None:
    """The pool is forked at once with SIGINT blocked, so no worker can be stopped by a Ctrl-C that comes before it
    ignores SIGINT (a CI run printed "Process ForkProcess-2:" for one that was)."""
    from gutstride.services.importing import _new_pool

    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    pool = _new_pool(2)
    try:
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before  # the parent's mask is restored
        workers = psutil.Process().children()
        assert len(workers) == 2  # forked before _new_pool returned, not at the first file
        for worker in workers:
            status = Path(f"/proc/{worker.pid}/status").read_text()
            ignored = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
            blocked = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
            assert ignored & (1 << (signal.SIGINT - 1)) and not blocked & (1 << (signal.SIGINT - 1))
    finally:
        pool.shutdown()
