"""The JSON API under ``/api`` (OpenAPI at ``/openapi.json``). Pages use the same services and the same checks."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from gutstride.jsonout import clean
from gutstride.services import accounts, attempts, jobs, sharing
from gutstride.services.audit import audit
from gutstride.web.deps import NOT_FOUND, Id, need, signed_in_account, today, workspace
from gutstride.web.reports import report_pdf, report_text
from gutstride.web.security import client_address, csrf_guard

router = APIRouter(prefix="/api", dependencies=[Depends(csrf_guard)])


class SignUp(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=accounts.MAX_PASSWORD)
    role: Literal["athlete", "coach"]


class Me(BaseModel):
    user_id: int
    email: str
    role: str
    athlete_id: int | None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]


class AthleteOut(BaseModel):
    id: int
    name: str
    access: str


class JobId(BaseModel):
    job_id: int


class GrantIn(BaseModel):
    email: str = Field(max_length=254)
    role: Literal["viewer", "editor"]


class GrantId(BaseModel):
    grant_id: int


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=sharing.MAX_NOTE)


class Password(BaseModel):
    password: str = Field(max_length=accounts.MAX_PASSWORD)


def _me(account: accounts.Account) -> Me:
    return Me(user_id=account.id, email=account.email, role=account.role, athlete_id=account.athlete_id)


def limit_attempts(request: Request, email: str) -> None:
    """429 on the attempt after ``attempts_per_minute`` in a minute from one address or for one account."""
    keys = ["ip:" + client_address(request), "account:" + email.strip().lower()]
    if not attempts.allow(workspace(request), keys, request.app.state.config.attempts_per_minute):
        raise HTTPException(429, "too many attempts: wait a minute")


@router.post("/auth/signup", status_code=201, response_model=Me)
def signup(request: Request, body: SignUp) -> Me:
    """Create an account (an athlete's gets its own athlete)."""
    limit_attempts(request, body.email)
    try:
        return _me(accounts.sign_up(workspace(request), body.email, body.password, body.role))
    except accounts.EmailTakenError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/auth/token", response_model=Token)
def token(request: Request, username: Annotated[str, Form(max_length=254)],
          password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD)]) -> Token:
    """OAuth2 password flow: the email as ``username`` and the password give a bearer token."""
    limit_attempts(request, username)
    account = accounts.authenticate(workspace(request), username, password)
    if account is None:
        raise HTTPException(401, "wrong email or password", headers={"WWW-Authenticate": "Bearer"})
    access_token, _ = accounts.start_session(workspace(request), account, "bearer")
    return Token(access_token=access_token, token_type="bearer")


@router.get("/me", response_model=Me)
def me(request: Request) -> Me:
    return _me(signed_in_account(request))


@router.get("/athletes", response_model=list[AthleteOut])
def athletes(request: Request) -> list[dict[str, Any]]:
    """The athletes the caller may see."""
    return sharing.visible_athletes(workspace(request), signed_in_account(request))


@router.get("/invitations")
def invitations(request: Request) -> list[dict[str, Any]]:
    """Invitations addressed to the caller, not accepted yet."""
    return clean(sharing.invitations(workspace(request), signed_in_account(request)))


@router.post("/invitations/{grant_id}/accept", response_model=GrantId)
def accept_invitation(request: Request, grant_id: Id) -> GrantId:
    if not sharing.accept(workspace(request), signed_in_account(request), grant_id):
        raise HTTPException(404, NOT_FOUND)
    return GrantId(grant_id=grant_id)


def save_upload(request: Request, athlete_id: int, user_id: int, upload: UploadFile) -> int:
    """Copy an upload to a temporary file (413 past the limit) and queue its import; returns the job id."""
    limit = request.app.state.config.max_upload_bytes
    with tempfile.TemporaryDirectory() as tmp:
        path = FilePath(tmp) / "upload"
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"file too large (at most {limit} bytes)")
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, "the file is empty")
        return jobs.enqueue(workspace(request), athlete_id, user_id, upload.filename or "upload", path)


