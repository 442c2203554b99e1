"""Where a presenter may keep an athlete's rendered report, and how a change of the athlete's data drops it.

Rendered reports are kept under ``athletes/<id>/cache/`` in the athlete's storage (so an erasure deletes them with
the rest). Anything that changes the athlete's data through the services the web app uses (a log entry, a finished
import) calls :func:`invalidate`, which deletes that prefix; the next report is computed afresh.
"""

from __future__ import annotations

from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace


def cache_prefix(athlete_id: int) -> str:
    return f"{athlete_prefix(athlete_id)}cache/"


def invalidate(ws: Workspace, athlete_id: int) -> None:
    ws.storage.delete_prefix(cache_prefix(athlete_id))
