"""Small helpers shared by the command modules: global state, workspace option, JSON output."""

from __future__ import annotations

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
    from gutstride.jsonout import dumps

    sys.stdout.write(dumps(payload) + "\n")
