"""Web-app accounts: sign-up, sign-in, server-side sessions and bearer tokens, password change, account deletion.

Passwords are hashed with Argon2id at OWASP's minimum recommended parameters (Password Storage Cheat Sheet:
m = 19 MiB, t = 2 iterations, p = 1). A session or bearer token is 32 random bytes (``secrets.token_urlsafe``);
only its SHA-256 is stored, so a copy of the database does not hold usable tokens. Signing in makes a new token
(no session fixation); signing out ends that token, and a password change ends every token of the account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select

from gutstride.errors import BadInputError
from gutstride.services.audit import record
from gutstride.store.schema import GrantRow, Person, SessionRow, UserRow
from gutstride.store.workspace import Workspace

Role = Literal["athlete", "coach"]
ROLES: tuple[str, ...] = ("athlete", "coach")
#: Argon2id parameters (OWASP minimum): memory in KiB, iterations, lanes.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SESSION_LIFETIME = {"cookie": timedelta(days=14), "bearer": timedelta(hours=12)}
_EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f.]+(\.[^@\s\x00-\x1f.]+)+$")


class EmailTakenError(BadInputError):
    """Sign-up with an email that already has an account."""


@dataclass(frozen=True)
class Account:
    """A signed-in user: ``athlete_id`` is the athlete (person row) an athlete's account owns; None for a coach."""

    id: int
    email: str
    role: str
    athlete_id: int | None


@dataclass(frozen=True)
class SignedIn:
    """The account behind a token, the token's kind and its CSRF token."""

    account: Account
    kind: str
    csrf_token: str


def _hasher():
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM,
                          type=Type.ID)


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def _verify(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_hex(16)))
    return _DUMMY[0]


def normalise_email(email: str) -> str:
    """``email`` stripped and lower-cased; :class:`BadInputError` unless it looks like ``name@domain.tld``."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise BadInputError("email: give an address like name@example.org")
    return email


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or "\x00" in password:
        raise BadInputError(f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters, no NUL")
    return password


def _account(user: UserRow) -> Account:
    return Account(user.id, user.email, user.role, user.person_id)


def sign_up(ws: Workspace, email: str, password: str, role: str) -> Account:
    """Create an account; an athlete's account gets its own athlete (person row)."""
    email = normalise_email(email)
    check_password(password)
    if role not in ROLES:
        raise BadInputError(f"role: one of {', '.join(ROLES)}")
    hashed = hash_password(password)
    with ws.session() as session:
        if session.scalar(select(UserRow.id).where(UserRow.email == email)) is not None:
            raise EmailTakenError("an account with this email exists already")
        person_id = None
        if role == "athlete":
            person = Person(name=email.split("@", 1)[0], is_demo=False)
            session.add(person)
            session.flush()
            person_id = person.id
        user = UserRow(email=email, password_hash=hashed, role=role, person_id=person_id, created_at=datetime.now(UTC))
        session.add(user)
        session.flush()
        record(session, "sign_up", user.id, person_id)
        return _account(user)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(ws: Workspace, email: str, password: str) -> Account | None:
    """The account if ``password`` is right, else None (and a ``sign_in_failed`` audit row).

    An unknown email costs one hash verification too, so the answer time does not tell which emails exist.
    """
    email = email.strip().lower()
    with ws.session() as session:
        user = session.scalar(select(UserRow).where(UserRow.email == email))
        ok = _verify(user.password_hash if user else _dummy_hash(), password) and user is not None
        if not ok or user is None:
            record(session, "sign_in_failed", user.id if user else None, None,
                   "email sha256 " + hashlib.sha256(email.encode()).hexdigest())
            return None
        return _account(user)


def start_session(ws: Workspace, account: Account, kind: str) -> tuple[str, str]:
    """A new token for ``account`` (``kind`` "cookie" or "bearer"); returns (token, csrf token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with ws.session() as session:
        session.add(SessionRow(token_sha256=_sha(token), user_id=account.id, kind=kind, csrf_token=csrf,
                               created_at=now, expires_at=now + SESSION_LIFETIME[kind]))
        record(session, "sign_in", account.id, account.athlete_id, kind)
    return token, csrf


def signed_in(ws: Workspace, token: str, kind: str) -> SignedIn | None:
    """Who ``token`` belongs to, if it is a live token of ``kind``."""
    with ws.session() as session:  # one query: it runs on every signed-in request
        found = session.execute(select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
                                .where(SessionRow.token_sha256 == _sha(token))).first()
        if found is None or found[0].kind != kind:
            return None
        row, user = found
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            session.delete(row)
            return None
        return SignedIn(_account(user), row.kind, row.csrf_token)


def end_session(ws: Workspace, token: str) -> None:
    with ws.session() as session:
        session.execute(delete(SessionRow).where(SessionRow.token_sha256 == _sha(token)))


def change_password(ws: Workspace, account: Account, old: str, new: str) -> bool:
    """Set a new password if ``old`` is right; every session and token of the account ends. False if wrong."""
    check_password(new)
    with ws.session() as session:
        user = session.get(UserRow, account.id)
        if user is None or not _verify(user.password_hash, old):
            return False
        user.password_hash = hash_password(new)
        session.execute(delete(SessionRow).where(SessionRow.user_id == account.id))
        record(session, "password_change", account.id, account.athlete_id)
    return True


def delete_account(ws: Workspace, account: Account, password: str) -> dict[str, int] | None:
    """Erase the account if ``password`` is right (None if wrong).

    An athlete's account erases the athlete: every row (the account, its sessions, grants, notes and jobs cascade
    from the person row) and every file (:func:`gutstride.services.export.erase_athlete`). A coach's account goes
    with its sessions and the invitations addressed to it.
    """
    from gutstride.services.export import erase_athlete

    with ws.session() as session:
        user = session.get(UserRow, account.id)
        if user is None or not _verify(user.password_hash, password):
            return None
        record(session, "erase", account.id, account.athlete_id)
        if user.person_id is None:
            session.execute(delete(GrantRow).where(GrantRow.email == user.email))
            session.delete(user)
            return {"accounts": 1}
    removed = erase_athlete(ws, account.athlete_id) if account.athlete_id is not None else {}
    return {"accounts": 1, **removed}
