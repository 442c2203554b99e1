"""Who may see and change an athlete's data: the owner, and coaches the athlete invited (viewer or editor).

An invitation (:class:`~gutstride.store.schema.GrantRow`) names an email and a role. It gives access once the
account with that email accepts it, and until the athlete revokes it; every request checks it afresh, so a
revocation takes effect on the next request. Notes on an athlete are written by the athlete or a coach with
access, and the athlete sees all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import func, select

from gutstride.errors import BadInputError
from gutstride.services.accounts import Account, normalise_email
from gutstride.services.audit import record
from gutstride.store.schema import ActivityRow, GrantRow, LogEntryRow, NoteRow, Person
from gutstride.store.workspace import Workspace

Level = Literal["owner", "editor", "viewer"]
GRANT_ROLES: tuple[str, ...] = ("viewer", "editor")
#: What each level may do.
CAN_WRITE = {"owner", "editor"}
MAX_NOTE = 5000


def access(ws: Workspace, account: Account | None, athlete_id: int) -> Level | None:
    """``account``'s level on ``athlete_id``: owner, editor, viewer, or None (may not see it)."""
    if account is None:
        return None
    if account.athlete_id == athlete_id:
        return "owner"
    with ws.session() as session:
        role = session.scalar(select(GrantRow.role).where(
            GrantRow.person_id == athlete_id, GrantRow.email == account.email, GrantRow.accepted_at.is_not(None),
            GrantRow.revoked_at.is_(None)).order_by(GrantRow.id.desc()).limit(1))
    return role if role in GRANT_ROLES else None  # type: ignore[return-value]


def visible_athletes(ws: Workspace, account: Account) -> list[dict[str, Any]]:
    """The athletes ``account`` may see: ``id``, ``name`` and the caller's ``access`` level; own athlete first."""
    with ws.session() as session:
        out = []
        if account.athlete_id is not None:
            person = session.get(Person, account.athlete_id)
            if person is not None:
                out.append({"id": person.id, "name": person.name, "access": "owner"})
        rows = session.execute(select(Person.id, Person.name, GrantRow.role)
                               .join(GrantRow, GrantRow.person_id == Person.id)
                               .where(GrantRow.email == account.email, GrantRow.accepted_at.is_not(None),
                                      GrantRow.revoked_at.is_(None), Person.id != (account.athlete_id or -1))
                               .order_by(Person.name, Person.id))
        seen = {a["id"] for a in out}
        for pid, name, role in rows:
            if pid not in seen:
                out.append({"id": pid, "name": name, "access": role})
                seen.add(pid)
    return out


def _grant_dict(g: GrantRow) -> dict[str, Any]:
    status = "revoked" if g.revoked_at else "active" if g.accepted_at else "pending"
    return {"grant_id": g.id, "athlete_id": g.person_id, "email": g.email, "role": g.role, "status": status,
            "created_at": g.created_at}


def invite(ws: Workspace, owner: Account, athlete_id: int, email: str, role: str) -> int:
    """Invite ``email`` to ``athlete_id``'s data as ``role`` (viewer or editor); returns the grant id."""
    email = normalise_email(email)
    if role not in GRANT_ROLES:
        raise BadInputError(f"role: one of {', '.join(GRANT_ROLES)}")
    if email == owner.email:
        raise BadInputError("email: that is your own account")
    with ws.session() as session:
        grant = GrantRow(person_id=athlete_id, email=email, role=role, created_at=datetime.now(UTC))
        session.add(grant)
        session.flush()
        record(session, "grant", owner.id, athlete_id, f"grant {grant.id} {role}")
        return grant.id


def list_grants(ws: Workspace, athlete_id: int) -> list[dict[str, Any]]:
    with ws.session() as session:
        rows = session.scalars(select(GrantRow).where(GrantRow.person_id == athlete_id).order_by(GrantRow.id))
        return [_grant_dict(g) for g in rows]


def revoke(ws: Workspace, owner: Account, athlete_id: int, grant_id: int) -> bool:
    """Revoke one of ``athlete_id``'s grants (False if it has no such grant)."""
    with ws.session() as session:
        grant = session.get(GrantRow, grant_id)
        if grant is None or grant.person_id != athlete_id:
            return False
        if grant.revoked_at is None:
            grant.revoked_at = datetime.now(UTC)
            record(session, "revoke", owner.id, athlete_id, f"grant {grant.id}")
        return True


