"""Small helpers shared by the command modules: global state, workspace option, JSON output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer


@dataclass
class _State:
    debug: bool = False


#: Flags set by the root callback (``--debug``).
STATE = _State()

WORKSPACE_OPTION = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $GUTSTRIDE_WORKSPACE, else ./gutstride-workspace)."
)


def print_json(payload: Any) -> None:
    """Write ``payload`` as indented JSON to stdout (NaN becomes null)."""
    json.dump(_clean(payload), sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
