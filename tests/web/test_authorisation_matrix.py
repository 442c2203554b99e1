"""The authorisation matrix: every route of the app, for every principal and object, answers as expected.

Rows come from the app's own route list: a route without a row here fails the test (and a row without a route).
Principals: anonymous, the owner (athlete A), another athlete (B), A's viewer, A's editor, a coach whose access A
revoked, and a coach with a pending invitation. Objects: A's (athlete, activity, job, grant), B's, ones that do not
exist, and A's athlete id with B's object below it. Expected: 0 cross-athlete reads or writes, 404 for anything
the caller may not see (with the very body of a missing object), 403 for what it may see but not do, and the
security headers on every response.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from gutstride.services import jobs, sharing
from gutstride.services.importing import import_files
from gutstride.web.app import create_app
from gutstride.web.config import WebConfig

from .conftest import SMALL_FIT, SMALL_GPX, Principal, grant, make_account, open_ws, placeholder_report

MISSING = 2_000_000_000
TODAY = date(2026, 11, 1)

#: Kind of every route: who may call it. "public": anyone; "signed_in": any account; "read": sees the athlete;
#: "write": owner or editor; "owner": the athlete only; "note": sees the athlete (notes are for viewers too);
#: "accept": an invitation addressed to the caller (none of the objects is); "job": sees the job's athlete.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("POST", "/api/auth/signup"): "public",
    ("POST", "/api/auth/token"): "public",
    ("GET", "/api/me"): "signed_in",
    ("GET", "/api/athletes"): "signed_in",
    ("GET", "/api/invitations"): "signed_in",
    ("POST", "/api/invitations/{grant_id}/accept"): "accept",
    ("POST", "/api/athletes/{athlete_id}/uploads"): "write",
    ("GET", "/api/jobs/{job_id}"): "job",
    ("GET", "/api/athletes/{athlete_id}/activities"): "read",
    ("GET", "/api/athletes/{athlete_id}/activities/{activity_id}/stream"): "read",
    ("GET", "/api/athletes/{athlete_id}/log"): "read",
    ("POST", "/api/athletes/{athlete_id}/log"): "write",
    ("GET", "/api/athletes/{athlete_id}/report.json"): "read",
    ("GET", "/api/athletes/{athlete_id}/report.html"): "read",
    ("GET", "/api/athletes/{athlete_id}/report.pdf"): "read",
    ("GET", "/api/athletes/{athlete_id}/grants"): "owner",
    ("POST", "/api/athletes/{athlete_id}/grants"): "owner",
    ("DELETE", "/api/athletes/{athlete_id}/grants/{grant_id}"): "owner",
    ("GET", "/api/athletes/{athlete_id}/notes"): "read",
    ("POST", "/api/athletes/{athlete_id}/notes"): "note",
    ("GET", "/api/athletes/{athlete_id}/export"): "owner",
    ("DELETE", "/api/athletes/{athlete_id}"): "owner",
    ("GET", "/api/evidence"): "public",
    ("GET", "/"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("GET", "/signup"): "public",
    ("POST", "/signup"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/athletes"): "signed_in",
    ("POST", "/invitations/{grant_id}/accept"): "accept",
    ("GET", "/athletes/{athlete_id}"): "read",
    ("POST", "/athletes/{athlete_id}/notes"): "note",
    ("GET", "/athletes/{athlete_id}/upload"): "read",
    ("POST", "/athletes/{athlete_id}/upload"): "write",
    ("GET", "/athletes/{athlete_id}/log"): "read",
    ("POST", "/athletes/{athlete_id}/log"): "write",
    ("POST", "/athletes/{athlete_id}/profile"): "write",
    ("GET", "/athletes/{athlete_id}/microbiome"): "read",
    ("GET", "/athletes/{athlete_id}/sharing"): "owner",
    ("POST", "/athletes/{athlete_id}/sharing"): "owner",
    ("POST", "/athletes/{athlete_id}/sharing/{grant_id}/revoke"): "owner",
    ("GET", "/evidence"): "public",
    ("GET", "/account"): "signed_in",
    ("POST", "/account/password"): "signed_in",
    ("POST", "/account/delete"): "signed_in",
    ("GET", "/static/app.css"): "public",
}

#: What a permitted call answers (default: 200 for GET, 303 for a page's POST). Calls that would end a session or
#: erase data are made with a wrong password, so a permitted call answers 403 there.
SUCCESS: dict[tuple[str, str], int] = {
    ("POST", "/api/auth/signup"): 422,  # an invalid email, so that no account is made
    ("POST", "/api/auth/token"): 401,  # a wrong password
    ("POST", "/api/invitations/{grant_id}/accept"): 200,
    ("POST", "/api/athletes/{athlete_id}/uploads"): 202,
    ("POST", "/api/athletes/{athlete_id}/log"): 201,
    ("POST", "/api/athletes/{athlete_id}/grants"): 201,
    ("DELETE", "/api/athletes/{athlete_id}/grants/{grant_id}"): 204,
    ("POST", "/api/athletes/{athlete_id}/notes"): 201,
    ("DELETE", "/api/athletes/{athlete_id}"): 403,
    ("GET", "/"): 303,
    ("POST", "/login"): 401,
    ("POST", "/signup"): 422,
    ("POST", "/account/password"): 403,
    ("POST", "/account/delete"): 403,
}

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/auth/signup"): {"json": {"email": "not-an-email", "password": "long enough", "role": "coach"}},
    ("POST", "/api/auth/token"): {"data": {"username": "a@example.org", "password": "wrong password"}},
    ("POST", "/api/athletes/{athlete_id}/uploads"): {"files": {"file": ("a.csv", b"date,bloating\n2026-10-01,2\n")}},
    ("POST", "/api/athletes/{athlete_id}/log"): {"json": {"date": "2026-10-02", "nausea": 1}},
    ("POST", "/api/athletes/{athlete_id}/grants"): {"json": {"email": "new-coach@example.org", "role": "viewer"}},
    ("POST", "/api/athletes/{athlete_id}/notes"): {"json": {"body": "easy week"}},
    ("DELETE", "/api/athletes/{athlete_id}"): {"json": {"password": "wrong password"}},
    ("POST", "/login"): {"data": {"email": "a@example.org", "password": "wrong password"}},
    ("POST", "/signup"): {"data": {"email": "not-an-email", "password": "long enough", "role": "coach"}},
    ("POST", "/athletes/{athlete_id}/notes"): {"data": {"body": "easy week"}},
    ("POST", "/athletes/{athlete_id}/upload"): {"files": {"file": ("a.csv", b"date,bloating\n2026-10-01,2\n")}},
    ("POST", "/athletes/{athlete_id}/log"): {"data": {"date": "2026-10-03", "bloating": "2"}},
    ("POST", "/athletes/{athlete_id}/profile"): {"data": {"birth_year": "1990"}},
    ("POST", "/athletes/{athlete_id}/sharing"): {"data": {"email": "new-coach@example.org", "role": "editor"}},
    ("POST", "/account/password"): {"data": {"old": "wrong password", "new": "another long one"}},
    ("POST", "/account/delete"): {"data": {"password": "wrong password"}},
}

PRINCIPALS = ("anonymous", "owner", "other_athlete", "viewer", "editor", "revoked", "pending")
#: The level of each principal on athlete A's and B's data.
LEVELS: dict[str, dict[str, str]] = {"owner": {"A": "owner"}, "other_athlete": {"B": "owner"},
                                     "viewer": {"A": "viewer"}, "editor": {"A": "editor"}}
OBJECTS = ("A", "B", "missing", "A_with_B_below")


def _route_list(app: Any) -> set[tuple[str, str]]:
    out = set()
    for context in iter_route_contexts(app.routes):
        methods = getattr(context, "methods", None) or {"GET"}
        path = context.path if context.path != "/static" else "/static/app.css"
        out |= {(m, path) for m in methods if m != "HEAD"}
    return out


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = open_ws(database_url, tmp_path_factory.mktemp("storage"))
    app = create_app(WebConfig(database_url=database_url, attempts_per_minute=1_000_000), ws)
    app.state.today = TODAY
    a, b = make_account(ws, "a@example.org", "athlete"), make_account(ws, "b@example.org", "athlete")
    coaches = {name: make_account(ws, f"{name}@example.org", "coach") for name in ("viewer", "editor", "revoked",
                                                                                     "pending")}
    grant(ws, a, coaches["viewer"], "viewer")
    grant(ws, a, coaches["editor"], "editor")
    grant(ws, a, coaches["revoked"], "editor", revoked=True)
    grant(ws, a, coaches["pending"], "viewer", accepted=False)
    objects: dict[str, dict[str, int]] = {}
    for key, athlete in (("A", a), ("B", b)):
        assert athlete.athlete_id is not None
        import_files(ws, athlete.athlete_id, [SMALL_GPX], workers=1)
        activity = _activity_of(ws, athlete.athlete_id)
        spare = sharing.invite(ws, athlete, athlete.athlete_id, f"spare-{key}@example.org", "viewer")
        job = jobs.enqueue(ws, athlete.athlete_id, athlete.id, "x.csv", SMALL_FIT)
        sharing.add_note(ws, athlete, athlete.athlete_id, "a note")
        objects[key] = {"athlete_id": athlete.athlete_id, "activity_id": activity, "job_id": job, "grant_id": spare}
        placeholder_report(ws, athlete.athlete_id, TODAY)
    objects["missing"] = dict.fromkeys(objects["A"], MISSING)
    objects["A_with_B_below"] = {**{k: v for k, v in objects["B"].items()}, "athlete_id": objects["A"]["athlete_id"]}
    accounts_by_name = {"anonymous": None, "owner": a, "other_athlete": b, **coaches}
    principals = {name: Principal(name, acct) for name, acct in accounts_by_name.items()}
    return {"ws": ws, "app": app, "objects": objects, "principals": principals}


def _activity_of(ws: Any, athlete_id: int) -> int:
    from gutstride.services.activities import list_activities

    return int(list_activities(ws, athlete_id)[0]["id"])


def _expected(method: str, path: str, principal: str, obj: str) -> int:
    kind = ROUTES[(method, path)]
    api = path.startswith("/api") or path == "/openapi.json"
    success = SUCCESS.get((method, path), 200 if method == "GET" else 303)
    if kind == "public":
        return success
    if principal == "anonymous":
        return 401 if api else 303
    if kind == "signed_in":
        return success
    if kind == "accept":
        return 404  # no object is an invitation addressed to the caller
    athlete = {"A": "A", "A_with_B_below": "A", "B": "B"}.get(obj)
    level = LEVELS.get(principal, {}).get(athlete or "")
    if kind == "job":  # the job's own athlete decides
        athlete = {"A": "A", "B": "B", "A_with_B_below": "B"}.get(obj)
        level = LEVELS.get(principal, {}).get(athlete or "")
    if level is None:
        return 404
    if (kind == "write" and level not in ("owner", "editor")) or (kind == "owner" and level != "owner"):
        return 403
    if obj == "A_with_B_below" and "{" in path.replace("{athlete_id}", ""):
        return 404  # B's object below A's athlete id
    return success


def test_every_route_has_a_row(world: dict[str, Any]) -> None:
    assert _route_list(world["app"]) == set(ROUTES)


def test_the_matrix(world: dict[str, Any]) -> None:
    ws, app = world["ws"], world["app"]
    client = TestClient(app, follow_redirects=False)
    wrong, cross, n = [], [], 0
    credentials: dict[tuple[str, bool], tuple[dict[str, str], dict[str, str]]] = {}
    not_found_bodies = set()
    for (method, path), kind in sorted(ROUTES.items()):
        objects = OBJECTS if "{" in path else ("A",)
        if kind in ("public", "signed_in"):
            objects = ("A",)
        elif kind == "job":
            objects = ("A", "B", "missing")
        for obj in objects:
            url = path.format(**world["objects"][obj])
            for name in PRINCIPALS:
                if obj == "A_with_B_below" and "{" not in path.replace("{athlete_id}", "") and kind != "job":
                    continue
                principal = world["principals"][name]
                api = path.startswith("/api")
                if (name, api) not in credentials:
                    credentials[(name, api)] = principal.headers(ws, api=api)
                headers, cookies = credentials[(name, api)]
                if path == "/logout":  # a sign-out ends its session: a session of its own
                    headers, cookies = principal.headers(ws, api=api)
                if principal.account is None and method == "POST" and path in ("/login", "/signup"):
                    headers, cookies = {"X-CSRF-Token": "t", "Origin": "http://testserver"}, {"gs_csrf": "t"}
                client.cookies.clear()
                for key, value in cookies.items():
                    client.cookies.set(key, value)
                body = BODIES.get((method, path), {})
                response = client.request(method, url, headers=headers, **body)
                n += 1
                expected = _expected(method, path, name, obj)
                if response.status_code != expected:
                    wrong.append(f"{method} {url} as {name} on {obj}: {response.status_code} (expected {expected}) "
                                 f"{response.text[:120]}")
                if expected == 404 and response.status_code < 400:
                    cross.append(f"{method} {url} as {name}")
                if response.status_code == 404 and path.startswith("/api"):
                    not_found_bodies.add(response.text)
                for header in ("content-security-policy", "x-content-type-options", "referrer-policy"):
                    assert header in response.headers, f"{method} {url}: no {header}"
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
                assert "unsafe-inline" not in response.headers["content-security-policy"].split("script-src")[1] \
                    .split(";")[0]
    assert cross == [], f"{len(cross)} cross-athlete accesses"
    assert wrong == [], "\n".join(wrong)
    assert not_found_bodies == {'{"detail":"not found"}'}  # another's object answers exactly as a missing one
    assert n > 700


def test_revocation_takes_effect_on_the_next_request(world: dict[str, Any]) -> None:
    ws, app = world["ws"], world["app"]
    owner, coach = world["principals"]["owner"].account, make_account(ws, "late@example.org", "coach")
    grant_id = grant(ws, owner, coach, "viewer")
    client = TestClient(app)
    headers, _ = Principal("late", coach).headers(ws, api=True)
    athlete = owner.athlete_id
    assert client.get(f"/api/athletes/{athlete}/log", headers=headers).status_code == 200
    owner_headers, _ = world["principals"]["owner"].headers(ws, api=True)
    assert client.delete(f"/api/athletes/{athlete}/grants/{grant_id}", headers=owner_headers).status_code == 204
    assert client.get(f"/api/athletes/{athlete}/log", headers=headers).status_code == 404
    assert client.get("/api/athletes", headers=headers).json() == []

