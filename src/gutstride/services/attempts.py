"""Counting sign-in and sign-up attempts in the database, so that every server process shares one count.

The rate limit of the web app (the attempt after ``limit`` in ``window`` seconds from one address or for one
account is refused) is a sliding window over the rows of ``sign_in_attempt``: one row per attempt and key, holding
the key's SHA-256 (the table holds no email or address) and the time. An attempt inserts its rows, deletes every row
older than the window, then counts the key's rows in the window, in one transaction. Attempts on one key are
serialised so that concurrent ones cannot all see a count under the limit: on PostgreSQL by a transaction-level
advisory lock per key (taken in key order, so two attempts never wait on each other), on SQLite by the database's
single writer (the insert comes first and takes the write lock). Refused attempts count too.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text

from gutstride.store.schema import AttemptRow
from gutstride.store.workspace import Workspace

#: First key of the advisory locks of the attempt counts (the second is from the key's hash).
LOCK_SPACE = 16017


def allow(ws: Workspace, keys: list[str], limit: int, window: timedelta = timedelta(minutes=1)) -> bool:
    """Count one attempt against every key; False if any key has now had more than ``limit`` in ``window``."""
    now = datetime.now(UTC)
    hashed = sorted({hashlib.sha256(key.encode()).hexdigest() for key in keys})
    with ws.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            for key in hashed:
                session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                                {"space": LOCK_SPACE, "key": int(key[:8], 16) - 2**31})
        session.add_all(AttemptRow(key_sha256=key, at=now) for key in hashed)
        session.flush()
        session.execute(delete(AttemptRow).where(AttemptRow.at < now - window))
        counts = session.execute(select(AttemptRow.key_sha256, func.count()).where(
            AttemptRow.key_sha256.in_(hashed), AttemptRow.at >= now - window).group_by(AttemptRow.key_sha256))
        return all(count <= limit for _, count in counts)