def invitations(ws: Workspace, account: Account) -> list[dict[str, Any]]:
    """Invitations addressed to ``account`` that it has not accepted yet, with the athlete's name."""
    with ws.session() as session:
        rows = session.execute(select(GrantRow, Person.name).join(Person, Person.id == GrantRow.person_id).where(
            GrantRow.email == account.email, GrantRow.accepted_at.is_(None), GrantRow.revoked_at.is_(None)))
        return [{**_grant_dict(g), "athlete_name": name} for g, name in rows]


def accept(ws: Workspace, account: Account, grant_id: int) -> bool:
    """Accept an invitation addressed to ``account`` (False if there is no such live invitation)."""
    with ws.session() as session:
        grant = session.get(GrantRow, grant_id)
        if grant is None or grant.email != account.email or grant.revoked_at is not None:
            return False
        if grant.accepted_at is None:
            grant.accepted_at = datetime.now(UTC)
            record(session, "grant_accepted", account.id, grant.person_id, f"grant {grant.id}")
        return True


def add_note(ws: Workspace, author: Account, athlete_id: int, body: str) -> int:
    body = body.strip()
    if not body or len(body) > MAX_NOTE or "\x00" in body:
        raise BadInputError(f"note: 1 to {MAX_NOTE} characters")
    with ws.session() as session:
        note = NoteRow(person_id=athlete_id, author_id=author.id, author_email=author.email, body=body,
                       created_at=datetime.now(UTC))
        session.add(note)
        session.flush()
        return note.id


def list_notes(ws: Workspace, athlete_id: int) -> list[dict[str, Any]]:
    with ws.session() as session:
        rows = session.scalars(select(NoteRow).where(NoteRow.person_id == athlete_id).order_by(NoteRow.id.desc()))
        return [{"note_id": n.id, "author": n.author_email, "body": n.body, "created_at": n.created_at} for n in rows]


@dataclass(frozen=True)
class Overview:
    """One row of a coach's athlete list."""

    id: int
    name: str
    access: str
    last_activity: datetime | None
    red_flags: int
    symptom_recent: float | None  # mean daily worst symptom score, last 14 days
    symptom_before: float | None  # the same, the 14 days before

    @property
    def trend(self) -> str:
        if self.symptom_recent is None or self.symptom_before is None:
            return "not enough data yet"
        change = self.symptom_recent - self.symptom_before
        return "worse" if change >= 1 else "better" if change <= -1 else "steady"


def athlete_overview(ws: Workspace, account: Account, today: date) -> list[Overview]:
    """Every athlete ``account`` may see with the last activity, the symptom trend and the red flags; red flags first.

    The trend compares the mean of each logged day's worst GI symptom score (0-10) over the last 14 days with the 14
    days before: a change of a point or more is "worse" or "better", and fewer than 3 logged days in either window
    is "not enough data yet". Red flags are those of :func:`gutstride.analysis.symptoms.screen_red_flags`.
    """
    from gutstride.analysis.symptoms import screen_red_flags
    from gutstride.services.logs import list_log_entries

    out = []
    for athlete in visible_athletes(ws, account):
        with ws.session() as session:
            last = session.scalar(select(func.max(ActivityRow.start_time))
                                  .where(ActivityRow.person_id == athlete["id"]))
            n_log = session.scalar(select(func.count()).select_from(LogEntryRow)
                                   .where(LogEntryRow.person_id == athlete["id"])) or 0
        entries = list_log_entries(ws, athlete["id"]) if n_log else []
        flags = screen_red_flags(entries) if entries else []
        windows: list[list[int]] = [[], []]
        for e in entries:
            score = e.max_symptom()
            age = (today - e.day).days
            if score is not None and 0 <= age < 28:
                windows[age // 14].append(score)
        means = [sum(w) / len(w) if len(w) >= 3 else None for w in windows]
        out.append(Overview(athlete["id"], athlete["name"], athlete["access"], last, len(flags), means[0], means[1]))
    return sorted(out, key=lambda o: (o.red_flags == 0, o.name.lower(), o.id))

