"""The import pipeline: files, folders and export zips in; workspace rows, Parquet streams and records out.

:func:`import_files` walks folders recursively, expands export zips (:mod:`gutstride.ingest.exports`), hashes
every file (SHA-256) and routes it: activity formats first (sniffed by the activity dispatcher), then microbiome
tables, then log files; anything else is recorded as skipped. Activity files are decoded in a process pool
(the first one in this process, which loads the readers before the workers are forked from it on Linux); the
workers also encode each stream as Parquet. Results are stored in input order, which keeps deduplication
deterministic.

Memory is bounded by the limits, never by the content. Every input, a file or an export member, is read as a
stream of chunks: its format is sniffed from the first :data:`START_BYTES` (a gzip head is decompressed for
that), and only then is it decided what to keep. Activity and log files are kept in memory up to
:data:`~gutstride.ingest.activities.dispatch.MAX_ACTIVITY_BYTES`, gzip being decompressed here as a stream with
that running limit; a microbiome table inside an export is spilled to a temporary file; anything else is only
hashed. Export members are decompressed with the running limits of :class:`~gutstride.ingest.exports.ZipLimits`,
whose total counts over the whole import. At most :data:`WINDOW_PER_WORKER` files per worker, and at most
:data:`IN_FLIGHT_BYTES` of their content (or one file alone), are in flight at any time.

Decoded files are stored :data:`BATCH_FILES` to a transaction; if storing one of
them fails, the batch is rolled back and stored file by file, so only that file gets an error.

Every input file gets exactly one :class:`~gutstride.model.import_record.ImportRecord` (one per member for zips), and
a bad file never stops the batch. A file whose hash the workspace already holds (imported ok, partial or as a
duplicate) is recorded as ``duplicate`` and adds nothing; a file that failed before is tried again and its old
row updated, so importing the same export twice adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gutstride.errors import BadInputError, GutstrideError, MissingDataError
from gutstride.ingest.exports import Budget, ZipLimits, apply_strava_meta, is_zip, iter_export
from gutstride.ingest.identify import refusal
from gutstride.model.import_record import ImportRecord, Kind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gutstride.model.activity import Activity, DecodedFile
    from gutstride.store.schema import Person
    from gutstride.store.workspace import Workspace

log = logging.getLogger(__name__)

#: Activity files in flight per worker (submitted but not yet stored).
WINDOW_PER_WORKER = 4
#: Decoded files stored per transaction (at most), and the longest a decoded file waits to be stored.
BATCH_FILES = 32
BATCH_SECONDS = 0.5
#: Content of the activity files in flight (read, not yet stored); one file larger than this runs alone.
IN_FLIGHT_BYTES = 64 << 20
#: Bytes read from disk at a time.
CHUNK_BYTES = 1 << 20
#: Bytes from the start of a file kept for sniffing (gzip heads are decompressed from these).
START_BYTES = 1 << 16
#: Bytes of (decompressed) head given to the format sniffers.
HEAD_BYTES = 8192
#: Progress callback: ``progress(files_done, bytes_done, bytes_total)``.
Progress = Callable[[int, int, int], None]

_KEEP_STATUSES = ("ok", "partial", "duplicate")


@dataclass
class _Item:
    """One leaf input: a file on disk or a member of an export zip."""

    label: str
    path: Path | None = None
    size: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    skip_reason: str = ""
    strava_rows: int | None = None
    strava_manual: list[Activity] = field(default_factory=list)
    strava_missing: int = 0
    size_in_flight: int = 0
    #: A whole-account health export read as one (:func:`gutstride.ingest.health_exports.export_kind`).
    export: str | None = None
    #: An export member's content, chunk by chunk (see :attr:`~gutstride.ingest.exports.ExportMember.chunks`).
    chunks: Callable[[], Iterator[bytes]] | None = None

    def read(self) -> Iterator[bytes]:
        """The content in chunks: of the export member, or of the file on disk."""
        if self.chunks is not None:
            yield from self.chunks()
            return
        assert self.path is not None
        with open(self.path, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk


def collect_files(paths: list[Path]) -> list[Path]:
    """Every file named in ``paths`` or found (recursively, sorted) in the folders named there.

    Hidden files and folders (name starting with ``.``) inside folders are left out. Raises
    :class:`~gutstride.errors.MissingDataError` for a path that does not exist.
    """
    return [path for path, problem in walk_inputs(paths) if not problem]


def walk_inputs(paths: list[Path]) -> list[tuple[Path, str]]:
    """Like :func:`collect_files`, but each entry is ``(path, problem)``: ``problem`` is empty for a file, and for
    a folder that could not be listed it says why (so that the folder gets a record instead of vanishing)."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise MissingDataError(f"no such file or folder: {path}")
        if not path.is_dir():
            found.append((path, ""))
            continue
        inside: list[tuple[Path, str]] = []

        def unreadable(exc: OSError, inside: list[tuple[Path, str]] = inside) -> None:
            inside.append((Path(exc.filename), f"cannot read folder ({exc.strerror or exc})"))

        for folder, dirs, names in os.walk(path, onerror=unreadable):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            inside += [(Path(folder) / n, "") for n in names if not n.startswith(".") and (Path(folder) / n).is_file()]
        found += sorted(inside)
    return found


