"""Accounts and the guards: Argon2id parameters, session rotation and ending, CSRF, rate limits, NUL bytes, uploads."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters
from fastapi.testclient import TestClient
from sqlalchemy import select

from gutstride.services import accounts
from gutstride.services.audit import events
from gutstride.services.jobs import run_pending
from gutstride.store.schema import AuditRow, UserRow
from gutstride.web.app import create_app
from gutstride.web.config import WebConfig
from gutstride.web.main import zip_limits

from .conftest import open_ws

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def ws(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return open_ws(database_url, tmp_path_factory.mktemp("storage"))


def _app(ws: Any, attempts_per_minute: int = 1_000_000, **config: Any) -> Any:
    """The app; sign-in attempts are counted in the module's database, so only the rate-limit tests limit them."""
    return create_app(WebConfig(database_url="x", attempts_per_minute=attempts_per_minute, **config), ws)


def _signup(client: TestClient, email: str, role: str = "athlete") -> dict[str, Any]:
    response = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "role": role})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _login_page(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]  # as a browser submits the form
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers={"Origin": "http://testserver"}, follow_redirects=False)


def test_passwords_are_argon2id_at_owasp_minimum(ws: Any) -> None:
    client = TestClient(_app(ws))
    _signup(client, "hash@example.org")
    with ws.session() as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.email == "hash@example.org"))
    params = extract_parameters(stored)
    assert (params.type.name, params.memory_cost, params.time_cost, params.parallelism) == ("ID", 19456, 2, 1)
    assert PASSWORD not in stored


def test_sign_in_rotates_the_session_and_sign_out_ends_it(ws: Any) -> None:
    client = TestClient(_app(ws))
    _signup(client, "rotate@example.org")
    first = _login_page(client, "rotate@example.org")
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    old = client.cookies.get("gs_session")
    assert _login_page(client, "rotate@example.org").status_code == 303
    new = client.cookies.get("gs_session")
    assert new and new != old
    assert accounts.signed_in(ws, old, "cookie") is None  # the old id ended at the new sign-in
    assert client.get("/account").status_code == 200
    csrf = accounts.signed_in(ws, new, "cookie").csrf_token
    client.post("/logout", data={"csrf_token": csrf}, headers={"Origin": "http://testserver"})
    assert accounts.signed_in(ws, new, "cookie") is None
    assert "sign_in" in {action for action, _, _ in events(ws)}


