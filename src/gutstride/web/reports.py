"""An athlete's report as the web app serves it: JSON, HTML and PDF, each cached per day until the
data changes."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from gutstride.services.report_cache import cache_prefix
from gutstride.store.workspace import Workspace


def _build(ws: Workspace, athlete_id: int, today: date) -> tuple[str, str]:
    from gutstride.report.html import render_html
    from gutstride.report.write import to_json
    from gutstride.services.report import build_report

    content = build_report(ws, athlete_id, today)
    return to_json(content), render_html(content)


def report_text(ws: Workspace, athlete_id: int, today: date, kind: str) -> str:
    """The report as ``kind`` "json" or "html", from the cache when it is there (both are made together)."""
    keys = {k: f"{cache_prefix(athlete_id)}report-{today.isoformat()}.{k}" for k in ("json", "html")}
    if not ws.storage.exists(keys[kind]):
        json_text, html = _build(ws, athlete_id, today)
        ws.storage.write_bytes(keys["json"], json_text.encode("utf-8"))
        ws.storage.write_bytes(keys["html"], html.encode("utf-8"))
    return ws.storage.read_bytes(keys[kind]).decode("utf-8")


def report_pdf(ws: Workspace, athlete_id: int, today: date) -> bytes:
    """The report as PDF (WeasyPrint, from the cached HTML), cached beside it."""
    from gutstride.report.pdf import write_pdf

    key = f"{cache_prefix(athlete_id)}report-{today.isoformat()}.pdf"
    if not ws.storage.exists(key):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.pdf"
            write_pdf(report_text(ws, athlete_id, today, "html"), path)
            ws.storage.put_file(key, path)
    return ws.storage.read_bytes(key)


def report_parts(html: str) -> tuple[str, str]:
    """The report page's stylesheet and the inside of its ``<body>``, to place inside a page of the app."""
    style = html.split("<style>", 1)[1].split("</style>", 1)[0] if "<style>" in html else ""
    body = html.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0] if "<body" in html else html
    return style, body
