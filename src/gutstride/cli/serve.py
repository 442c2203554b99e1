"""``gutstride serve``: the web app (registered on the root app by :func:`register`).

The command applies the database migrations, starts the import workers as separate processes, then serves the app
with uvicorn. It starts them by module name (``gutstride.web.main``), passing the settings in the environment, so
the command line does not import the web app (the two are independent presenters).
"""

from __future__ import annotations

import os
import subprocess
import sys

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("serve")
    def serve(
        database_url: str | None = typer.Option(
            None, "--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                                         "(default: $GUTSTRIDE_DATABASE_URL, else a SQLite file in --storage)."),
        storage: str | None = typer.Option(
            None, "--storage", help="Folder of the athletes' files (default: $GUTSTRIDE_STORAGE, else ./gutstride-web)"
        ),
        host: str | None = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
        port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
        import_workers: int | None = typer.Option(None, "--import-workers",
                                                  help="Import worker processes to start (default 1)."),
        web_workers: int = typer.Option(1, "--workers", min=1,
                                        help="Web server processes (uvicorn workers; default 1): about one per "
                                             "core, on PostgreSQL (SQLite, a one-user trial, writes one at a time)."),
        demo: bool = typer.Option(False, "--demo", help="Load the demo athlete and print its sign-in."),
    ) -> None:
        """Serve the web app for athletes and the coaches and clinicians they trust (JSON API under /api).

        Settings also come from the environment (GUTSTRIDE_DATABASE_URL, GUTSTRIDE_STORAGE, ...) or the TOML file
        named by $GUTSTRIDE_WEB_CONFIG; options given here win.
        """
        import uvicorn

        env = dict(os.environ)
        for name, value in (("DATABASE_URL", database_url), ("STORAGE", storage), ("HOST", host), ("PORT", port),
                            ("IMPORT_WORKERS", import_workers)):
            if value is not None:
                env["GUTSTRIDE_" + name] = str(value)
        os.environ.update(env)
        env["GUTSTRIDE_SERVE_PID"] = str(os.getpid())  # the workers stop when this process ends
        main = [sys.executable, "-m", "gutstride.web.main"]
        prepared = subprocess.run([*main, "prepare", *(["--demo"] if demo else [])], env=env)
        if prepared.returncode:
            raise typer.Exit(prepared.returncode)
        n_workers = int(env.get("GUTSTRIDE_IMPORT_WORKERS", "1"))
        children = [subprocess.Popen([*main, "worker"], env=env) for _ in range(n_workers)]
        try:
            uvicorn.run("gutstride.web.main:app_from_env", factory=True, host=env.get("GUTSTRIDE_HOST", "127.0.0.1"),
                        port=int(env.get("GUTSTRIDE_PORT", "8000")), proxy_headers=False, log_level="warning",
                        workers=web_workers)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=60)
