"""Sign-in attempts counted in the database (SQLite here; PostgreSQL in tests/web): a sliding window per key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gutstride.services import attempts
from gutstride.store.workspace import Workspace


def test_the_attempt_after_the_limit_is_refused_per_key_and_the_window_slides(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    assert all(attempts.allow(ws, ["ip:a", f"account:{i}"], 10) for i in range(10))
    assert not attempts.allow(ws, ["ip:a", "account:new"], 10)
    assert attempts.allow(ws, ["ip:b", "account:0"], 10)  # account 0 has had 2 attempts
    assert attempts.allow(ws, ["ip:a"], 10, window=timedelta(0))  # nothing left in an empty window
