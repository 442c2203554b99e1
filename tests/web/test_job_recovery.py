"""A job left ``running`` by a worker that died is taken again by another worker (up to MAX_ATTEMPTS claims, then
failed with the reason), on PostgreSQL and on SQLite; a live worker's job is never taken from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from gutstride.services import jobs
from gutstride.store.schema import JobRow
from gutstride.store.storage import LocalStorage
from gutstride.store.workspace import Workspace

from .conftest import SMALL_GPX, make_account

#: A worker whose import never ends (it stands for a long import), killed with SIGKILL while it runs.
HANGING_WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from gutstride.services import importing, jobs
    from gutstride.store.storage import LocalStorage
    from gutstride.store.workspace import Workspace

    def never_ends(*args, **kwargs):
        print("importing", flush=True)
        time.sleep(600)

    importing.import_files = never_ends
    folder, url = Path(sys.argv[1]), sys.argv[2] or None
    jobs.run_pending(Workspace(folder, database_url=url, storage=LocalStorage(folder)), heartbeat_seconds=0.2)
""")


@pytest.fixture(params=["postgresql", "sqlite"])
def ws_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Workspace, str]]:
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else ""
    folder = tmp_path / "ws"
    yield Workspace(folder, create=True, database_url=url or None, storage=LocalStorage(folder)), url


def _kill_a_worker_in_the_middle(ws: Workspace, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen([sys.executable, "-c", HANGING_WORKER, str(ws.path), url], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "importing"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


def _age_the_lease(ws: Workspace, job_id: int, **values: Any) -> None:
    """Make the dead worker's last heartbeat older than the lease (instead of waiting LEASE_SECONDS)."""
    with ws.session() as session:
        session.execute(update(JobRow).where(JobRow.id == job_id)
                        .values(heartbeat_at=datetime.now(UTC) - 2 * jobs.LEASE, **values))


def test_a_job_of_a_killed_worker_is_run_again_by_another(ws_url: tuple[Workspace, str]) -> None:
    ws, url = ws_url
    athlete = make_account(ws, f"killed-{len(url)}@example.org", "athlete")
    job = jobs.enqueue(ws, athlete.athlete_id, athlete.id, "one.gpx", SMALL_GPX)
    _kill_a_worker_in_the_middle(ws, url)
    assert jobs.get_job(ws, athlete.athlete_id, job)["status"] == "running"
    assert jobs.run_pending(ws) == 0  # the lease of the dead worker has not run out yet
    _age_the_lease(ws, job)
    assert jobs.run_pending(ws) == 1
    done = jobs.get_job(ws, athlete.athlete_id, job)
    assert done["status"] == "done" and [f["status"] for f in done["files"]] == ["ok"] and done["attempts"] == 2


def test_a_job_that_killed_its_workers_max_attempts_times_fails_with_the_reason(
        ws_url: tuple[Workspace, str]) -> None:
    ws, url = ws_url
    athlete = make_account(ws, f"doomed-{len(url)}@example.org", "athlete")
    job = jobs.enqueue(ws, athlete.athlete_id, athlete.id, "one.gpx", SMALL_GPX)
    with ws.engine.connect() as connection, jobs._claim(ws, connection) as claimed:
        assert claimed == (job, athlete.athlete_id)  # a worker that ends here without running it (killed above)
    _age_the_lease(ws, job, attempts=jobs.MAX_ATTEMPTS)
    assert jobs.run_pending(ws) == 0
    failed = jobs.get_job(ws, athlete.athlete_id, job)
    assert failed["status"] == "failed" and f"stopped {jobs.MAX_ATTEMPTS} times" in failed["error"]
    assert not ws.storage.list(jobs.incoming_prefix(athlete.athlete_id, job))


def test_a_live_workers_job_is_not_taken_even_with_an_old_heartbeat(database_url: str, tmp_path: Path) -> None:
    """On PostgreSQL the athlete's advisory lock, held by the live worker, also guards its job."""
    ws = Workspace(tmp_path / "ws", create=True, database_url=database_url, storage=LocalStorage(tmp_path / "ws"))
    athlete = make_account(ws, "alive@example.org", "athlete")
    job = jobs.enqueue(ws, athlete.athlete_id, athlete.id, "one.gpx", SMALL_GPX)
    with ws.engine.connect() as first, ws.engine.connect() as second, jobs._claim(ws, first) as claimed:
        assert claimed == (job, athlete.athlete_id)
        _age_the_lease(ws, job)  # as if its heartbeat thread were stalled
        with jobs._claim(ws, second) as other:
            assert other is None
