"""Background imports: a small job queue in the database, and the worker that runs it.

The web process only stores the upload (under the athlete's ``incoming/`` prefix) and adds a ``queued`` row to
``import_job``; ``gutstride worker`` (a separate process, started beside the web server by ``gutstride serve``)
claims jobs and runs :func:`gutstride.services.importing.import_files` on them.

Claiming, on PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` over queued jobs (oldest first), so concurrent
workers never take the same row, and for each candidate ``pg_try_advisory_lock(LOCK_SPACE, athlete id)``, a
session-level lock held on the worker's own connection for the whole import. So one athlete's imports run one
at a time in upload order, while different athletes' imports run in parallel on several workers; if a worker
dies, its connection closes and the lock goes with it. On SQLite (a one-user trial) one worker runs jobs in order.

A worker that dies in the middle of an import (killed, out of memory, the machine rebooted) leaves its job
``running``. So a worker holds a lease on the job it runs: a heartbeat thread writes ``heartbeat_at`` every
``heartbeat_seconds`` (:data:`HEARTBEAT_SECONDS`), and a ``running`` job whose last heartbeat is older than
:data:`LEASE` is claimed again by the next free worker, like a queued one; the import is idempotent (files already
stored come back as duplicates). Each claim counts in ``attempts``; a job whose workers died :data:`MAX_ATTEMPTS`
times (an upload that kills the importer, say) is marked failed with that reason instead of being run again. On
PostgreSQL the athlete's advisory lock, which the live worker holds for the whole import, also keeps a job whose
worker is alive but slow to beat from being taken. The lease compares the workers' clocks: keep them in time (NTP).
Claims are conditional updates (status and heartbeat unchanged since read), so two workers never both win one job.

Each job keeps its progress (files and bytes done), one status per file read (the import records), and, if it
failed, the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.engine import Connection

from gutstride.errors import GutstrideError
from gutstride.ingest.exports import ZipLimits
from gutstride.store.schema import JobRow
from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace

log = logging.getLogger(__name__)

#: First key of the two-key advisory locks that serialise one athlete's imports.
LOCK_SPACE = 16016
#: Shortest interval between two progress writes of one job.
PROGRESS_SECONDS = 0.5
#: How often a worker writes the heartbeat of the job it runs.
HEARTBEAT_SECONDS = 10.0
#: A running job whose last heartbeat is older than this has lost its worker and is claimed again.
LEASE = timedelta(seconds=60)
#: Claims of one job (the first run and the runs after dead workers) before it is marked failed.
MAX_ATTEMPTS = 3


def incoming_prefix(athlete_id: int, job_id: int) -> str:
    return f"{athlete_prefix(athlete_id)}incoming/{int(job_id)}/"


def enqueue(ws: Workspace, athlete_id: int, user_id: int | None, file_name: str, upload: Path) -> int:
    """Keep the uploaded file at ``upload`` under the athlete's ``incoming/`` prefix and queue its import."""
    with ws.session() as session:
        ws.athlete(session, athlete_id)
        job = JobRow(person_id=athlete_id, user_id=user_id, status="queued", file_name=file_name[:300],
                     upload_key="", files=[], created_at=datetime.now(UTC))
        session.add(job)
        session.flush()
        job_id = job.id
    key = incoming_prefix(athlete_id, job_id) + Path(ws.upload_key(athlete_id, "x", file_name)).name
    ws.storage.put_file(key, upload)
    with ws.session() as session:
        session.execute(update(JobRow).where(JobRow.id == job_id).values(upload_key=key))
    return job_id


def job_dict(job: JobRow) -> dict[str, Any]:
    return {"job_id": job.id, "athlete_id": job.person_id, "status": job.status, "file_name": job.file_name,
            "files_done": job.files_done, "bytes_done": job.bytes_done, "bytes_total": job.bytes_total,
            "files": job.files, "error": job.error, "attempts": job.attempts, "created_at": job.created_at,
            "finished_at": job.finished_at}


def job_athlete(ws: Workspace, job_id: int) -> int | None:
    """Whose job ``job_id`` is (None if there is no such job)."""
    with ws.session() as session:
        return session.scalar(select(JobRow.person_id).where(JobRow.id == job_id))


def get_job(ws: Workspace, athlete_id: int, job_id: int) -> dict[str, Any] | None:
    with ws.session() as session:
        job = session.get(JobRow, job_id)
        return job_dict(job) if job is not None and job.person_id == athlete_id else None


def list_jobs(ws: Workspace, athlete_id: int, limit: int = 20) -> list[dict[str, Any]]:
    with ws.session() as session:
        rows = session.scalars(select(JobRow).where(JobRow.person_id == athlete_id).order_by(JobRow.id.desc())
                               .limit(limit))
        return [job_dict(j) for j in rows]


def _gave_up(attempts: int) -> str:
    return (f"the import worker stopped {attempts} times while importing this upload (it crashed or was killed): "
            "upload it again, and report it if it happens again")


