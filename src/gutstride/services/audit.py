"""The audit log: one append-only row per security event (sign-in, failed sign-in, grant, revoke, export, erase).

Rows carry ids only (see :class:`gutstride.store.schema.AuditRow`); the database refuses to change or delete them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutstride.store.schema import AuditRow
from gutstride.store.workspace import Workspace


def record(session: Session, action: str, user_id: int | None, athlete_id: int | None, detail: str = "") -> None:
    """Add one audit row in the caller's transaction."""
    session.add(AuditRow(at=datetime.now(UTC), action=action, user_id=user_id, person_id=athlete_id, detail=detail))


def audit(ws: Workspace, action: str, user_id: int | None, athlete_id: int | None, detail: str = "") -> None:
    """Add one audit row in its own transaction."""
    with ws.session() as session:
        record(session, action, user_id, athlete_id, detail)


def events(ws: Workspace) -> list[tuple[str, int | None, int | None]]:
    """Every (action, user id, athlete id), oldest first."""
    with ws.session() as session:
        rows = session.execute(select(AuditRow.action, AuditRow.user_id, AuditRow.person_id).order_by(AuditRow.id))
        return [(a, u, p) for a, u, p in rows]
