"""Where a presenter keeps an athlete's rendered report, and how it knows that the report would be the same.

Rendered reports are kept under ``athletes/<id>/cache/`` in the athlete's storage (so an erasure deletes them with
the rest, and an export includes them).

The web app keys its entries by day and relies on :func:`invalidate`: anything that changes the athlete's data
through the services it uses (a log entry, a finished import) deletes that prefix, and the next report is computed
afresh.

The command line keys its entry by a fingerprint instead (:func:`report_fingerprint`), so that a change made in
any way (another command, another process, an edited ``config.toml``, a new day) is seen without anyone having to
invalidate: a SHA-256 over everything the report is computed from,

- the code: the version and the bytes of every file of the ``gutstride`` package (templates, evidence tables and
  the shipped reference included) and of the compiled extension, so an upgrade or an edited checkout is a new
  fingerprint;
- the store: its schema revision, and the full rows of the athlete's ``person`` (profile), ``activity``,
  ``log_entry``, ``import_record`` and ``microbiome_sample`` tables. Whole rows, not counts and largest ids: a log
  entry is replaced in place (same id, same count) when a day is logged again, and an activity row is updated in
  place when a richer file of it is imported. Stream and feature files are not read: each is written together with
  its row, which names the source file (``source_sha256``) it was decoded from;
- the workspace's settings (``min_observations`` and the others), the report's options (the digest of the
  ``--reference`` file's bytes) and the day the report is computed for (``today``: the plan, the experiments and
  the recent-weeks figures depend on it).

Reading the rows is about 40 ms on the demo workspace (924 rows); hashing the package's 1.6 MB about 15 ms.

An entry is one file, ``report-<fingerprint>.entry``: JSON holding the rendered HTML, the report JSON, the red-flag
lines the command prints, when it was computed, and a SHA-256 of its parts. It is written atomically (the storage
writes a temporary file and renames it), so a reader sees a whole entry or none; an entry that cannot be read,
parsed or whose digest does not match is treated as missing, and the report is computed again. Storing an entry
deletes the athlete's other fingerprint entries (they can no longer match unless the data goes back exactly).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace

#: Bump when the layout of an entry changes.
ENTRY_FORMAT = 1
_ENTRY_PREFIX = "report-"
_ENTRY_SUFFIX = ".entry"


def cache_prefix(athlete_id: int) -> str:
    return f"{athlete_prefix(athlete_id)}cache/"


def invalidate(ws: Workspace, athlete_id: int) -> None:
    ws.storage.delete_prefix(cache_prefix(athlete_id))


def source_digest(folder: Path, extra: tuple[Path, ...] = ()) -> str:
    """SHA-256 over the relative path and bytes of every file under ``folder`` (``__pycache__`` left out), in
    sorted order, then of each file in ``extra``."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, *extra]:
        name = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """:func:`source_digest` of the installed ``gutstride`` package and its compiled extension (once per process)."""
    import importlib.util

    import gutstride

    native = importlib.util.find_spec("_gutstride_native")  # found, not imported
    extra = (Path(native.origin),) if native is not None and native.origin else ()
    return f"{gutstride.__version__}:{source_digest(Path(gutstride.__file__).parent, extra)}"


def _athlete_rows(ws: Workspace, athlete_id: int) -> list[tuple[str, list[Any]]]:
    """Every row of the athlete in the tables the report reads, as plain tuples, by table then id."""
    from sqlalchemy import select

    from gutstride.store.schema import ActivityRow, ImportRow, LogEntryRow, MicrobiomeSampleRow, Person

    out: list[tuple[str, list[Any]]] = []
    with ws.session() as session:
        ws.athlete(session, athlete_id)  # a missing athlete is the same error as without the cache
        person = Person.__table__
        rows = session.execute(select(person).where(person.c.id == athlete_id))
        out.append(("person", [tuple(row) for row in rows]))
        for model in (ActivityRow, LogEntryRow, ImportRow, MicrobiomeSampleRow):
            table = model.__table__
            rows = session.execute(select(table).where(table.c.person_id == athlete_id).order_by(table.c.id))
            out.append((model.__tablename__, [tuple(row) for row in rows]))
    return out


