"""Entry points ``gutstride serve`` starts by name: the migrations (and demo), the app factory, the import worker.

All read their settings from the environment (see :mod:`gutstride.web.config`), which ``gutstride serve`` sets
from its options. ``python -m gutstride.web.main worker`` runs an import worker on its own (more of them may run,
on other machines too, against the same PostgreSQL database and storage).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from fastapi import FastAPI

from gutstride.web.app import create_app, open_workspace
from gutstride.web.config import WebConfig, load_config


def app_from_env() -> FastAPI:
    """The app for uvicorn's ``--factory``: settings from the environment, migrations applied now."""
    return create_app(load_config())


def zip_limits(config: WebConfig):
    from gutstride.ingest.exports import ZipLimits

    return ZipLimits(max_members=config.zip_max_members, max_total_bytes=config.zip_max_total_bytes,
                     max_ratio=config.zip_max_ratio)


def worker() -> None:
    """Run imports until SIGTERM or SIGINT, or until ``gutstride serve`` that started it ends (the job being
    imported finishes first)."""
    from gutstride.services.jobs import run_worker

    config = load_config()
    ws = open_workspace(config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.environ.get("GUTSTRIDE_SERVE_PID")
    if parent:  # started by gutstride serve: stop when it is gone, however it ended
        def watch() -> None:
            while not stop.wait(1.0):
                if os.getppid() != int(parent):
                    stop.set()

        threading.Thread(target=watch, daemon=True).start()
    run_worker(ws, zip_limits(config), stop=stop)


def prepare(demo: bool) -> None:
    """Apply the migrations (before the web server and the workers start); with ``demo``, load the demo athlete."""
    import os
    from datetime import date

    ws = open_workspace(load_config())
    if demo:
        from gutstride.web.demo import DEMO_EMAIL, ensure_demo

        password = ensure_demo(ws, date.today(), os.environ.get("GUTSTRIDE_DEMO_PASSWORD") or None)
        print(f"demo athlete: sign in as {DEMO_EMAIL} with the password {password}", flush=True)


if __name__ == "__main__":
    command = sys.argv[1:]
    if command == ["worker"]:
        worker()
    elif command in (["prepare"], ["prepare", "--demo"]):
        prepare(demo=len(command) == 2)
    else:
        sys.exit("usage: python -m gutstride.web.main (worker | prepare [--demo])")
