"""Log entries in the workspace: upsert on (person, day, activity) and load back.

An entry's identity is ``(person, day, activity_ref)`` where ``activity_ref`` is ``""`` for a day entry and the
activity's ISO UTC start otherwise. Saving an entry whose identity is already stored replaces its data; saving
identical data again changes nothing, so importing the same file twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutstride.ingest.logs import entry_from_data
from gutstride.model.log_entry import LogEntry
from gutstride.store.schema import LogEntryRow, Person
from gutstride.store.storage import checked_athlete_id
from gutstride.store.workspace import Workspace


@dataclass(frozen=True)
class SaveCounts:
    """What :func:`save_counts` did: rows added, rows whose data changed, entries already stored as given."""

    added: int
    changed: int
    unchanged: int


def save_counts(session: Session, person: Person, entries: Iterable[LogEntry], source: str) -> SaveCounts:
    """Upsert ``entries`` for ``person`` and count what happened (see :func:`save_entries`)."""
    entries = list(entries)
    days = {e.day for e in entries}
    existing: dict[tuple[object, str], LogEntryRow] = {}
    if days:
        rows = session.scalars(
            select(LogEntryRow).where(LogEntryRow.person_id == person.id, LogEntryRow.day.in_(days))
        )
        existing = {(row.day, row.activity_ref): row for row in rows}
    added = changed = unchanged = 0
    for entry in entries:
        data = entry.data()
        row = existing.get((entry.day, entry.activity_ref))
        if row is None:
            row = LogEntryRow(
                person_id=person.id, day=entry.day, activity_ref=entry.activity_ref, data=data, source=source
            )
            session.add(row)
            existing[(entry.day, entry.activity_ref)] = row
            added += 1
        elif row.data == data:
            unchanged += 1
        else:
            row.data = data
            row.source = source
            changed += 1
    session.flush()
    return SaveCounts(added, changed, unchanged)


def save_entries(ws: Workspace, session: Session, person: Person, entries: Iterable[LogEntry], source: str) -> int:
    """Store ``entries`` for ``person``, replacing the data of entries with the same (day, activity).

    Parameters
    ----------
    ws
        The workspace (its session is ``session``).
    session
        An open transaction from ``ws.session()``.
    person
        Whose log this is.
    entries
        Validated entries (from :func:`gutstride.ingest.logs.read_log` or the CLI).
    source
        Where they came from (a file path, ``"cli"``...), kept with each row.

    Returns
    -------
    int
        How many rows were added or changed (0 when everything was already stored as given).
    """
    del ws  # the session already belongs to it; kept for a uniform store API
    counts = save_counts(session, person, entries, source)
    return counts.added + counts.changed


def load_entries(ws: Workspace, athlete_id: int, last: int | None = None) -> list[LogEntry]:
    """The log entries of ``athlete_id``, by day then activity: all, or the ``last`` ones (read from the database
    alone, not all of them then cut: a year is 365 entries to validate)."""
    with ws.session() as session:
        ws.athlete(session, athlete_id)
        query = select(LogEntryRow).where(LogEntryRow.person_id == checked_athlete_id(athlete_id))
        if last is None:
            rows = session.scalars(query.order_by(LogEntryRow.day, LogEntryRow.activity_ref)).all()
        else:
            rows = session.scalars(query.order_by(LogEntryRow.day.desc(), LogEntryRow.activity_ref.desc())
                                   .limit(max(last, 0))).all()[::-1]
        return [entry_from_data(row.day, row.activity_ref, row.data) for row in rows]