def _iter_items(files: list[tuple[Path, str]], budget: Budget) -> Iterator[_Item]:
    from gutstride.ingest.apple_health import is_route_of
    from gutstride.ingest.health_exports import export_kind, folder_exports

    readable = [path for path, problem in files if not problem]
    roots = folder_exports(readable)
    for root, kind in roots.items():
        yield _Item(str(root), path=root, export=kind)
    exports = []
    for path in readable:
        if path.name == "export.xml":
            with open(path, "rb") as handle:
                if export_kind(path, handle.read(HEAD_BYTES)):
                    exports.append(path)
    for path, problem in files:
        if problem:
            yield _Item(str(path), skip_reason=f"error: {problem}")
            continue
        try:
            with open(path, "rb") as handle:
                head = handle.read(HEAD_BYTES)
            size = path.stat().st_size
        except OSError as exc:
            yield _Item(str(path), skip_reason=f"error: cannot read ({exc.strerror or exc})")
            continue
        owner = next((r for r in roots if r in path.parents), None)
        if owner is not None:
            yield _Item(str(path), size=size, skip_reason=f"part of the {roots[owner]} export {owner}: read with it")
            continue
        if exports and is_route_of(path, exports):
            reason = "route of an Apple Health workout: joined to it from export.xml"
            yield _Item(str(path), size=size, skip_reason=reason)
            continue
        export = export_kind(path, head)
        if export is not None:
            yield _Item(str(path), path=path, size=size, export=export)
            continue
        if path.suffix.lower() == ".zip" and is_zip(head):
            try:
                for member in iter_export(path, str(path), lazy=True, budget=budget):
                    yield _Item(
                        member.label, size=member.packed_size, meta=member.meta, skip_reason=member.skip_reason,
                        strava_rows=member.strava_rows, strava_manual=member.strava_manual,
                        strava_missing=member.strava_missing, chunks=member.chunks,
                    )
            except GutstrideError as exc:
                yield _Item(str(path), size=size, skip_reason=f"error: {exc}")
            except Exception as exc:  # noqa: BLE001 - a zip library surprise must not stop the batch
                log.exception("walking %s failed", path)
                yield _Item(str(path), size=size, skip_reason=f"error: unreadable zip ({type(exc).__name__}: {exc})")
            continue
        yield _Item(str(path), path=path, size=size)


@dataclass
class _Content:
    """What reading an item gave: its hash, its sniffed head and name, and what was kept of it.

    ``data`` is the whole content (gzip decompressed, then ``name`` lost its ``.gz``) when a reader needs it in
    memory; ``spill`` a temporary file holding an export member for a microbiome reader; ``error`` why the
    content was not kept (too large, corrupt gzip); ``sha`` is empty when reading stopped early.
    """

    sha: str
    head: bytes
    name: str
    route: Kind  # "unknown" when no reader claims the file
    fmt: str | None = None
    data: bytes | None = None
    spill: Path | None = None
    error: str = ""


