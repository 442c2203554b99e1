"""Store a whole-account health export (:class:`~gutstride.ingest.bundle.ExportBundle`) in one transaction.

* Activities go through :func:`~gutstride.store.activities.save_activities` one by one, each with its extras
  (energy, the platform's own statistics) in its source entry; duplicates of stored activities are merged there.
* Log entries fill only the fields a stored entry of the same day does not have: what the person logged by hand
  wins over what a device recorded. Notes are appended, not replaced.
* The resting heart rate (median of the last 30 days) goes into the profile only when the profile has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from gutstride.ingest.bundle import ExportBundle
from gutstride.ingest.logs import entry_from_data
from gutstride.model.log_entry import LogEntry
from gutstride.model.profile import RANGES
from gutstride.store.activities import save_activities
from gutstride.store.logs import save_entries
from gutstride.store.schema import LogEntryRow, Person

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gutstride.store.workspace import Workspace


@dataclass
class BundleOutcome:
    """What storing a bundle did."""

    new_activities: int = 0
    duplicates: int = 0
    entries: int = 0
    resting_hr: float | None = None
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        parts = [f"{self.new_activities} new activities"]
        if self.duplicates:
            parts.append(f"{self.duplicates} already stored")
        parts.append(f"{self.entries} log entries added or filled")
        if self.resting_hr is not None:
            parts.append(f"profile resting HR set to {self.resting_hr:.0f} bpm (median of the last 30 days)")
        return "; ".join(parts + self.notes)


def _merged(entry: LogEntry, stored: LogEntry | None) -> LogEntry:
    """``entry`` with every field the stored entry already has taken from the stored one (hand-logged wins)."""
    if stored is None:
        return entry
    data = {**entry.data(), **stored.data()}
    if entry.notes and stored.notes and entry.notes not in stored.notes:
        data["notes"] = f"{stored.notes}; {entry.notes}"
    return entry_from_data(entry.day, stored.activity_ref, data)


def save_bundle(
    ws: Workspace, session: Session, person: Person, bundle: ExportBundle, source_path: str, sha256: str
) -> BundleOutcome:
    """Store every part of ``bundle`` for ``person`` (see the module docstring). The caller commits."""
    outcome = BundleOutcome()
    if bundle.activities:
        saved = save_activities(ws, session, person, bundle.activities, bundle.format, source_path, sha256,
                                extras=bundle.extras)
        outcome.new_activities = len(saved.new_ids)
        outcome.duplicates = len(saved.duplicates)
    if bundle.entries:
        days = {e.day for e in bundle.entries}
        rows = session.scalars(
            select(LogEntryRow).where(
                LogEntryRow.person_id == person.id, LogEntryRow.day.in_(days), LogEntryRow.activity_ref == ""
            )
        ).all()
        stored = {row.day: entry_from_data(row.day, row.activity_ref, row.data) for row in rows}
        merged = [_merged(entry, stored.get(entry.day)) for entry in bundle.entries]
        outcome.entries = save_entries(ws, session, person, merged, source_path)
    resting = bundle.resting_hr_recent()
    lo, hi = RANGES["resting_hr"]
    if resting is not None and person.resting_hr is None and lo <= resting <= hi:
        person.resting_hr = resting
        outcome.resting_hr = resting
    return outcome
