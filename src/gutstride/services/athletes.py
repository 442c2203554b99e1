"""Athletes of a workspace, and the one athlete of a workspace the command line made."""

from __future__ import annotations

from gutstride.errors import BadInputError
from gutstride.store.workspace import Workspace


def workspace_athlete(ws: Workspace, athlete_id: int | None = None) -> int:
    """The athlete a command-line call works on.

    A workspace made by the command line holds one athlete, created on first use. ``athlete_id`` picks one
    explicitly (it must exist). A workspace with several athletes (e.g. a copy of a web-app database) needs it.

    Raises
    ------
    BadInputError
        Several athletes and no ``athlete_id``.
    MissingDataError
        ``athlete_id`` is not an athlete of this workspace.
    """
    if athlete_id is not None:
        with ws.session() as session:
            return ws.athlete(session, athlete_id).id
    ids = ws.athlete_ids()
    if not ids:
        with ws.setup_locked():  # two commands on a new workspace must not make two athletes
            ids = ws.athlete_ids()
            if not ids:
                return ws.create_athlete()
    if len(ids) > 1:
        raise BadInputError(f"this workspace holds {len(ids)} athletes (ids {', '.join(map(str, ids))}): "
                            "name one with --person ID")
    return ids[0]
