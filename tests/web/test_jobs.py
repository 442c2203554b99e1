"""The import queue on PostgreSQL: claims skip locked rows, one athlete's imports run one at a time, reasons kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gutstride.services import jobs

from .conftest import SMALL_GPX, make_account, open_ws


@pytest.fixture(scope="module")
def ws(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return open_ws(database_url, tmp_path_factory.mktemp("storage"))


def test_one_athletes_imports_run_one_at_a_time_in_order(ws: Any) -> None:
    a, b = make_account(ws, "qa@example.org", "athlete"), make_account(ws, "qb@example.org", "athlete")
    a1 = jobs.enqueue(ws, a.athlete_id, a.id, "one.gpx", SMALL_GPX)
    a2 = jobs.enqueue(ws, a.athlete_id, a.id, "two.gpx", SMALL_GPX)
    b1 = jobs.enqueue(ws, b.athlete_id, b.id, "three.gpx", SMALL_GPX)
    with ws.engine.connect() as first, ws.engine.connect() as second:
        with jobs._claim(ws, first) as claimed_first:
            assert claimed_first == (a1, a.athlete_id)
            with jobs._claim(ws, second) as claimed_second:
                assert claimed_second == (b1, b.athlete_id)  # a2 waits: A's lock is held by the first worker
            jobs.run_job(ws, *claimed_first)
        with jobs._claim(ws, second) as claimed:
            assert claimed == (a2, a.athlete_id)
            jobs.run_job(ws, *claimed)
    done = jobs.get_job(ws, a.athlete_id, a1)
    assert done["status"] == "done" and [f["status"] for f in done["files"]] == ["ok"]
    assert jobs.get_job(ws, a.athlete_id, a2)["files"][0]["status"] == "duplicate"
    assert jobs.get_job(ws, b.athlete_id, b1)["status"] == "running"  # claimed, never run here
    assert jobs.get_job(ws, b.athlete_id, a1) is None  # another athlete's job is not found
    assert not ws.storage.list(jobs.incoming_prefix(a.athlete_id, a1))  # the upload copy is gone


def test_a_failed_job_keeps_its_reason(ws: Any, tmp_path: Path) -> None:
    a = make_account(ws, "qfail@example.org", "athlete")
    job = jobs.enqueue(ws, a.athlete_id, a.id, "gone.fit", SMALL_GPX)
    ws.storage.delete_prefix(jobs.incoming_prefix(a.athlete_id, job))
    while jobs.run_pending(ws):
        pass
    found = jobs.get_job(ws, a.athlete_id, job)
    assert found["status"] == "failed" and "missing" in found["error"]


def test_erasing_through_the_api_leaves_no_row_and_no_file(ws: Any) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from gutstride.services import accounts, sharing
    from gutstride.store.schema import Base
    from gutstride.web.app import create_app
    from gutstride.web.config import WebConfig

    app = create_app(WebConfig(database_url="x"), ws)
    athlete, coach = make_account(ws, "erase@example.org", "athlete"), make_account(ws, "ecoach@example.org", "coach")
    job = jobs.enqueue(ws, athlete.athlete_id, athlete.id, "one.gpx", SMALL_GPX)
    jobs.run_job(ws, job, athlete.athlete_id)
    grant_id = sharing.invite(ws, athlete, athlete.athlete_id, coach.email, "editor")
    sharing.accept(ws, coach, grant_id)
    sharing.add_note(ws, coach, athlete.athlete_id, "see you Tuesday")
    token, _ = accounts.start_session(ws, athlete, "bearer")
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/athletes/{athlete.athlete_id}"
    assert ws.storage.list(f"athletes/{athlete.athlete_id}/")
    assert client.request("DELETE", url, json={"password": "wrong password"}, headers=auth).status_code == 403
    response = client.request("DELETE", url, json={"password": "correct horse battery"}, headers=auth)
    assert response.status_code == 200 and response.json()["removed"]["activities"] == 1
    with ws.session() as session:
        for table in Base.metadata.sorted_tables:
            for column in ("person_id", "user_id", "author_id"):
                if column in table.c and table.name != "audit_log":
                    wanted = athlete.athlete_id if column == "person_id" else athlete.id
                    assert session.scalar(select(func.count()).select_from(table)
                                          .where(table.c[column] == wanted)) == 0, (table.name, column)
    assert ws.storage.list(f"athletes/{athlete.athlete_id}/") == []
    assert client.get("/api/me", headers=auth).status_code == 401  # the token went with the account
    coach_token, _ = accounts.start_session(ws, coach, "bearer")
    assert client.get("/api/athletes", headers={"Authorization": f"Bearer {coach_token}"}).json() == []
