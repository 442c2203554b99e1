"""The server-rendered pages (Jinja2, no script): the same services and checks as the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from gutstride.services import accounts, jobs, sharing
from gutstride.web.api import add_log, limit_attempts, save_upload
from gutstride.web.deps import Id, need, today, workspace
from gutstride.web.reports import report_parts, report_text
from gutstride.web.security import COOKIE, CSRF_COOKIE, account_of, cookie_options, csrf_for, csrf_guard

router = APIRouter(dependencies=[Depends(csrf_guard)], include_in_schema=False)
_ENV = Environment(loader=PackageLoader("gutstride.web", "templates"), autoescape=select_autoescape(["j2"]))
FormText = Annotated[str, Form(max_length=5000)]
#: Log entries the daily-log page lists under its form (the most recent).
RECENT_LOG = 14


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    account = account_of(request)
    html = _ENV.get_template(template).render(request=request, me=account, csrf=csrf_for(request), **context)
    response = HTMLResponse(html, status_code=status)
    new = request.state._state.get("new_csrf")
    if new:
        response.set_cookie(CSRF_COOKIE, new, **cookie_options(request))
    return response


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _athlete_page(request: Request, athlete_id: int, write: bool = False, owner: bool = False) -> accounts.Account:
    return need(request, athlete_id, write=write, owner=owner)


def _name(request: Request, athlete_id: int) -> str:
    ws = workspace(request)
    with ws.session() as session:
        return ws.athlete(session, athlete_id).name


@router.get("/")
def home(request: Request) -> Response:
    return _see_other("/athletes" if account_of(request) else "/login")


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html.j2", mode="login")


@router.post("/login")
def login(request: Request, email: FormText, password: FormText) -> Response:
    limit_attempts(request, email)
    account = accounts.authenticate(workspace(request), email, password)
    if account is None:
        return render(request, "login.html.j2", status=401, mode="login", error="Wrong email or password.")
    return _signed_in(request, account)


def _signed_in(request: Request, account: accounts.Account) -> Response:
    old = request.cookies.get(COOKIE)
    if old:
        accounts.end_session(workspace(request), old)
    token, _ = accounts.start_session(workspace(request), account, "cookie")  # a new id at every sign-in
    response = _see_other(f"/athletes/{account.athlete_id}" if account.athlete_id else "/athletes")
    response.set_cookie(COOKIE, token, max_age=int(accounts.SESSION_LIFETIME["cookie"].total_seconds()),
                        **cookie_options(request))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/signup")
def signup_page(request: Request) -> HTMLResponse:
    return render(request, "login.html.j2", mode="signup")


@router.post("/signup")
def signup(request: Request, email: FormText, password: FormText,
           role: Annotated[str, Form(pattern="^(athlete|coach)$")]) -> Response:
    from gutstride.errors import BadInputError

    limit_attempts(request, email)
    try:
        account = accounts.sign_up(workspace(request), email, password, role)
    except BadInputError as exc:
        return render(request, "login.html.j2", status=422, mode="signup", error=str(exc))
    return _signed_in(request, account)


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        accounts.end_session(workspace(request), token)
    response = _see_other("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/athletes")
def athletes(request: Request) -> Response:
    """The athlete list: last activity, symptom trend, red flags first; and invitations waiting."""
    account = account_of(request)
    if account is None:
        return _see_other("/login")
    ws = workspace(request)
    return render(request, "athletes.html.j2", rows=sharing.athlete_overview(ws, account, today(request)),
                  invitations=sharing.invitations(ws, account))


@router.post("/invitations/{grant_id}/accept")
def accept(request: Request, grant_id: Id) -> Response:
    account = account_of(request)
    if account is None:
        return _see_other("/login")
    if not sharing.accept(workspace(request), account, grant_id):
        raise HTTPException(404, "not found")
    return _see_other("/athletes")


@router.get("/athletes/{athlete_id}")
def dashboard(request: Request, athlete_id: Id) -> HTMLResponse:
    """The report, red flags first (the report's own order), with the notes on the athlete."""
    _athlete_page(request, athlete_id)
    ws = workspace(request)
    style, body = report_parts(report_text(ws, athlete_id, today(request), "html"))
    return render(request, "dashboard.html.j2", athlete_id=athlete_id, name=_name(request, athlete_id),
                  report_style=style, report_body=body, notes=sharing.list_notes(ws, athlete_id),
                  level=sharing.access(ws, account_of(request), athlete_id))


@router.post("/athletes/{athlete_id}/notes")
def add_note(request: Request, athlete_id: Id, body: FormText) -> Response:
    from gutstride.errors import BadInputError

    account = _athlete_page(request, athlete_id)
    try:
        sharing.add_note(workspace(request), account, athlete_id, body)
    except BadInputError as exc:
        raise HTTPException(422, str(exc)) from None
    return _see_other(f"/athletes/{athlete_id}#notes")


@router.get("/athletes/{athlete_id}/upload")
def upload_page(request: Request, athlete_id: Id) -> HTMLResponse:
    """Upload form, and the recent imports with their progress and per-file statuses (refreshes while running)."""
    _athlete_page(request, athlete_id)
    found = jobs.list_jobs(workspace(request), athlete_id)
    busy = any(j["status"] in ("queued", "running") for j in found)
    return render(request, "upload.html.j2", athlete_id=athlete_id, name=_name(request, athlete_id), jobs=found,
                  busy=busy, max_mb=request.app.state.config.max_upload_bytes // 1024**2)


@router.post("/athletes/{athlete_id}/upload")
def upload(request: Request, athlete_id: Id, file: Annotated[UploadFile, File()]) -> Response:
    account = _athlete_page(request, athlete_id, write=True)
    save_upload(request, athlete_id, account.id, file)
    return _see_other(f"/athletes/{athlete_id}/upload")


@router.get("/athletes/{athlete_id}/log")
def log_page(request: Request, athlete_id: Id) -> HTMLResponse:
    from gutstride.ingest.logs import entry_to_dict
    from gutstride.model.log_entry import FIELDS
    from gutstride.services.logs import list_log_entries
    from gutstride.services.profile import get_profile

    _athlete_page(request, athlete_id)
    recent = [entry_to_dict(e) for e in list_log_entries(workspace(request), athlete_id, last=RECENT_LOG)][::-1]
    return render(request, "log.html.j2", athlete_id=athlete_id, name=_name(request, athlete_id), fields=FIELDS,
                  today=today(request).isoformat(), recent=recent, saved=request.query_params.get("saved"),
                  profile=get_profile(workspace(request), athlete_id))


@router.post("/athletes/{athlete_id}/log")
async def log(request: Request, athlete_id: Id) -> Response:
    """The daily log form: empty fields are not recorded; a checked box is ``true``.

    ``async`` only to read the form; the checks and the database work run in the thread pool, off the event loop.
    """
    account = await run_in_threadpool(_athlete_page, request, athlete_id, True)
    form = await request.form()
    return await run_in_threadpool(_save_log, request, account, athlete_id, form)


def _save_log(request: Request, account: accounts.Account, athlete_id: int, form: FormData) -> Response:
    from gutstride.model.log_entry import FIELDS

    allowed = {"date", "activity_start", *(f.name for f in FIELDS)}
    record = {k: v for k, v in form.items() if k in allowed and isinstance(v, str) and v.strip() != ""}
    try:
        result = add_log(request, athlete_id, [record], f"web:{account.id}")
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        from gutstride.ingest.logs import entry_to_dict
        from gutstride.services.logs import list_log_entries

        recent = [entry_to_dict(e) for e in list_log_entries(workspace(request), athlete_id, last=RECENT_LOG)][::-1]
        return render(request, "log.html.j2", status=422, athlete_id=athlete_id, name=_name(request, athlete_id),
                      fields=FIELDS, today=record.get("date", today(request).isoformat()), recent=recent,
                      error=exc.detail, values=record)
    flags = "&red_flag=1" if result["red_flags"] else ""
    return _see_other(f"/athletes/{athlete_id}/log?saved=1{flags}")


@router.post("/athletes/{athlete_id}/profile")
async def profile(request: Request, athlete_id: Id) -> Response:
    """The profile fields the analyses use (HR zones need a birth year or a measured HRmax); empty keeps a value.

    ``async`` only to read the form; the rest runs in the thread pool."""
    await run_in_threadpool(_athlete_page, request, athlete_id, True)
    form = await request.form()
    return await run_in_threadpool(_save_profile, request, athlete_id, form)


def _save_profile(request: Request, athlete_id: int, form: FormData) -> Response:
    from gutstride.errors import BadInputError
    from gutstride.model.profile import PERSON_FIELDS
    from gutstride.services.profile import get_profile, set_profile
    from gutstride.services.report_cache import invalidate

    changes: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        raw = form.get(name)
        if isinstance(raw, str) and raw.strip():
            try:
                changes[name] = raw.strip() if name == "sex" else (int(raw) if name == "birth_year" else float(raw))
            except ValueError:
                raise HTTPException(422, f"{name}: not a number") from None
    ws = workspace(request)
    try:
        set_profile(ws, athlete_id, get_profile(ws, athlete_id).with_values(**changes), today(request))
    except BadInputError as exc:
        raise HTTPException(422, str(exc)) from None
    invalidate(ws, athlete_id)
    return _see_other(f"/athletes/{athlete_id}/log?saved=1")


@router.get("/athletes/{athlete_id}/microbiome")
def microbiome(request: Request, athlete_id: Id) -> HTMLResponse:
    import json

    _athlete_page(request, athlete_id)
    content = json.loads(report_text(workspace(request), athlete_id, today(request), "json"))
    return render(request, "microbiome.html.j2", athlete_id=athlete_id, name=_name(request, athlete_id),
                  micro=content.get("microbiome", {}))


@router.get("/athletes/{athlete_id}/sharing")
def sharing_page(request: Request, athlete_id: Id) -> HTMLResponse:
    _athlete_page(request, athlete_id, owner=True)
    return render(request, "sharing.html.j2", athlete_id=athlete_id, name=_name(request, athlete_id),
                  grants=sharing.list_grants(workspace(request), athlete_id))


@router.post("/athletes/{athlete_id}/sharing")
def invite(request: Request, athlete_id: Id, email: FormText,
           role: Annotated[str, Form(pattern="^(viewer|editor)$")]) -> Response:
    from gutstride.errors import BadInputError

    account = _athlete_page(request, athlete_id, owner=True)
    try:
        sharing.invite(workspace(request), account, athlete_id, email, role)
    except BadInputError as exc:
        return render(request, "sharing.html.j2", status=422, athlete_id=athlete_id, name=_name(request, athlete_id),
                      grants=sharing.list_grants(workspace(request), athlete_id), error=str(exc))
    return _see_other(f"/athletes/{athlete_id}/sharing")


@router.post("/athletes/{athlete_id}/sharing/{grant_id}/revoke")
def revoke(request: Request, athlete_id: Id, grant_id: Id) -> Response:
    account = _athlete_page(request, athlete_id, owner=True)
    if not sharing.revoke(workspace(request), account, athlete_id, grant_id):
        raise HTTPException(404, "not found")
    return _see_other(f"/athletes/{athlete_id}/sharing")


@router.get("/evidence")
def evidence(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> HTMLResponse:
    """Search the claims: certainty, what is known and not known, citations."""
    from gutstride.evidence.engine import answer, default_knowledge_base
    from gutstride.evidence.model import CERTAINTIES

    kb = default_knowledge_base()
    claims = answer(q, kb, limit=20) if q.strip() else sorted(kb.claims.values(),
                                                              key=lambda c: (CERTAINTIES.index(c.certainty), c.id))
    return render(request, "evidence.html.j2", q=q, claims=claims)


@router.get("/account")
def account_page(request: Request) -> Response:
    if account_of(request) is None:
        return _see_other("/login")
    return render(request, "account.html.j2", done=request.query_params.get("done"))


@router.post("/account/password")
def change_password(request: Request, old: FormText, new: FormText) -> Response:
    from gutstride.errors import BadInputError

    account = account_of(request)
    if account is None:
        return _see_other("/login")
    try:
        ok = accounts.change_password(workspace(request), account, old, new)
    except BadInputError as exc:
        return render(request, "account.html.j2", status=422, error=str(exc))
    if not ok:
        return render(request, "account.html.j2", status=403, error="The current password is wrong.")
    response = _see_other("/login")  # every session ended, this one too
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/account/delete")
def delete_account(request: Request, password: FormText) -> Response:
    """Erase the account after the password is given again: every row and file."""
    account = account_of(request)
    if account is None:
        return _see_other("/login")
    removed = accounts.delete_account(workspace(request), account, password)
    if removed is None:
        return render(request, "account.html.j2", status=403, error="The password is wrong; nothing was deleted.")
    response = render(request, "deleted.html.j2", removed=removed)
    response.delete_cookie(COOKIE, path="/")
    return response