def _route(head: bytes, name: str) -> tuple[Kind, str | None]:
    """``(route, format)`` of a file from its (decompressed) head and name: activity, microbiome, log or unknown."""
    from gutstride.ingest.activities.dispatch import sniff_activity_format
    from gutstride.ingest.logs import sniff_log
    from gutstride.ingest.microbiome.read import sniff_microbiome_format

    fmt = sniff_activity_format(head, name)
    if fmt is not None:
        return "activity", fmt
    fmt = sniff_microbiome_format(head, name)
    if fmt is not None:
        return "microbiome", fmt
    if sniff_log(head, name):
        return "log", "json" if head.lstrip()[:1] in (b"[", b"{") else "csv"
    return "unknown", None


def _read(item: _Item, spill_dir: Path) -> _Content:
    """Read ``item`` as a stream: sniff its first bytes, then keep what its reader needs (see the module docstring).

    Raises :class:`OSError` when the file cannot be read and :class:`~gutstride.errors.BadInputError` when an
    export member breaks a zip limit.
    """
    from gutstride.ingest.activities.dispatch import MAX_ACTIVITY_BYTES, gunzip_bounded

    name = item.label.rsplit("/", 1)[-1]
    digest = hashlib.sha256()
    chunks = item.read()
    start = bytearray()
    for chunk in chunks:
        digest.update(chunk)
        start += chunk
        if len(start) >= START_BYTES:
            break
    head, sniff_name = sniff_head(bytes(start[:START_BYTES]), name)
    route, fmt = _route(head, sniff_name)
    content = _Content("", head, sniff_name, route, fmt)
    if route in ("activity", "log"):
        kept = [bytes(start)]
        size = len(start)
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_ACTIVITY_BYTES:
                content.error = f"file larger than {MAX_ACTIVITY_BYTES >> 20} MiB: not read"
                return content
            digest.update(chunk)
            kept.append(chunk)
        data = b"".join(kept)
        del kept
        if data[:2] == b"\x1f\x8b":
            try:
                data = gunzip_bounded(data, MAX_ACTIVITY_BYTES)
            except ValueError as exc:
                content.error = str(exc)
                data = b""
            name = sniff_name
        content.data, content.name = data, name
    elif route == "microbiome" and item.path is None:
        content.spill = spill_dir / f"{len(list(spill_dir.iterdir()))}-{name}"
        with open(content.spill, "wb") as out:
            out.write(start)
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
    else:
        for chunk in chunks:
            digest.update(chunk)
    content.sha = digest.hexdigest()
    return content


