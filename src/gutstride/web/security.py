"""The web app's guards: security headers, request-body limits (NUL bytes, sizes), rate limits, sign-in, CSRF.

Headers on every response: a Content-Security-Policy that allows scripts from this origin only (no inline script;
inline styles are allowed for the report's own stylesheet and SVG charts), ``frame-ancestors 'none'``,
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and ``Cache-Control: no-store`` (health data).

CSRF: a request that carries the session cookie and changes something (POST, PUT, PATCH, DELETE), and the sign-in
and sign-up forms, must come from this origin (``Origin``, else ``Referer``) and carry the session's CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``; before sign-in, the token of the ``gs_csrf`` cookie). Bearer-token
requests carry no ambient credential and are not checked.
"""

from __future__ import annotations

import secrets
import tempfile
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gutstride.services.accounts import Account, SignedIn, signed_in

COOKIE = "gs_session"
CSRF_COOKIE = "gs_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Largest body of a request that is not a file upload.
MAX_FORM_BYTES = 1 << 20

HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


async def _reply(send: Send, status: int, detail: str) -> None:
    import json

    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *HEADERS]})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Security headers on every response; bodies bounded, NUL bytes refused (422) outside file uploads.

    A file upload (multipart) is spooled to a temporary file as it arrives and refused with 413 as soon as it passes
    ``max_upload_bytes``; any other body is read whole (at most :data:`MAX_FORM_BYTES`) and refused with 422 if it
    holds a NUL byte, raw or escaped (``%00``, ``\\u0000``). So is a path or query string with one.
    """

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in names]
            await send(message)

        raw = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        if b"\x00" in raw + query or b"%00" in (raw + query).lower():
            await _reply(send_with_headers, 422, "NUL bytes are not allowed")
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.max_upload_bytes + (1 << 20) if multipart else MAX_FORM_BYTES
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            await _reply(send_with_headers, 413, f"request body too large (at most {limit} bytes)")
            return
        if scope["method"] not in UNSAFE:
            await self.app(scope, receive, send_with_headers)
            return
        spool = tempfile.SpooledTemporaryFile(max_size=MAX_FORM_BYTES)  # noqa: SIM115 (closed below)
        try:
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _reply(send_with_headers, 413, f"request body too large (at most {limit} bytes)")
                    return
                spool.write(chunk)
                if not message.get("more_body"):
                    break
            spool.seek(0)
            if not multipart:
                body = spool.read()
                if b"\x00" in body or b"%00" in body or b"\\u0000" in body:
                    await _reply(send_with_headers, 422, "NUL bytes are not allowed")
                    return
                spool.seek(0)
            done = False

            async def replay() -> Message:
                nonlocal done
                if done:
                    return await receive()
                chunk = spool.read(1 << 20)
                more = spool.tell() < size
                done = not more
                return {"type": "http.request", "body": chunk, "more_body": more}

            await self.app(scope, replay, send_with_headers)
        finally:
            spool.close()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def who(request: Request) -> SignedIn | None:
    """The signed-in account of this request (bearer token first, then the session cookie), looked up once."""
    if "signed_in" not in request.state._state:
        ws = request.app.state.ws
        found = None
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            found = signed_in(ws, auth[7:].strip(), "bearer")
        elif request.cookies.get(COOKIE):
            found = signed_in(ws, request.cookies[COOKIE], "cookie")
        request.state.signed_in = found
    result: SignedIn | None = request.state.signed_in
    return result


def account_of(request: Request) -> Account | None:
    found = who(request)
    return found.account if found else None


def _origin_ok(request: Request) -> bool:
    public = request.app.state.config.public_url.rstrip("/")
    own = public or f"{request.url.scheme}://{request.headers.get('host', '')}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.rstrip("/") == own
    referer = request.headers.get("referer", "")
    return referer == own or referer.startswith(own + "/")


async def csrf_guard(request: Request) -> None:
    """Dependency of every route: the CSRF rule of the module docstring (403 when broken)."""
    if request.method not in UNSAFE or request.headers.get("authorization", "")[:7].lower() == "bearer ":
        return
    anonymous_form = request.url.path in ("/login", "/signup")
    if not request.cookies.get(COOKIE) and not anonymous_form:
        return
    if not _origin_ok(request):
        raise HTTPException(403, "cross-site request refused (Origin)")
    current = await run_in_threadpool(who, request)  # a database lookup: off the event loop
    expected = current.csrf_token if current else request.cookies.get(CSRF_COOKIE) if anonymous_form else None
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not expected or not given or not secrets.compare_digest(expected, given):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def csrf_for(request: Request) -> str:
    """The CSRF token a page's forms carry: the session's, else the pre-sign-in cookie's (made if missing)."""
    current = who(request)
    if current is not None:
        return current.csrf_token
    token = request.cookies.get(CSRF_COOKIE) or request.state._state.get("new_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def cookie_options(request: Request) -> dict[str, Any]:
    secure = request.app.state.config.public_url.startswith("https://") or request.url.scheme == "https"
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/"}
