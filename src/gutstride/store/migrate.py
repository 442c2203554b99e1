"""Schema migrations of the workspace database (Alembic), run when a workspace is opened.

A new workspace is built by the migrations, not by ``metadata.create_all``, so that every workspace, old or new,
reaches the same schema by the same steps. To change the schema: edit :mod:`gutstride.store.schema`, then add a
revision under ``migrations/versions`` (``alembic revision --autogenerate`` with this package's
``migrations`` folder as script location gives a draft); a test checks that the migrated schema equals the models.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest revision in the migrations folder: the one no other revision names as its ``down_revision``.

    Read from the revision files' ``revision = ...`` and ``down_revision = ...`` lines (as Alembic writes them),
    without importing Alembic, whose import costs every command that opens a workspace about 0.3 s; a test checks
    it against Alembic's own ``ScriptDirectory``.
    """
    import re

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        if found:
            revisions.add(found.group(1))
            parent = re.search(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", text, re.MULTILINE)
            parents.update(re.findall(r"['\"]([^'\"]+)['\"]", parent.group(1) if parent else ""))
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database), from Alembic's ``alembic_version`` table."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


#: The revision whose schema ``metadata.create_all`` made, before workspaces were migrated.
FIRST_REVISION = "0001"


def upgrade(engine: Engine) -> None:
    """Bring the database up to the newest revision (nothing to do when it is there already).

    A workspace made before migrations existed has the tables but no revision: it is stamped as
    :data:`FIRST_REVISION`, the schema it was made with, and upgraded from there.
    """
    current = current_revision(engine)
    if current == head_revision():
        return
    from alembic import command
    from sqlalchemy import inspect

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if current is None and inspect(connection).has_table("person"):
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")
