"""The demo athlete as a web-app account, for ``gutstride serve --demo`` (``make serve``)."""

from __future__ import annotations

import secrets
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select, update

from gutstride.store.schema import Person, SessionRow, UserRow
from gutstride.store.workspace import Workspace

DEMO_EMAIL = "demo@example.org"


def ensure_demo(ws: Workspace, today: date, password: str | None = None) -> str:
    """Make sure the demo athlete's account exists (its year of data ending ``today``); set its password.

    The password is ``password`` or a new random one at every start (returned, to print): none is in the code.
    """
    from gutstride.demo.athlete import PROFILE, generate_year
    from gutstride.demo.build import write_activity_files, write_log_csv, write_microbiome
    from gutstride.model.profile import Profile
    from gutstride.services.accounts import hash_password, sign_up
    from gutstride.services.importing import import_files
    from gutstride.services.profile import set_profile

    password = password or secrets.token_urlsafe(9)
    with ws.session() as session:
        user = session.scalar(select(UserRow).where(UserRow.email == DEMO_EMAIL))
        if user is not None:
            user.password_hash = hash_password(password)
            session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
            return password
    account = sign_up(ws, DEMO_EMAIL, password, "athlete")
    assert account.athlete_id is not None
    with ws.session() as session:
        session.execute(update(Person).where(Person.id == account.athlete_id).values(name="Demo athlete", is_demo=True))
    year = generate_year(today)
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp)
        write_activity_files(year, files / "activities")
        paths = [files / "activities", write_log_csv(year, files / "log.csv"),
                 write_microbiome(year, files / "microbiome.biom")]
        set_profile(ws, account.athlete_id, Profile(**PROFILE), today)
        import_files(ws, account.athlete_id, paths)
    return password