def test_an_expired_token_or_one_of_the_other_kind_signs_nobody_in(ws: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from gutstride.store.schema import SessionRow

    account = accounts.sign_up(ws, "expired@example.org", PASSWORD, "athlete")
    token, _ = accounts.start_session(ws, account, "bearer")
    assert accounts.signed_in(ws, token, "bearer").account == account
    assert accounts.signed_in(ws, token, "cookie") is None
    with ws.session() as session:
        session.execute(update(SessionRow).where(SessionRow.user_id == account.id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert accounts.signed_in(ws, token, "bearer") is None
    with ws.session() as session:  # and the expired row is gone
        assert session.scalar(select(SessionRow).where(SessionRow.user_id == account.id)) is None


def test_password_change_ends_every_session_and_token(ws: Any) -> None:
    client = TestClient(_app(ws))
    _signup(client, "change@example.org")
    bearer = client.post("/api/auth/token", data={"username": "change@example.org", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {bearer['access_token']}"}
    assert client.get("/api/me", headers=auth).status_code == 200
    _login_page(client, "change@example.org")
    csrf = accounts.signed_in(ws, client.cookies.get("gs_session"), "cookie").csrf_token
    response = client.post("/account/password", data={"old": PASSWORD, "new": "a new long password",
                                                      "csrf_token": csrf}, headers={"Origin": "http://testserver"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/me", headers=auth).status_code == 401
    assert client.get("/account", follow_redirects=False).status_code == 303
    assert _login_page(client, "change@example.org", "a new long password").status_code == 303


def test_csrf_needs_same_origin_and_the_token(ws: Any) -> None:
    client = TestClient(_app(ws))
    athlete = _signup(client, "csrf@example.org")["athlete_id"]
    _login_page(client, "csrf@example.org")
    csrf = accounts.signed_in(ws, client.cookies.get("gs_session"), "cookie").csrf_token
    url, body = f"/athletes/{athlete}/log", {"date": "2026-10-01", "bloating": "3"}
    assert client.post(url, data=body, headers={"Origin": "http://testserver"}).status_code == 403
    assert client.post(url, data={**body, "csrf_token": csrf}, headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    assert client.post(url, data={**body, "csrf_token": csrf}).status_code == 403  # no Origin nor Referer
    assert client.post(url, data={**body, "csrf_token": csrf}, headers={"Origin": "http://testserver"},
                       follow_redirects=False).status_code == 303
    assert _login_page(client, "csrf@example.org").status_code == 303
    assert client.post("/login", data={"email": "csrf@example.org", "password": PASSWORD},
                       headers={"Origin": "http://testserver"}).status_code == 403  # sign-in CSRF too


def test_the_eleventh_attempt_in_a_minute_gets_429(ws: Any) -> None:
    app = _app(ws, attempts_per_minute=10)
    one = TestClient(app, client=("10.0.0.1", 5000))
    for i in range(10):
        assert one.post("/api/auth/token", data={"username": f"x{i}@example.org", "password": "wrong one"}
                        ).status_code == 401
    assert one.post("/api/auth/token", data={"username": "y@example.org", "password": "wrong one"}).status_code == 429
    assert one.post("/api/auth/signup", json={"email": "z@example.org", "password": PASSWORD, "role": "coach"}
                    ).status_code == 429
    # per account, from ten different addresses
    for i in range(10):
        client = TestClient(app, client=(f"10.0.1.{i}", 5000))
        assert client.post("/api/auth/token", data={"username": "target@example.org", "password": "nope nope"}
                           ).status_code == 401
    other = TestClient(app, client=("10.0.2.1", 5000))
    assert other.post("/api/auth/token", data={"username": "target@example.org", "password": "nope nope"}
                      ).status_code == 429
    with ws.session() as session:
        assert session.scalar(select(AuditRow.action).where(AuditRow.action == "sign_in_failed").limit(1))


def test_the_eleventh_attempt_across_two_server_processes_gets_429(ws: Any, tmp_path: Path) -> None:
    """The attempts are counted in the database, so several server processes share one count."""
    first = TestClient(_app(ws, attempts_per_minute=10), client=("10.0.3.1", 5000))
    other_process = open_ws(ws.engine.url.render_as_string(hide_password=False), tmp_path)
    second = TestClient(_app(other_process, attempts_per_minute=10), client=("10.0.3.1", 5000))
    for i in range(10):
        client = (first, second)[i % 2]
        assert client.post("/api/auth/token", data={"username": f"w{i}@example.org", "password": "wrong one"}
                           ).status_code == 401
    assert first.post("/api/auth/token", data={"username": "w@example.org", "password": "wrong one"}
                      ).status_code == 429
    assert second.post("/api/auth/token", data={"username": "w@example.org", "password": "wrong one"}
                       ).status_code == 429


def test_the_audit_log_is_append_only(ws: Any) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), ws.session() as session:
        session.execute(update(AuditRow).values(action="x"))
    with pytest.raises(DBAPIError, match="append-only"), ws.session() as session:
        session.execute(delete(AuditRow))


@pytest.mark.parametrize("path", ["/api/me%00", "/evidence?q=a%00b", "/api/evidence?q=%00"])
def test_nul_bytes_in_the_address_answer_422(ws: Any, path: str) -> None:
    assert TestClient(_app(ws)).get(path).status_code == 422


def test_nul_bytes_and_malformed_bodies_answer_422(ws: Any) -> None:
    client = TestClient(_app(ws))
    assert client.post("/api/auth/signup", json={"email": "a\u0000@example.org", "password": PASSWORD,
                                                 "role": "coach"}).status_code == 422
    assert client.post("/api/auth/signup", content=b"{not json", headers={"content-type": "application/json"}
                       ).status_code == 422
    user = _signup(client, "nul@example.org")
    token = client.post("/api/auth/token", data={"username": "nul@example.org", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    log = f"/api/athletes/{user['athlete_id']}/log"
    assert client.post(log, json={"date": "2026-13-01"}, headers=auth).status_code == 422
    assert client.post(log, json={"date": "2026-10-01", "bloating": 11}, headers=auth).status_code == 422
    assert client.post(log, json={"date": "2026-10-01", "notes": "a\u0000b"}, headers=auth).status_code == 422
    assert client.get("/api/athletes/99999999999999999999/log", headers=auth).status_code == 422


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_upload_limits_reuse_the_zip_guards(ws: Any, tmp_path: Path) -> None:
    config = WebConfig(database_url="x", max_upload_bytes=200_000, zip_max_members=3, zip_max_total_bytes=150_000,
                       zip_max_ratio=50.0, attempts_per_minute=1_000_000)
    app = create_app(config, ws)
    client = TestClient(app)
    user = _signup(client, "limits@example.org")
    token = client.post("/api/auth/token", data={"username": "limits@example.org", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    url = f"/api/athletes/{user['athlete_id']}/uploads"
    too_big = client.post(url, files={"file": ("big.fit", b"\0" * 1_600_000)}, headers=auth)
    assert too_big.status_code == 413
    cases = {
        "traversal": _zip({"../../etc/passwd.csv": b"date,bloating\n2026-10-01,2\n"}),
        "members": _zip({f"{i}.txt": b"x" for i in range(5)}),
        "ratio": _zip({"bomb.csv": b"0" * 2_000_000}),
    }
    job_ids = {}
    for name, data in cases.items():
        response = client.post(url, files={"file": (f"{name}.zip", data)}, headers=auth)
        assert response.status_code == 202, response.text
        job_ids[name] = response.json()["job_id"]
    assert run_pending(ws, zip_limits(config)) == 3
    reasons = {}
    for name, job_id in job_ids.items():
        job = client.get(f"/api/jobs/{job_id}", headers=auth).json()
        assert job["status"] == "done"
        reasons[name] = " ".join(f["message"] for f in job["files"] if f["status"] in ("skipped", "error"))
    assert "path" in reasons["traversal"] or ".." in reasons["traversal"], reasons
    assert "member" in reasons["members"], reasons
    assert "ratio" in reasons["ratio"] or "compress" in reasons["ratio"], reasons