def _file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes; for a file that cannot be read, a value no stored entry has (computing the
    report then gives the user the reader's own error)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {path}: {exc}"


def report_fingerprint(ws: Workspace, athlete_id: int, today: date, reference_path: Path | None = None) -> str:
    """The fingerprint of the report of ``athlete_id`` for ``today`` (see the module docstring for what goes in).

    Raises
    ------
    MissingDataError
        ``athlete_id`` is not an athlete of ``ws``.
    """
    from gutstride.store.migrate import head_revision

    digest = hashlib.sha256()

    def add(label: str, value: object) -> None:
        text = repr(value).encode()
        digest.update(f"{label}\0{len(text)}\0".encode())
        digest.update(text)

    add("entry format", ENTRY_FORMAT)
    add("code", code_digest())
    add("schema", head_revision())
    add("settings", sorted(ws.settings.values.items()))
    add("today", today.isoformat())
    add("reference", None if reference_path is None else _file_digest(reference_path))
    for table, rows in _athlete_rows(ws, athlete_id):
        add(table, rows)
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedReport:
    """A rendered report as a cache entry holds it."""

    html: str
    json: str
    #: The report's ``red_flags`` summaries, and the advice printed after each.
    red_flags: list[str]
    red_flag_advice: str
    #: When the report was computed (its ``meta.generated_at``).
    generated_at: str

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for part in (self.html, self.json, json.dumps(self.red_flags), self.red_flag_advice, self.generated_at):
            data = part.encode("utf-8")
            digest.update(f"{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()


def entry_key(athlete_id: int, fingerprint: str) -> str:
    return f"{cache_prefix(athlete_id)}{_ENTRY_PREFIX}{fingerprint}{_ENTRY_SUFFIX}"


def read_cached_report(ws: Workspace, athlete_id: int, fingerprint: str) -> CachedReport | None:
    """The entry stored for ``fingerprint``, or None if there is none or it is unreadable or damaged."""
    key = entry_key(athlete_id, fingerprint)
    try:
        if not ws.storage.exists(key):
            return None
        stored = json.loads(ws.storage.read_bytes(key).decode("utf-8"))
        if stored.get("format") != ENTRY_FORMAT or stored.get("fingerprint") != fingerprint:
            return None
        report = CachedReport(html=stored["html"], json=stored["json"], red_flags=list(stored["red_flags"]),
                              red_flag_advice=stored["red_flag_advice"], generated_at=stored["generated_at"])
        if not all(isinstance(v, str) for v in (report.html, report.json, report.red_flag_advice,
                                                 report.generated_at, *report.red_flags)):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # deleted meanwhile, truncated, not ours
        return None
    return report if stored.get("sha256") == report.checksum() else None


def store_report(ws: Workspace, athlete_id: int, fingerprint: str, report: CachedReport) -> None:
    """Store ``report`` as the entry of ``fingerprint`` (atomically) and delete the athlete's other entries."""
    key = entry_key(athlete_id, fingerprint)
    payload = {"format": ENTRY_FORMAT, "fingerprint": fingerprint, "html": report.html, "json": report.json,
               "red_flags": report.red_flags, "red_flag_advice": report.red_flag_advice,
               "generated_at": report.generated_at, "sha256": report.checksum()}
    ws.storage.write_bytes(key, json.dumps(payload).encode("utf-8"))
    for other in ws.storage.list(cache_prefix(athlete_id)):
        name = other.rsplit("/", 1)[-1]
        if other != key and name.startswith(_ENTRY_PREFIX) and name.endswith(_ENTRY_SUFFIX):
            ws.storage.delete(other)