@router.post("/athletes/{athlete_id}/uploads", status_code=202, response_model=JobId)
def upload(request: Request, athlete_id: Id, file: Annotated[UploadFile, File()]) -> JobId:
    """A file or a whole export zip, imported in the background: poll ``/api/jobs/{job_id}``."""
    account = need(request, athlete_id, write=True)
    return JobId(job_id=save_upload(request, athlete_id, account.id, file))


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: Id) -> dict[str, Any]:
    """``status`` (queued, running, done, failed), progress, one status per file, and the reason of a failure."""
    ws = workspace(request)
    owner = jobs.job_athlete(ws, job_id)
    if owner is None:
        signed_in_account(request)
        raise HTTPException(404, NOT_FOUND)
    need(request, owner)
    found = jobs.get_job(ws, owner, job_id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return clean(found)


@router.get("/athletes/{athlete_id}/activities")
def activities(request: Request, athlete_id: Id) -> list[dict[str, Any]]:
    """The athlete's activities, as ``gutstride activities --json``."""
    from gutstride.services.activities import list_activities

    need(request, athlete_id)
    return list_activities(workspace(request), athlete_id)


@router.get("/athletes/{athlete_id}/activities/{activity_id}/stream")
def stream(request: Request, athlete_id: Id, activity_id: Id) -> Response:
    """One activity's per-sample stream: one array per column (NaN as null)."""
    from gutstride.errors import MissingDataError
    from gutstride.jsonout import dumps
    from gutstride.services.activities import activity_stream

    need(request, athlete_id)
    try:
        columns = activity_stream(workspace(request), athlete_id, activity_id)
    except MissingDataError:
        raise HTTPException(404, NOT_FOUND) from None
    return Response(dumps(columns, indent=0), media_type="application/json")


@router.get("/athletes/{athlete_id}/log")
def get_log(request: Request, athlete_id: Id) -> list[dict[str, Any]]:
    """The daily log, each entry as ``gutstride log --export FILE.json`` writes it."""
    from gutstride.ingest.logs import entry_to_dict
    from gutstride.services.logs import list_log_entries

    need(request, athlete_id)
    return clean([entry_to_dict(e) for e in list_log_entries(workspace(request), athlete_id)])


LogBody = Annotated[dict[str, Any] | list[dict[str, Any]], Body(
    description="One entry or a list: ``date`` (YYYY-MM-DD), optional ``activity_start``, and the fields of "
                "``gutstride log --template``.")]


def add_log(request: Request, athlete_id: int, records: list[dict[str, Any]], source: str) -> dict[str, Any]:
    """Validate and store log entries (422 with every problem if one is invalid)."""
    from gutstride.ingest.logs import entry_from_mapping
    from gutstride.services.logs import add_log_entries
    from gutstride.services.report_cache import invalidate

    if not records or len(records) > 5000:
        raise HTTPException(422, "give 1 to 5000 entries")
    entries, problems = [], []
    for i, record in enumerate(records):
        entry, found = entry_from_mapping(record)
        problems += [f"entry {i + 1}: {column}: {message}" for column, message in found]
        if entry is not None:
            entries.append(entry)
    if problems:
        raise HTTPException(422, "; ".join(problems))
    ws = workspace(request)
    result = add_log_entries(ws, athlete_id, entries, source)
    if result.counts.added or result.counts.changed:
        invalidate(ws, athlete_id)
    return {"added": result.counts.added, "updated": result.counts.changed, "unchanged": result.counts.unchanged,
            "red_flags": [f.to_dict() for f in result.red_flags]}


@router.post("/athletes/{athlete_id}/log", status_code=201)
def post_log(request: Request, athlete_id: Id, body: LogBody) -> dict[str, Any]:
    """Add or replace entries (same day and activity replaces); red flags among them are returned at once."""
    account = need(request, athlete_id, write=True)
    return clean(add_log(request, athlete_id, body if isinstance(body, list) else [body],
                         f"web:{account.id}"))


@router.get("/athletes/{athlete_id}/report.json")
def report_json(request: Request, athlete_id: Id) -> Response:
    need(request, athlete_id)
    return Response(report_text(workspace(request), athlete_id, today(request), "json"),
                    media_type="application/json")


@router.get("/athletes/{athlete_id}/report.html", response_class=HTMLResponse)
def report_html(request: Request, athlete_id: Id) -> HTMLResponse:
    need(request, athlete_id)
    return HTMLResponse(report_text(workspace(request), athlete_id, today(request), "html"),
                        headers={"Content-Disposition": 'attachment; filename="gutstride-report.html"'})


@router.get("/athletes/{athlete_id}/report.pdf", response_class=Response)
def report_pdf_route(request: Request, athlete_id: Id) -> Response:
    need(request, athlete_id)
    return Response(report_pdf(workspace(request), athlete_id, today(request)), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="gutstride-report.pdf"'})


@router.get("/athletes/{athlete_id}/grants")
def grants(request: Request, athlete_id: Id) -> list[dict[str, Any]]:
    need(request, athlete_id, owner=True)
    return clean(sharing.list_grants(workspace(request), athlete_id))


@router.post("/athletes/{athlete_id}/grants", status_code=201, response_model=GrantId)
def add_grant(request: Request, athlete_id: Id, body: GrantIn) -> GrantId:
    """Invite a coach by email as viewer (reads everything) or editor (may also add log entries and uploads)."""
    account = need(request, athlete_id, owner=True)
    return GrantId(grant_id=sharing.invite(workspace(request), account, athlete_id, body.email, body.role))


@router.delete("/athletes/{athlete_id}/grants/{grant_id}", status_code=204)
def revoke_grant(request: Request, athlete_id: Id, grant_id: Id) -> Response:
    """Revoke access; it takes effect on the coach's next request."""
    account = need(request, athlete_id, owner=True)
    if not sharing.revoke(workspace(request), account, athlete_id, grant_id):
        raise HTTPException(404, NOT_FOUND)
    return Response(status_code=204)


@router.get("/athletes/{athlete_id}/notes")
def notes(request: Request, athlete_id: Id) -> list[dict[str, Any]]:
    need(request, athlete_id)
    return clean(sharing.list_notes(workspace(request), athlete_id))


@router.post("/athletes/{athlete_id}/notes", status_code=201)
def add_note(request: Request, athlete_id: Id, body: NoteIn) -> dict[str, int]:
    """A note on the athlete (the athlete sees every note). Viewers may write notes too."""
    account = need(request, athlete_id)
    return {"note_id": sharing.add_note(workspace(request), account, athlete_id, body.body)}


def export_response(request: Request, athlete_id: int, user_id: int) -> Response:
    """The zip of ``gutstride export`` as a download (the temporary file goes once it is sent)."""
    from fastapi.responses import FileResponse

    from gutstride.services.export import export_athlete

    tmp = tempfile.TemporaryDirectory()
    path = FilePath(tmp.name) / f"gutstride-export-{athlete_id}.zip"
    export_athlete(workspace(request), athlete_id, path)
    audit(workspace(request), "export", user_id, athlete_id)
    return FileResponse(path, media_type="application/zip", filename=path.name, background=BackgroundTask(tmp.cleanup))


@router.get("/athletes/{athlete_id}/export", response_class=Response)
def export(request: Request, athlete_id: Id) -> Response:
    """Everything held for the athlete, as one machine-readable zip (the athlete only)."""
    account = need(request, athlete_id, owner=True)
    return export_response(request, athlete_id, account.id)


@router.delete("/athletes/{athlete_id}")
def erase(request: Request, athlete_id: Id, body: Password) -> JSONResponse:
    """Erase the athlete and the account: every row and every file. The password must be given again."""
    account = need(request, athlete_id, owner=True)
    removed = accounts.delete_account(workspace(request), account, body.password)
    if removed is None:
        raise HTTPException(403, "wrong password")
    response = JSONResponse({"removed": removed})
    response.delete_cookie("gs_session", path="/")
    return response


@router.get("/evidence")
def evidence(q: Annotated[str, Query(max_length=500)] = "") -> list[dict[str, Any]]:
    """Claims of the evidence base matching ``q`` (all claims when empty), with certainty and citations."""
    from gutstride.evidence.engine import answer, default_knowledge_base
    from gutstride.evidence.model import CERTAINTIES

    kb = default_knowledge_base()
    found = answer(q, kb, limit=20) if q.strip() else sorted(kb.claims.values(),
                                                             key=lambda c: (CERTAINTIES.index(c.certainty), c.id))
    return clean([c.to_dict() for c in found])
