"""Write the report content (see :mod:`gutstride.services.report`) as HTML, and on request JSON and PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gutstride.services.report_cache import CachedReport
    from gutstride.store.workspace import Workspace


def to_json(content: dict[str, Any]) -> str:
    """The report content as JSON (dates as ISO strings, NaN as null)."""
    from gutstride.jsonout import dumps

    return dumps(content, indent=1)


def write_report(content: dict[str, Any], html_path: Path, json_path: Path | None = None,
                 pdf_path: Path | None = None) -> None:
    """Render ``content`` and write it: HTML always, JSON and PDF when their paths are given."""
    from gutstride.report.html import render_html

    _write(render_html(content), to_json(content) if json_path is not None else None, html_path, json_path,
           pdf_path)


def _write(html: str, json_text: str | None, html_path: Path, json_path: Path | None, pdf_path: Path | None) -> None:
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    if json_path is not None and json_text is not None:
        json_path.write_text(json_text, encoding="utf-8")
    if pdf_path is not None:
        from gutstride.report.pdf import write_pdf

        write_pdf(html, pdf_path)


@dataclass(frozen=True)
class WorkspaceReport:
    """An athlete's rendered report, and whether it was taken from the cache."""

    report: CachedReport
    reused: bool


def workspace_report(ws: Workspace, athlete_id: int, today: date, reference_path: Path | None = None
                     ) -> WorkspaceReport:
    """The rendered report of ``athlete_id`` for ``today``: the cached one if the workspace, the options, the day
    and gutstride are unchanged since it was computed (see :mod:`gutstride.services.report_cache`), else computed
    now and cached (a cache that cannot be written is logged and skipped). Reusing it imports nothing of the
    analyses (no numpy, pandas or SciPy)."""
    from gutstride.services.report_cache import CachedReport, read_cached_report, report_fingerprint, store_report

    fingerprint = report_fingerprint(ws, athlete_id, today, reference_path)
    cached = read_cached_report(ws, athlete_id, fingerprint)
    if cached is not None:
        return WorkspaceReport(cached, reused=True)
    from gutstride.report.html import render_html
    from gutstride.services.report import build_report

    content = build_report(ws, athlete_id, today, reference_path)
    report = CachedReport(html=render_html(content), json=to_json(content),
                          red_flags=[str(f["summary"]) for f in content["red_flags"]],
                          red_flag_advice=str(content["red_flag_advice"]),
                          generated_at=str(content["meta"]["generated_at"]))
    try:
        store_report(ws, athlete_id, fingerprint, report)
    except OSError as exc:  # a cache that cannot be written (full disk, read-only storage) costs time, not the report
        import logging

        logging.getLogger("gutstride").warning("the report could not be cached: %s", exc)
    return WorkspaceReport(report, reused=False)


def write_workspace_report(ws: Workspace, athlete_id: int, today: date, html_path: Path,
                           json_path: Path | None = None, pdf_path: Path | None = None,
                           reference_path: Path | None = None) -> WorkspaceReport:
    """:func:`workspace_report`, written as HTML, and JSON and PDF when their paths are given."""
    made = workspace_report(ws, athlete_id, today, reference_path)
    _write(made.report.html, made.report.json, html_path, json_path, pdf_path)
    return made