@contextmanager
def _claim(ws: Workspace, connection: Connection) -> Iterator[tuple[int, int] | None]:
    """Claim the oldest runnable job: (job id, athlete id), marked running; None if there is none.

    Runnable: queued, or running with a lease run out (its worker died). A job whose workers died
    :data:`MAX_ATTEMPTS` times is marked failed instead (its upload copy and the athlete's cached reports deleted).
    """
    postgres = connection.dialect.name == "postgresql"
    locked: int | None = None
    claimed: tuple[int, int] | None = None
    gave_up: list[tuple[int, int]] = []
    now = datetime.now(UTC)
    with connection.begin():
        orphaned = and_(JobRow.status == "running",
                        or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < now - LEASE))
        query = (select(JobRow.id, JobRow.person_id, JobRow.status, JobRow.heartbeat_at, JobRow.attempts)
                 .where(or_(JobRow.status == "queued", orphaned)).order_by(JobRow.id))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        for job_id, athlete_id, status, heartbeat, attempts in connection.execute(query.limit(50)).all():
            if postgres:
                if not connection.scalar(text("SELECT pg_try_advisory_lock(:space, :athlete)"),
                                         {"space": LOCK_SPACE, "athlete": athlete_id}):
                    continue  # another worker is importing for this athlete
                locked = athlete_id
            unchanged = (JobRow.id == job_id, JobRow.status == status,
                         JobRow.heartbeat_at.is_(None) if heartbeat is None else JobRow.heartbeat_at == heartbeat)
            if status == "running" and attempts >= MAX_ATTEMPTS:
                values: dict[str, Any] = {"status": "failed", "error": _gave_up(attempts), "finished_at": now}
            else:
                values = {"status": "running", "started_at": now, "heartbeat_at": now, "attempts": attempts + 1}
            won = connection.execute(update(JobRow).where(*unchanged).values(**values)).rowcount == 1
            if won and values["status"] == "running":
                claimed = (job_id, athlete_id)
                break
            if won:
                gave_up.append((job_id, athlete_id))
            if locked is not None:
                connection.execute(text("SELECT pg_advisory_unlock(:space, :athlete)"),
                                   {"space": LOCK_SPACE, "athlete": locked})
                locked = None
    if gave_up:
        from gutstride.services.report_cache import invalidate

        for job_id, athlete_id in gave_up:
            ws.storage.delete_prefix(incoming_prefix(athlete_id, job_id))
            invalidate(ws, athlete_id)  # the dead runs may have stored part of the upload
    try:
        yield claimed
    finally:
        if locked is not None:
            connection.execute(text("SELECT pg_advisory_unlock(:space, :athlete)"),
                               {"space": LOCK_SPACE, "athlete": locked})
            connection.commit()


@contextmanager
def _heartbeat(ws: Workspace, job_id: int, seconds: float) -> Iterator[None]:
    """Write the job's ``heartbeat_at`` every ``seconds`` while the body runs (in a thread: an import may spend
    minutes in one file)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            try:
                _set(ws, job_id, heartbeat_at=datetime.now(UTC))
            except Exception:  # a lost beat is retried at the next one; the lease is several beats long
                log.warning("heartbeat of import job %s failed", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _set(ws: Workspace, job_id: int, **values: Any) -> None:
    with ws.session() as session:
        session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))


def run_job(ws: Workspace, job_id: int, athlete_id: int, limits: ZipLimits | None = None) -> None:
    """Import the upload of a claimed job; record per-file statuses, or the reason it failed."""
    from gutstride.services.importing import import_files
    from gutstride.services.report_cache import invalidate

    with ws.session() as session:
        key = session.scalar(select(JobRow.upload_key).where(JobRow.id == job_id)) or ""
    last = [0.0]

    def progress(files_done: int, bytes_done: int, bytes_total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            _set(ws, job_id, files_done=files_done, bytes_done=bytes_done, bytes_total=bytes_total)

    try:
        if not key or not ws.storage.exists(key):
            raise GutstrideError("the uploaded file is missing")
        records = import_files(ws, athlete_id, [ws.storage.local_path(key)],
                               workers=int(ws.settings["import_workers"]) or 1, progress=progress, limits=limits)
    except GutstrideError as exc:
        _set(ws, job_id, status="failed", error=str(exc), finished_at=datetime.now(UTC))
    except Exception as exc:  # a bug in an import must not stop the worker; the job keeps the reason
        log.exception("import job %s failed", job_id)
        _set(ws, job_id, status="failed", error=f"internal error: {type(exc).__name__}: {exc}",
             finished_at=datetime.now(UTC))
    else:
        upload_name = Path(key).name
        files = [{"file": r.path.split(str(Path(key).parent), 1)[-1].lstrip("/") or upload_name, "status": r.status,
                  "kind": r.kind, "message": r.message} for r in records]
        _set(ws, job_id, status="done", files=files, files_done=len(files), finished_at=datetime.now(UTC))
    finally:
        ws.storage.delete_prefix(incoming_prefix(athlete_id, job_id))
        invalidate(ws, athlete_id)


def run_pending(ws: Workspace, limits: ZipLimits | None = None, stop: threading.Event | None = None,
                heartbeat_seconds: float = HEARTBEAT_SECONDS) -> int:
    """Run queued jobs (and jobs of dead workers) until none is left (or ``stop`` is set); returns how many ran."""
    n = 0
    with ws.engine.connect() as connection:
        while stop is None or not stop.is_set():
            with _claim(ws, connection) as claimed:
                if claimed is None:
                    return n
                with _heartbeat(ws, claimed[0], heartbeat_seconds):
                    run_job(ws, *claimed, limits=limits)
                n += 1
    return n


def run_worker(ws: Workspace, limits: ZipLimits | None = None, poll_seconds: float = 0.5,
               stop: threading.Event | None = None) -> None:
    """Run jobs as they come, polling every ``poll_seconds``, until ``stop`` is set (or forever)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        if not run_pending(ws, limits, stop):
            stop.wait(poll_seconds)
