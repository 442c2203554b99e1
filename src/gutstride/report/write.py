"""Write the report content (see :mod:`gutstride.services.report`) as HTML, and on request JSON and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def to_json(content: dict[str, Any]) -> str:
    """The report content as JSON (dates as ISO strings, NaN as null)."""
    from gutstride.jsonout import dumps

    return dumps(content, indent=1)


def write_report(content: dict[str, Any], html_path: Path, json_path: Path | None = None,
                 pdf_path: Path | None = None) -> None:
    """Render ``content`` and write it: HTML always, JSON and PDF when their paths are given."""
    from gutstride.report.html import render_html

    html = render_html(content)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    if json_path is not None:
        json_path.write_text(to_json(content), encoding="utf-8")
    if pdf_path is not None:
        from gutstride.report.pdf import write_pdf

        write_pdf(html, pdf_path)