def sniff_head(data: bytes, name: str) -> tuple[bytes, str]:
    """The head the sniffers see, and the name: for gzip data, the decompressed head and the name without ``.gz``."""
    if data[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(wbits=31).decompress(data[:START_BYTES], HEAD_BYTES)
        except zlib.error:
            return data[:HEAD_BYTES], name
        return head, name[:-3] if name.lower().endswith(".gz") else name
    return data[:HEAD_BYTES], name


@dataclass
class _Decoded:
    """What a worker sends back: the decoded file and each activity's stream already encoded as Parquet."""

    decoded: DecodedFile
    encoded: list[bytes | None]


def _decode_job(data: bytes, name: str, zone: str = "") -> _Decoded | str:
    """Run in a worker: decode one activity file and encode its streams; a string is the error message.

    ``zone`` names the workspace time zone of local times ("" = the machine's)."""
    from gutstride.ingest.activities.dispatch import decode_activity
    from gutstride.settings import local_zone
    from gutstride.store.workspace import encode_stream

    try:
        decoded = decode_activity(data, name, local_zone(zone))
        encoded = [
            encode_stream(a.stream) if len(a.stream.get("time", ())) else None for a in decoded.activities
        ]
    except GutstrideError as exc:
        return str(exc)
    except Exception as exc:  # a reader bug must not stop the batch; the record says what happened
        return f"internal error in the reader: {type(exc).__name__}: {exc}"
    return _Decoded(decoded, encoded)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool; forked on Linux (workers inherit the loaded readers), the platform default elsewhere.

    Each worker runs :func:`_worker_init` first, so that it never outlives the import.
    """
    import multiprocessing
    import sys

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),))
    if not hasattr(signal, "pthread_sigmask"):
        return pool
    # Fork every worker now with SIGINT blocked: a Ctrl-C between a fork and the worker's _worker_init (which
    # ignores SIGINT, then unblocks it) would otherwise stop that worker with "Process ForkProcess-N:" on stderr.
    # A SIGINT meant for this process stays pending meanwhile and is delivered when the mask is restored.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool.submit(os.getpid).result()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return pool


#: ``prctl`` option asking Linux to send a signal to this process when its parent dies (``<linux/prctl.h>``).
PR_SET_PDEATHSIG = 1


def _worker_init(parent_pid: int) -> None:
    """Make an import worker exit when the importing process dies, however it dies (even SIGKILL).

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the kernel kill the worker when its parent exits; elsewhere
    a daemon thread checks every second whether the parent is still there. Ctrl-C (SIGINT, sent to the whole
    process group by the terminal) is ignored here: the importing process handles it and stops the workers.
    """
    import sys
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked while the pool forked (see _new_pool); ignored from now on
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


def import_files(
    ws: Workspace,
    athlete_id: int,
    paths: list[Path],
    workers: int = 0,
    progress: Progress | None = None,
    limits: ZipLimits | None = None,
    rank: str = "genus",
    on_wait: Callable[[], None] | None = None,
    sample: str | None = None,
) -> list[ImportRecord]:
    """Import files, folders and export zips into ``ws`` for ``athlete_id``; one record per file, in input order.

    The original of every file read (each member of an export zip on its own) is kept under the athlete's
    ``uploads/`` prefix, so that an export can give it back.

    Parameters
    ----------
    ws
        The workspace.
    paths
        Files and folders (walked recursively). A nonexistent path raises
        :class:`~gutstride.errors.MissingDataError` before anything is imported.
    athlete_id
        Whose data this is (:class:`~gutstride.errors.MissingDataError` if the workspace has no such athlete).
    workers
        Decoding processes: ``0`` for one per CPU (at most 8), ``1`` to decode in this process.
    progress
        Called after each file as ``progress(files_done, bytes_done, bytes_total)``; bytes are on-disk
        (compressed) sizes.
    limits
        Zip safety limits for exports (see :class:`~gutstride.ingest.exports.ZipLimits`); the total applies to
        all the exports of this import together.
    rank
        The rank read from consumer gut-test results that list every rank (uBiome, abundance profiles).
    on_wait
        Called once if another import holds the workspace lock; this one then waits for it (see
        :meth:`~gutstride.store.workspace.Workspace.locked`). Stream files left by an import that was killed are
        removed once the lock is held.
    sample
        Of a microbiome table, store only this sample (the athlete's). Without it, a table of several people or
        of undated samples is refused (see :func:`~gutstride.store.microbiome.personal_samples`).
    """
    files = walk_inputs(paths)
    bytes_total = sum(path.stat().st_size for path, problem in files if not problem)
    if workers <= 0:
        workers = min(os.cpu_count() or 1, 8)
    with ws.locked(on_wait):
        ws.remove_orphan_streams()
        run = _Run(ws, athlete_id, workers, progress, bytes_total, rank)
        run.sample = sample
        try:
            for item in _iter_items(files, Budget(limits or ZipLimits())):
                run.add(item)
            run.drain()
        except BaseException:  # Ctrl-C or a bug: stop the workers now rather than letting them finish the queue
            run.stop()
            raise
        finally:
            run.close()
    return [record for record in run.records if record is not None]


class _Run:
    """State of one import: known hashes, the pool and its window of pending files, the records so far."""

    def __init__(
        self, ws: Workspace, athlete_id: int, workers: int, progress: Progress | None, bytes_total: int,
        rank: str = "genus",
    ) -> None:
        from sqlalchemy import select

        from gutstride.store.schema import ImportRow

        self.ws = ws
        self.zone: str = ws.settings["time_zone"]
        self.rank = rank
        self.workers = workers
        self.progress = progress
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.files_done = 0
        self.records: list[ImportRecord | None] = []
        self.pool: ProcessPoolExecutor | None = None
        self.warmed = False
        self.pending: deque[tuple[int, _Item, str, Future[Any]]] = deque()
        self.in_flight = 0  # bytes of content in the pending jobs
        self.sample: str | None = None  # the athlete's sample of a microbiome table
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self.batch: list[tuple[int, _Item, str, _Decoded | str]] = []  # decoded, not yet stored
        self.batch_started = time.monotonic()
        #: While a batch transaction runs: (sha256, previous known path, retried row id) to undo on rollback.
        self.undo: list[tuple[str, str | None, int | None]] | None = None
        self.seen: dict[str, str] = {}  # sha256 -> label, within this run
        with ws.session() as session:
            self.person_id = ws.athlete(session, athlete_id).id
            rows = session.execute(
                select(ImportRow.sha256, ImportRow.status, ImportRow.path, ImportRow.id).where(
                    ImportRow.person_id == self.person_id, ImportRow.sha256.is_not(None)
                )
            ).all()
        self.known: dict[str, str] = {}  # sha256 -> path, already imported
        self.retry: dict[str, int] = {}  # sha256 -> ImportRow id of an earlier failure
        for sha, status, path, row_id in rows:
            if sha is None:
                continue
            if status in _KEEP_STATUSES:
                self.known[sha] = path
            else:
                self.retry.setdefault(sha, row_id)

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def _slot(self) -> int:
        self.records.append(None)
        return len(self.records) - 1

    def _done(self, slot: int, record: ImportRecord, item: _Item) -> None:
        self.records[slot] = record
        self.files_done += 1
        self.bytes_done = min(self.bytes_total, self.bytes_done + item.size)
        if self.progress is not None:
            self.progress(self.files_done, self.bytes_done, self.bytes_total)

    # -- one item -------------------------------------------------------------------------------------------
    def add(self, item: _Item) -> None:
        slot = self._slot()
        if item.skip_reason:
            status = "error" if item.skip_reason.startswith("error: ") else "skipped"
            message = item.skip_reason.removeprefix("error: ")
            self._done(slot, ImportRecord(item.label, status, message), item)  # type: ignore[arg-type]
            return
        if item.export is not None:
            self._add_export(slot, item)
            return
        try:
            content = _read(item, self.spill_dir())
        except OSError as exc:
            self._done(slot, ImportRecord(item.label, "error", f"cannot read ({exc.strerror or exc})"), item)
            return
        except BadInputError as exc:  # an export member broke a zip limit while it was read
            self._done(slot, ImportRecord(item.label, "error", str(exc)), item)
            return
        sha = content.sha
        if sha in self.known:
            record = ImportRecord(item.label, "duplicate", f"already imported from {self.known[sha]}", sha256=sha)
            self._done(slot, record, item)
            return
        if sha in self.seen:  # recorded, so that the workspace's records and this import's summary agree
            record = ImportRecord(item.label, "duplicate", f"same content as {self.seen[sha]}", sha256=sha)
            self._store_record(record)
            self._done(slot, record, item)
            return
        if sha:
            self.seen[sha] = item.label
        if item.strava_rows is not None:
            listed = self._strava_list(slot, item, sha)
            if listed is None:
                return
            record = listed
        elif content.error:
            record = ImportRecord(item.label, "error", content.error, content.route, content.fmt, sha or None)
        elif content.route == "activity":
            assert content.data is not None
            self._keep_original(item, content)
            self._submit(slot, item, sha, content.data, content.name)
            return
        else:
            record = self._other(item, content)
            if record.status in ("ok", "partial"):
                self._keep_original(item, content)
        self._store_record(record)
        self._done(slot, record, item)
        if content.spill is not None:
            content.spill.unlink(missing_ok=True)

    def _add_export(self, slot: int, item: _Item) -> None:
        """A whole-account health export, read and stored as one (a duplicate when its content was imported)."""
        from gutstride.ingest.health_exports import folder_digest

        assert item.path is not None
        try:
            sha = folder_digest(item.path) if item.path.is_dir() else _file_digest(item.path)
        except OSError as exc:
            self._done(slot, ImportRecord(item.label, "error", f"cannot read ({exc.strerror or exc})"), item)
            return
        if sha in self.known or sha in self.seen:
            where = self.known.get(sha) or self.seen[sha]
            self._done(slot, ImportRecord(item.label, "duplicate", f"already imported from {where}", sha256=sha), item)
            return
        self.seen[sha] = item.label
        record = self._export(item, sha)
        self._store_record(record)
        self._done(slot, record, item)

    def _strava_list(self, slot: int, item: _Item, sha: str) -> ImportRecord | None:
        """The record of a Strava ``activities.csv``; with manual activities (rows without a file), ``None``: they
        are queued to be stored like a decoded file, and the record comes with them."""
        from gutstride.model.activity import DecodedFile

        notes = [f"Strava activity list: metadata of {item.strava_rows} activities joined to their files"]
        if item.strava_missing:
            notes.append(f"{item.strava_missing} rows name a file that is not in the export")
        if not item.strava_manual:
            return ImportRecord(item.label, "ok", "; ".join(notes), "activity", "strava-csv", sha)
        notes.append(f"{len(item.strava_manual)} activities without a file stored from the list (no stream)")
        decoded = DecodedFile("strava-csv", "ok", "; ".join(notes), item.strava_manual)
        self.batch.append((slot, item, sha, _Decoded(decoded, [None] * len(item.strava_manual))))
        return None

    def spill_dir(self) -> Path:
        """A temporary folder for export members a reader needs as a file (removed when the import ends)."""
        if self._spill is None:
            self._spill = tempfile.TemporaryDirectory(prefix="gutstride-")
        return Path(self._spill.name)

    def _keep_original(self, item: _Item, content: _Content) -> None:
        """Keep the file as read (gzip decompressed) under the athlete's ``uploads/`` prefix (see
        :meth:`Workspace.upload_key`)."""
        key = self.ws.upload_key(self.person_id, content.sha, content.name)
        if self.ws.storage.exists(key):
            return
        if content.data is not None:
            self.ws.storage.write_bytes(key, content.data)
        elif content.spill is not None or item.path is not None:
            self.ws.storage.put_file(key, content.spill or item.path)  # type: ignore[arg-type]

    def _submit(self, slot: int, item: _Item, sha: str, data: bytes, name: str) -> None:
        future: Future[Any]
        while self.pending and self.in_flight + len(data) > IN_FLIGHT_BYTES:
            self._finish_one()
        self.in_flight += len(data)
        if self.workers <= 1 or not self.warmed:
            # The first file is decoded here: it loads the readers (and their compiled kernels) once, and on
            # Linux the workers are forked from this warm process instead of each loading them again.
            self.warmed = True
            future = Future()
            future.set_result(_decode_job(data, name, self.zone))
        else:
            if self.pool is None:
                self.pool = _new_pool(self.workers)
            try:
                future = self.pool.submit(_decode_job, data, name, self.zone)
            except BrokenProcessPool:
                self._restart_pool()
                future = Future()
                future.set_result("a decoding process died; file not read")
        item.size_in_flight = len(data)
        self.pending.append((slot, item, sha, future))
        while len(self.pending) >= WINDOW_PER_WORKER * self.workers:
            self._finish_one()

    def _restart_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None

    def drain(self) -> None:
        while self.pending:
            self._finish_one()
        self._flush()

    def stop(self) -> None:
        """Stop the workers at once: cancel the queued jobs and terminate the running ones."""
        if self.pool is not None:
            processes = list(self.pool._processes.values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(5)
            self.pool = None
        self.pending.clear()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    def _finish_one(self) -> None:
        slot, item, sha, future = self.pending.popleft()
        self.in_flight -= item.size_in_flight
        try:
            result = future.result()
        except BrokenProcessPool:
            self._restart_pool()
            result = "a decoding process died (out of memory or a crash); file not read"
        except Exception as exc:  # pickling and similar failures: this file only
            result = f"internal error: {type(exc).__name__}: {exc}"
        self.batch.append((slot, item, sha, result))
        if len(self.batch) >= BATCH_FILES or time.monotonic() - self.batch_started > BATCH_SECONDS:
            self._flush()

    # -- storing --------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Store the decoded files of the batch in one transaction.

        If storing any of them fails, the transaction is rolled back and each file is stored in its own, so
        that only the failing file gets an error record.
        """
        units, self.batch = self.batch, []
        self.batch_started = time.monotonic()
        if not units:
            return
        records = self._attempt(units)
        if records is None:
            records = []
            for unit in units:
                done = self._attempt([unit])
                if done is None:
                    slot, item, sha, _ = unit
                    record = ImportRecord(item.label, "error", "internal error while storing", "activity", sha256=sha)
                    self._store_record(record)
                    done = [record]
                records.extend(done)
        for (slot, item, _sha, _result), record in zip(units, records, strict=True):
            self._done(slot, record, item)

    def _attempt(self, units: list[tuple[int, _Item, str, _Decoded | str]]) -> list[ImportRecord] | None:
        """Store ``units`` in one transaction; ``None`` (and every change undone) if anything fails."""
        self.undo = []
        try:
            with self.ws.session() as session:
                person = self._person(session)
                records = [
                    self._store_activities(session, person, item, sha, result) for _, item, sha, result in units
                ]
        except Exception:  # noqa: BLE001 - one file's store failure must not stop the batch
            log.exception("storing %s failed", ", ".join(unit[1].label for unit in units))
            for sha, known, retry in reversed(self.undo):
                if known is None:
                    self.known.pop(sha, None)
                if retry is not None:
                    self.retry[sha] = retry
            return None
        finally:
            self.undo = None
        return records

    def _write_row(self, session: Session, record: ImportRecord) -> None:
        from gutstride.store.schema import ImportRow

        values = {
            "person_id": self.person_id, "path": record.path, "sha256": record.sha256, "kind": record.kind,
            "format": record.format, "status": record.status, "message": record.message,
            "n_items": record.n_items, "imported_at": datetime.now(UTC),
        }
        row_id = self.retry.pop(record.sha256, None) if record.sha256 else None
        row = session.get(ImportRow, row_id) if row_id is not None else None
        if row is None:
            session.add(ImportRow(**values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        if record.sha256 and self.undo is not None:
            self.undo.append((record.sha256, self.known.get(record.sha256), row_id))
        if record.sha256 and record.status in _KEEP_STATUSES:
            self.known[record.sha256] = record.path

    def _store_record(self, record: ImportRecord) -> None:
        try:
            with self.ws.session() as session:
                self._write_row(session, record)
        except Exception as exc:  # noqa: BLE001
            log.exception("recording %s failed", record.path)
            record.status, record.message = "error", f"internal error while recording: {exc}"

    def _store_activities(
        self, session: Session, person: Person, item: _Item, sha: str, result: _Decoded | str
    ) -> ImportRecord:
        from gutstride.store.activities import save_activities

        if isinstance(result, str):
            record = ImportRecord(item.label, "error", result, "activity", sha256=sha)
            self._write_row(session, record)
            return record
        decoded = result.decoded
        record = ImportRecord(item.label, decoded.status, decoded.message, "activity", decoded.format, sha)
        activities = decoded.activities
        if decoded.status != "error" and not activities:
            record.status = "skipped"
            record.message = decoded.message or f"no activity in this {decoded.format.upper()} file"
        if item.meta:
            for activity in activities:
                apply_strava_meta(activity.summary, item.meta)
        extra = {key: item.meta[key] for key in ("strava_id", "relative_effort") if item.meta.get(key) is not None}
        if activities:
            outcome = save_activities(
                self.ws, session, person, activities, decoded.format, item.label, sha, extra or None, result.encoded
            )
            record.n_items = len(outcome.new_ids)
            notes = [decoded.message] if decoded.message else []
            if outcome.duplicates and not outcome.new_ids:
                record.status = "duplicate"
                notes = outcome.duplicates + notes
            elif outcome.duplicates:
                notes.append(f"{len(outcome.new_ids)} new; " + "; ".join(outcome.duplicates))
            record.message = "; ".join(notes)
        self._write_row(session, record)
        return record

    def _person(self, session: Session) -> Person:
        from gutstride.store.schema import Person

        person = session.get(Person, self.person_id)
        if person is None:
            raise MissingDataError(f"person {self.person_id} is no longer in the workspace")
        return person

    def _other(self, item: _Item, content: _Content) -> ImportRecord:
        """Route a file that is not an activity: microbiome table, then log, else skipped."""
        sha = content.sha
        try:
            if content.route == "microbiome":
                return self._microbiome(item, content)
            if content.route == "log":
                return self._log(item, content)
            return ImportRecord(item.label, "skipped", self._refusal(item, content), sha256=sha)
        except GutstrideError as exc:
            return ImportRecord(item.label, "error", str(exc), content.route, content.fmt, sha)
        except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the batch
            log.exception("reading %s failed", item.label)
            return ImportRecord(item.label, "error", f"internal error: {type(exc).__name__}: {exc}", sha256=sha)

    def _export(self, item: _Item, sha: str) -> ImportRecord:
        """Read and store a whole-account health export (Apple Health, Google Fit, Runkeeper, Fitbit) as one."""
        from gutstride.ingest.health_exports import read_export
        from gutstride.settings import local_zone
        from gutstride.store.bundle import save_bundle

        assert item.path is not None and item.export is not None
        try:
            bundle = read_export(item.path, item.export, local_zone(self.zone))
            with self.ws.session() as session:
                outcome = save_bundle(self.ws, session, self._person(session), bundle, item.label, sha)
        except GutstrideError as exc:
            return ImportRecord(item.label, "error", str(exc), "activity", item.export, sha)
        warnings = bundle.warnings[:5] + ([f"and {len(bundle.warnings) - 5} more warnings"]
                                          if len(bundle.warnings) > 5 else [])
        message = "; ".join([bundle.headline, outcome.message(), *warnings])
        return ImportRecord(item.label, "ok", message, "activity", bundle.format, sha, outcome.new_activities)

    def _refusal(self, item: _Item, content: _Content) -> str:
        """Why a file no reader claimed is skipped: for a delimited text file, the reason ``alpha`` gives (it reads
        such files as tables when nothing else claims them); otherwise :func:`~gutstride.ingest.identify.refusal`."""
        from gutstride.ingest.identify import is_known_other
        from gutstride.ingest.microbiome.read import TEXT_SUFFIXES, why_not_read

        head, name = content.head, content.name
        if is_known_other(head, name) or not name.lower().removesuffix(".gz").endswith(TEXT_SUFFIXES) or (
            content.data is None and item.path is None
        ):
            return refusal(head, name)
        if item.path is not None:
            reason = why_not_read(item.path)
        else:
            with tempfile.TemporaryDirectory(prefix="gutstride-") as tmp:
                target = Path(tmp) / name
                target.write_bytes(content.data or b"")
                reason = why_not_read(target)
        return reason or ("a table without the signs of a microbiome table (a feature-table header, lineage or "
                          "sequence labels): not imported; gutstride alpha reads it as one if it is")

    def _microbiome(self, item: _Item, content: _Content) -> ImportRecord:
        from gutstride.ingest.microbiome.read import read_table
        from gutstride.store.microbiome import personal_samples, save_table

        fmt, sha = content.fmt, content.sha
        path = item.path or content.spill
        assert path is not None and fmt is not None
        table = personal_samples(read_table(path, self.rank), item.label, self.sample)
        with self.ws.session() as session:
            n = save_table(self.ws, session, self._person(session), table, item.label, sha, fmt)
        n_samples = len(table.sample_ids)
        message = f"{n} samples stored" + (f", {n_samples - n} were already there" if n < n_samples else "")
        message = "; ".join([message, *table.notes])
        return ImportRecord(item.label, "ok", message, "microbiome", fmt, sha, n)

    def _log(self, item: _Item, content: _Content) -> ImportRecord:
        from gutstride.ingest.logs import read_log
        from gutstride.store.logs import save_entries

        assert content.data is not None
        entries = read_log(content.data, content.name)
        with self.ws.session() as session:
            n = save_entries(self.ws, session, self._person(session), entries, item.label)
        message = f"{n} of {len(entries)} entries stored"
        return ImportRecord(item.label, "ok", message, "log", content.fmt, content.sha, n)



def _file_digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
