"""The report as PDF, rendered from the same HTML by WeasyPrint."""

from __future__ import annotations

from pathlib import Path

from gutstride.errors import MissingDataError


def write_pdf(html: str, path: Path) -> None:
    """Render ``html`` to a PDF file at ``path`` (A4, the page's print styles)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the system's Pango libraries are missing
        raise MissingDataError(f"PDF output needs WeasyPrint and the Pango libraries ({exc})") from None
    HTML(string=html).write_pdf(path)
