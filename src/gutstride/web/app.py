"""The FastAPI application: the workspace (migrated at start-up), the guards, the API, the pages, static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gutstride import __version__
from gutstride.errors import BadInputError, GutstrideError, MissingDataError, UnsupportedFormatError
from gutstride.store.storage import LocalStorage
from gutstride.store.workspace import Workspace
from gutstride.web.config import WebConfig
from gutstride.web.security import GuardMiddleware

STATIC = Path(__file__).parent / "static"


def open_workspace(config: WebConfig) -> Workspace:
    """The app's workspace: the database (migrated now, before serving) and the storage folder."""
    storage = Path(config.storage).expanduser()
    return Workspace(storage, create=True, database_url=config.database_url or None, storage=LocalStorage(storage))


def _error(request: Request, status: int, detail: str) -> Response:
    if request.url.path.startswith("/api") or status not in (401, 403, 404, 413, 422, 429):
        return JSONResponse({"detail": detail}, status_code=status)
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    from gutstride.web.pages import render

    return render(request, "error.html.j2", status=status, status_code=status, detail=detail)


def create_app(config: WebConfig, ws: Workspace | None = None) -> FastAPI:
    """The web app over ``ws`` (default: :func:`open_workspace` of ``config``)."""
    from gutstride.web import api, pages

    app = FastAPI(title="gutstride", version=__version__, docs_url=None, redoc_url=None,
                  description="Workout files, a symptom log and microbiome results, read honestly. "
                              "Not a medical device; it does not diagnose.")
    app.state.config = config
    app.state.ws = ws or open_workspace(config)
    app.add_middleware(GuardMiddleware, max_upload_bytes=config.max_upload_bytes)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        response = _error(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return _error(request, 422, problems or "malformed request")

    @app.exception_handler(GutstrideError)
    async def user_error(request: Request, exc: GutstrideError) -> Response:
        status = 404 if isinstance(exc, MissingDataError) else 422
        return _error(request, status, str(exc) if isinstance(exc, BadInputError | UnsupportedFormatError)
                      else "not found" if status == 404 else str(exc))

    return app
