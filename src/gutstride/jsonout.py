"""JSON output shared by the CLI and the report: NaN becomes null, dates ISO strings, numpy scalars plain numbers.

Imports nothing heavy, so the CLI can use it at start-up.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def clean(value: Any) -> Any:
    """``value`` with every float NaN replaced by None, recursively through dicts, lists and tuples."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def _default(value: Any) -> Any:
    """Values json cannot write itself: dates, numpy scalars and arrays (by duck typing), else their str()."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalar or array
        return clean(value.tolist())
    return str(value)


def dumps(payload: Any, indent: int = 2) -> str:
    """``payload`` as JSON text (UTF-8 characters kept)."""
    return json.dumps(clean(payload), indent=indent, ensure_ascii=False, default=_default)
