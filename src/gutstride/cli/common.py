"""Small helpers shared by the command modules: global state, workspace option, JSON output."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from gutstride.store.workspace import Workspace


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


PERSON_OPTION = typer.Option(None, "--person", help="Athlete id, in a workspace that holds several.")


def open_athlete(workspace: Any, person: int | None = None, create: bool = False) -> tuple[Workspace, int]:
    """The workspace of this call and the athlete it works on: the one place the CLI resolves "the athlete".

    A workspace the CLI made holds one athlete (created on first use); ``--person`` picks one in a workspace that
    holds several. An older workspace is migrated once, and that is said on stderr.
    """
    from gutstride.services.athletes import workspace_athlete
    from gutstride.settings import workspace_path
    from gutstride.store.workspace import Workspace

    ws = Workspace(workspace_path(workspace), create=create)
    if ws.migrated_from not in (None, "new"):
        typer.echo(f"migrated the workspace at {ws.path} from schema revision {ws.migrated_from} to the current one",
                   err=True)
    return ws, workspace_athlete(ws, person)
