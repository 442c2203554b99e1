"""Fixtures of the web-app tests: a throwaway PostgreSQL server, a database per test module, the app, principals.

The server is made with Debian's ``initdb`` and ``pg_ctl`` in a temporary folder owned by the ``postgres`` user
(run as that user when the tests run as root, since PostgreSQL refuses to run as root), listening on a free
loopback port with fsync off; it is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gutstride.services import accounts, sharing
from gutstride.services.accounts import Account
from gutstride.store.storage import LocalStorage
from gutstride.store.workspace import Workspace

DATA = Path(__file__).parent.parent / "data"
SMALL_FIT = DATA / "activities" / "fit-fitparse" / "2015-10-13-08-43-15.fit"
SMALL_GPX = DATA / "activities" / "gpx-gpxpy" / "Mojstrovka.gpx"


def pg_bin(name: str) -> str:
    """A PostgreSQL program: Debian keeps them in /usr/lib/postgresql/<version>/bin, outside PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package (.ci/system-packages does)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    port: int
    folder: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    folder = Path(tempfile.mkdtemp(prefix="gutstride-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(_as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                 "--locale=C", "--no-sync"]), check=True, capture_output=True)
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                                 "-t", "60", "start"]), check=True, capture_output=True)
    try:
        yield PostgresServer(port, folder)
    finally:
        subprocess.run(_as_postgres([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


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
