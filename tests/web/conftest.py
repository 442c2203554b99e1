"""Fixtures of the web-app tests: a throwaway PostgreSQL server for the session
(:func:`gutstride.store.throwaway_postgres.throwaway_postgres`), a database per test module, the app, principals."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from gutstride.services import accounts, sharing
from gutstride.services.accounts import Account
from gutstride.store.storage import LocalStorage
from gutstride.store.throwaway_postgres import PostgresServer, throwaway_postgres
from gutstride.store.workspace import Workspace

DATA = Path(__file__).parent.parent / "data"
SMALL_FIT = DATA / "activities" / "fit-fitparse" / "2015-10-13-08-43-15.fit"
SMALL_GPX = DATA / "activities" / "gpx-gpxpy" / "Mojstrovka.gpx"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with throwaway_postgres() as server:
        yield server


_NAMES = itertools.count()


@pytest.fixture(scope="module")
def database_url(postgres: PostgresServer) -> str:
    """A new, empty database on the server, for one test module."""
    return postgres.create_database(f"t{os.getpid()}_{next(_NAMES)}")


def open_ws(database_url: str, storage: Path) -> Workspace:
    return Workspace(storage, create=True, database_url=database_url, storage=LocalStorage(storage))


@dataclass
class Principal:
    """A test caller: an account and how it reaches the app (bearer token for the API, cookie + CSRF for pages)."""

    name: str
    account: Account | None

    def headers(self, ws: Workspace, api: bool) -> tuple[dict[str, str], dict[str, str]]:
        """Fresh credentials: (headers, cookies)."""
        if self.account is None:
            return {}, {}
        kind = "bearer" if api else "cookie"
        token, csrf = accounts.start_session(ws, self.account, kind)
        if api:
            return {"Authorization": f"Bearer {token}"}, {}
        return {"X-CSRF-Token": csrf, "Origin": "http://testserver"}, {"gs_session": token}


def make_account(ws: Workspace, email: str, role: str) -> Account:
    """An account made through the service (at the test suite's cheap hash cost)."""
    return accounts.sign_up(ws, email, "correct horse battery", role)


def grant(ws: Workspace, owner: Account, coach: Account, role: str, accepted: bool = True,
          revoked: bool = False) -> int:
    assert owner.athlete_id is not None
    grant_id = sharing.invite(ws, owner, owner.athlete_id, coach.email, role)
    if accepted:
        assert sharing.accept(ws, coach, grant_id)
    if revoked:
        assert sharing.revoke(ws, owner, owner.athlete_id, grant_id)
    return grant_id


def placeholder_report(ws: Workspace, athlete_id: int, day: date) -> None:
    """Stand-ins for the athlete's cached report of ``day``, for the tests about who may read it and what inputs
    the routes take, not about its content (tests/report covers that); computing it would double their time."""
    from gutstride.services.report_cache import cache_prefix

    stand_ins = {"json": b'{"microbiome": {}}', "pdf": b"%PDF-1.4 stand-in",
                 "html": b"<html><head><style></style></head><body><main>report</main></body></html>"}
    for kind, data in stand_ins.items():
        ws.storage.write_bytes(f"{cache_prefix(athlete_id)}report-{day.isoformat()}.{kind}", data)
