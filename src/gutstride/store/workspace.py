"""A workspace: a folder with a SQL database (SQLite by default) and Parquet files beside it.

Layout::

    <workspace>/
      config.toml             optional settings (see gutstride.settings)
      gutstride.sqlite        entities (unless a database URL is given)
      streams/<id>.parquet    per-sample activity streams
      streams/<id>.rr.parquet R-R intervals (HRV), when the file held any
      microbiome/<id>.parquet feature values of one microbiome sample
      .lock                   held (flock) by the import writing to the workspace
      .schema.lock            held while the database is created or migrated

Streams are written before the transaction that adds their rows commits, so an import killed in between leaves
stream files without a row; :meth:`Workspace.remove_orphan_streams` deletes them, under the lock, when the next
import starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gutstride.errors import MissingDataError
from gutstride.settings import Settings, load_settings
from gutstride.store.migrate import upgrade
from gutstride.store.schema import Person

if TYPE_CHECKING:
    import numpy as np

DB_NAME = "gutstride.sqlite"
LOCK_NAME = ".lock"
SCHEMA_LOCK_NAME = ".schema.lock"


def encode_stream(stream: dict[str, np.ndarray]) -> bytes:
    """One activity's stream columns as the Parquet bytes :meth:`Workspace.write_stream` stores (zstd).

    Dictionary encoding is off: sensor columns seldom repeat exactly, and without it writing is about twice as
    fast and the files are smaller (measured on 1 Hz one-hour runs).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(dict(stream)), sink, compression="zstd", use_dictionary=False)
    return bytes(sink.getvalue().to_pybytes())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def _flock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed); call ``on_wait`` once if it must wait."""
    import fcntl

    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Workspace:
    """Open (and on request create) the workspace at ``path``.

    Parameters
    ----------
    path
        The workspace folder.
    create
        Create the folder and database if they do not exist; otherwise a missing workspace is a
        :class:`~gutstride.errors.MissingDataError`.
    database_url
        A SQLAlchemy URL (e.g. PostgreSQL for the web app) instead of the SQLite file in the folder.
    """

    def __init__(self, path: Path, create: bool = False, database_url: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir() or (database_url is None and not (self.path / DB_NAME).exists()):
            if not create:
                raise MissingDataError(
                    f"no workspace at {self.path}: import some data first (gutstride import PATH)"
                )
            self.path.mkdir(parents=True, exist_ok=True)
        self.settings: Settings = load_settings(self.path)
        url = database_url or f"sqlite:///{self.path / DB_NAME}"
        self.engine: Engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        with _flock(self.path / SCHEMA_LOCK_NAME):  # two commands creating one workspace at once migrate in turn
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def person(self, session: Session, person_id: int | None = None) -> Person:
        """The person with ``person_id``; by default the workspace's first person, created if needed."""
        if person_id is not None:
            found = session.get(Person, person_id)
            if found is None:
                raise MissingDataError(f"no person with id {person_id} in {self.path}")
            return found
        first = session.scalars(select(Person).order_by(Person.id).limit(1)).first()
        if first is None:
            first = Person(name="me")
            session.add(first)
            session.flush()
        return first

    @contextmanager
    def locked(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the workspace's write lock: an exclusive ``flock`` on ``<workspace>/.lock``.

        If another process holds it, ``on_wait`` is called once and this one waits until it is released. The
        kernel releases the lock when its holder exits, even on SIGKILL, so a killed import never leaves it
        stuck. (A PostgreSQL workspace of the web app serialises one athlete's imports in its job queue.)
        """
        with _flock(self.path / LOCK_NAME, on_wait):
            yield

    def remove_orphan_streams(self) -> list[Path]:
        """Delete stream and R-R files whose activity row does not exist (left by a killed import); return them.

        Call it while holding :meth:`locked`, so that no import is between writing a stream and committing its row.
        """
        from gutstride.store.schema import ActivityRow

        folder = self.path / "streams"
        if not folder.is_dir():
            return []
        with self.session() as session:
            ids = set(session.scalars(select(ActivityRow.id)))
        removed = []
        for path in folder.glob("*.parquet"):
            stem = path.name.split(".", 1)[0]
            if not (stem.isdigit() and int(stem) in ids):
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    # -- Parquet beside the database -------------------------------------------------------------------
    def stream_path(self, activity_id: int) -> Path:
        return self.path / "streams" / f"{activity_id}.parquet"

    def write_stream(self, activity_id: int, stream: dict[str, np.ndarray] | bytes) -> None:
        """Write one activity's stream columns (see :mod:`gutstride.model.activity`) as Parquet.

        ``stream`` may also be the bytes :func:`encode_stream` made (e.g. in an import worker process).
        """
        target = self.stream_path(activity_id)
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(stream if isinstance(stream, bytes) else encode_stream(stream))

    def rr_path(self, activity_id: int) -> Path:
        return self.path / "streams" / f"{activity_id}.rr.parquet"

    def write_rr(self, activity_id: int, rr_s: np.ndarray) -> None:
        """Write one activity's R-R intervals (seconds, in recorded order) as Parquet, column ``rr_s``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        target = self.rr_path(activity_id)
        target.parent.mkdir(exist_ok=True)
        pq.write_table(pa.table({"rr_s": rr_s}), target, compression="zstd")

    def read_rr(self, activity_id: int) -> np.ndarray | None:
        """One activity's stored R-R intervals in seconds, or None when the file held none."""
        import pyarrow.parquet as pq

        target = self.rr_path(activity_id)
        return pq.read_table(target).column("rr_s").to_numpy() if target.exists() else None

    def read_stream(self, activity_id: int, columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """Read one activity's stream back as numpy columns (only ``columns`` that exist, if given).

        Single-threaded and without pre-buffering: for one small file both cost more than they save (about 3x
        slower on 2 cores).
        """
        import pyarrow.parquet as pq

        target = self.stream_path(activity_id)
        if not target.exists():
            raise MissingDataError(f"activity {activity_id} has no stored stream")
        file = pq.ParquetFile(target, pre_buffer=False)
        if columns is not None:
            columns = [name for name in columns if name in file.schema_arrow.names]
        table = file.read(columns=columns, use_threads=False)
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def microbiome_path(self, sample_row_id: int) -> Path:
        return self.path / "microbiome" / f"{sample_row_id}.parquet"
