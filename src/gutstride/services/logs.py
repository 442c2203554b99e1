"""The daily log use cases: add entries (from flags, a form or a file), read them back, screen them for red flags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from gutstride.model.finding import Finding
from gutstride.model.log_entry import LogEntry
from gutstride.store.logs import SaveCounts, load_entries, save_counts
from gutstride.store.workspace import Workspace


@dataclass(frozen=True)
class LogResult:
    """What adding entries did, and the red flags among the days they touched (to show at once)."""

    counts: SaveCounts
    red_flags: list[Finding] = field(default_factory=list)


def list_log_entries(ws: Workspace, athlete_id: int, last: int | None = None) -> list[LogEntry]:
    """Every log entry of ``athlete_id`` (or the ``last`` ones), by day then activity."""
    return load_entries(ws, athlete_id, last)


def add_log_entries(ws: Workspace, athlete_id: int, entries: Iterable[LogEntry], source: str) -> LogResult:
    """Store validated ``entries`` for ``athlete_id`` (an entry with the same day and activity is replaced).

    Returns the counts, and the red flags over the whole stored log that involve one of the entries' days.
    """
    entries = list(entries)
    with ws.session() as session:
        counts = save_counts(session, ws.athlete(session, athlete_id), entries, source)
    return LogResult(counts, red_flags_on(ws, athlete_id, {e.day for e in entries}))


def red_flags_on(ws: Workspace, athlete_id: int, days: set[date]) -> list[Finding]:
    """Red flags over ``athlete_id``'s whole stored log that involve one of ``days``."""
    from gutstride.analysis.symptoms import screen_red_flags

    wanted = {d.isoformat() for d in days}
    return [f for f in screen_red_flags(load_entries(ws, athlete_id)) if wanted & set(f.detail.get("dates", []))]
