"""A workspace: a SQL database (a SQLite file in the folder by default) and the athletes' files beside it.

Layout of a workspace folder::

    <workspace>/
      config.toml             optional settings (see gutstride.settings)
      gutstride.sqlite        entities (unless a database URL is given)
      athletes/<id>/...       each athlete's streams, R-R intervals, microbiome features and original uploads
                              (see gutstride.store.storage for the keys)
      .lock                   held (flock) by the import writing to the workspace
      .schema.lock            held while the database is created or migrated

Every read and write of an athlete's data takes the athlete's id. Files are found under that athlete's prefix,
so a row id of another athlete finds nothing.

Opening a workspace checks the schema revision; an older database is migrated once (``migrated_from`` then says
from which revision), and files of the layout before per-athlete prefixes (``streams/``, ``microbiome/`` at the
top) are moved under their athlete's prefix. One engine is kept per database URL per process.

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
from gutstride.store.migrate import current_revision, head_revision, upgrade
from gutstride.store.schema import ActivityRow, MicrobiomeSampleRow, Person
from gutstride.store.storage import LocalStorage, Storage, athlete_prefix, checked_athlete_id

if TYPE_CHECKING:
    import numpy as np

DB_NAME = "gutstride.sqlite"
LOCK_NAME = ".lock"
SCHEMA_LOCK_NAME = ".schema.lock"

_ENGINES: dict[str, Engine] = {}


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


def engine_for(url: str) -> Engine:
    """The one engine of this process for ``url`` (SQLite gets WAL and enforced foreign keys)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine(url)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        _ENGINES[url] = engine
    return engine


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
        The workspace folder (and the default storage root).
    create
        Create the folder and database if they do not exist; otherwise a missing workspace is a
        :class:`~gutstride.errors.MissingDataError`.
    database_url
        A SQLAlchemy URL (e.g. PostgreSQL for the web app) instead of the SQLite file in the folder.
    storage
        Where athletes' files live (default: the workspace folder).
    """

    def __init__(self, path: Path, create: bool = False, database_url: str | None = None,
                 storage: Storage | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_dir() or (database_url is None and not (self.path / DB_NAME).exists()):
            if not create:
                raise MissingDataError(
                    f"no workspace at {self.path}: import some data first (gutstride import PATH)"
                )
            self.path.mkdir(parents=True, exist_ok=True)
        self.settings: Settings = load_settings(self.path)
        self.storage: Storage = storage or LocalStorage(self.path)
        url = database_url or f"sqlite:///{self.path / DB_NAME}"
        if database_url is None and not (self.path / DB_NAME).exists() and url in _ENGINES:
            _ENGINES.pop(url).dispose()  # the file was deleted since: don't reuse connections to the old one
        self.engine: Engine = engine_for(url)
        #: The revision an older database was migrated from when this workspace was opened (None: no migration).
        self.migrated_from: str | None = None
        before = current_revision(self.engine)
        if before != head_revision():
            with _flock(self.path / SCHEMA_LOCK_NAME):  # two commands creating one workspace at once migrate in turn
                before = current_revision(self.engine)
                if before != head_revision():
                    upgrade(self.engine)
                    self.migrated_from = before or ("new" if create else None)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._move_legacy_files()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    # -- athletes ----------------------------------------------------------------------------------------------
    def athlete(self, session: Session, athlete_id: int) -> Person:
        """The athlete with ``athlete_id``; :class:`MissingDataError` if there is none."""
        found = session.get(Person, checked_athlete_id(athlete_id))
        if found is None:
            raise MissingDataError(f"no athlete with id {athlete_id} in this workspace")
        return found

    def athlete_ids(self) -> list[int]:
        """Every athlete's id, in creation order."""
        with self.session() as session:
            return list(session.scalars(select(Person.id).order_by(Person.id)))

    def create_athlete(self, name: str = "me", is_demo: bool = False) -> int:
        """Add an athlete and return their id."""
        with self.session() as session:
            person = Person(name=name, is_demo=is_demo)
            session.add(person)
            session.flush()
            return person.id

    @contextmanager
    def locked(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the workspace's write lock: an exclusive ``flock`` on ``<workspace>/.lock``.

        If another process holds it, ``on_wait`` is called once and this one waits until it is released. The
        kernel releases the lock when its holder exits, even on SIGKILL, so a killed import never leaves it
        stuck. (A PostgreSQL workspace of the web app serialises one athlete's imports in its job queue.)
        """
        with _flock(self.path / LOCK_NAME, on_wait):
            yield

    @contextmanager
    def setup_locked(self) -> Iterator[None]:
        """Hold the lock of one-time set-up (``.schema.lock``): creating or migrating the database, creating the
        athlete of a new command-line workspace; two commands starting on a new workspace take turns."""
        with _flock(self.path / SCHEMA_LOCK_NAME):
            yield

    def remove_orphan_streams(self) -> list[str]:
        """Delete stream and R-R files whose activity row does not exist (left by a killed import); return their keys.

        Call it while holding :meth:`locked`, so that no import is between writing a stream and committing its row.
        """
        with self.session() as session:
            athletes = list(session.scalars(select(Person.id)))
            owned = {(person, row) for row, person in session.execute(select(ActivityRow.id, ActivityRow.person_id))}
        removed = []
        for athlete in athletes:
            for key in self.storage.list(f"{athlete_prefix(athlete)}streams/"):
                stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
                if not (stem.isdigit() and (athlete, int(stem)) in owned):
                    self.storage.delete(key)
                    removed.append(key)
        return removed

    # -- files under the athlete's prefix -------------------------------------------------------------------
    @staticmethod
    def stream_key(athlete_id: int, activity_id: int) -> str:
        return f"{athlete_prefix(athlete_id)}streams/{int(activity_id)}.parquet"

    @staticmethod
    def rr_key(athlete_id: int, activity_id: int) -> str:
        return f"{athlete_prefix(athlete_id)}streams/{int(activity_id)}.rr.parquet"

    @staticmethod
    def microbiome_key(athlete_id: int, sample_row_id: int) -> str:
        return f"{athlete_prefix(athlete_id)}microbiome/{int(sample_row_id)}.parquet"

    @staticmethod
    def phylum_key(athlete_id: int, sample_row_id: int) -> str:
        """Key of a sample's counts at the phylum rank, as its file reported them (consumer gut tests)."""
        return f"{athlete_prefix(athlete_id)}microbiome/{int(sample_row_id)}.phylum.parquet"

    @staticmethod
    def upload_key(athlete_id: int, sha256: str, name: str) -> str:
        """Key of an original upload: its hash, then its file name (folders and unsafe characters dropped)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.rsplit("/", 1)[-1]).lstrip(".")
        return f"{athlete_prefix(athlete_id)}uploads/{sha256}/{safe or 'file'}"

    def write_stream(self, athlete_id: int, activity_id: int, stream: dict[str, np.ndarray] | bytes) -> None:
        """Write one activity's stream columns (see :mod:`gutstride.model.activity`) as Parquet.

        ``stream`` may also be the bytes :func:`encode_stream` made (e.g. in an import worker process).
        """
        data = stream if isinstance(stream, bytes) else encode_stream(stream)
        self.storage.write_bytes(self.stream_key(athlete_id, activity_id), data)

    def write_rr(self, athlete_id: int, activity_id: int, rr_s: np.ndarray) -> None:
        """Write one activity's R-R intervals (seconds, in recorded order) as Parquet, column ``rr_s``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(pa.table({"rr_s": rr_s}), sink, compression="zstd")
        self.storage.write_bytes(self.rr_key(athlete_id, activity_id), bytes(sink.getvalue().to_pybytes()))

    def read_rr(self, athlete_id: int, activity_id: int) -> np.ndarray | None:
        """One activity's stored R-R intervals in seconds, or None when the file held none."""
        import pyarrow.parquet as pq

        key = self.rr_key(athlete_id, activity_id)
        if not self.storage.exists(key):
            return None
        with pq.ParquetFile(self.storage.local_path(key)) as file:
            return file.read(columns=["rr_s"]).column("rr_s").to_numpy()

    def read_stream(self, athlete_id: int, activity_id: int,
                    columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """Read one activity's stream back as numpy columns (only ``columns`` that exist, if given).

        Single-threaded and without pre-buffering: for one small file both cost more than they save (about 3x
        slower on 2 cores).
        """
        import pyarrow.parquet as pq

        key = self.stream_key(athlete_id, activity_id)
        if not self.storage.exists(key):
            raise MissingDataError(f"activity {activity_id} has no stored stream")
        with pq.ParquetFile(self.storage.local_path(key), pre_buffer=False) as file:
            if columns is not None:
                present = set(file.schema_arrow.names)
                columns = [name for name in columns if name in present]
            table = file.read(columns=columns, use_threads=False)
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def _move_legacy_files(self) -> None:
        """Move ``streams/`` and ``microbiome/`` files of the layout before per-athlete prefixes into place."""
        legacy = [self.path / "streams", self.path / "microbiome"]
        if not any(folder.is_dir() for folder in legacy) or not isinstance(self.storage, LocalStorage):
            return
        with self.session() as session:
            owner_of_activity = {i: p for i, p in session.execute(select(ActivityRow.id, ActivityRow.person_id))}
            owner_of_sample = {i: p for i, p in session.execute(select(MicrobiomeSampleRow.id,
                                                                       MicrobiomeSampleRow.person_id))}
        for file in sorted((self.path / "streams").glob("*.parquet")):
            row_id = int(file.name.split(".", 1)[0])
            if row_id in owner_of_activity:
                key = (self.rr_key if file.name.endswith(".rr.parquet") else self.stream_key)(
                    owner_of_activity[row_id], row_id)
                target = self.storage.local_path(key)
                target.parent.mkdir(parents=True, exist_ok=True)
                file.replace(target)
        for file in sorted((self.path / "microbiome").glob("*.parquet")):
            row_id = int(file.name.split(".", 1)[0])
            if row_id in owner_of_sample:
                target = self.storage.local_path(self.microbiome_key(owner_of_sample[row_id], row_id))
                target.parent.mkdir(parents=True, exist_ok=True)
                file.replace(target)
        for folder in legacy:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
