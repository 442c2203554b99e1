"""Schema migrations: a new workspace is migrated to the models' schema, and old workspaces are upgraded."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from gutstride.store.migrate import current_revision, head_revision, upgrade
from gutstride.store.schema import Base
from gutstride.store.workspace import DB_NAME, Workspace


def test_migrated_schema_equals_the_models(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    assert current_revision(ws.engine) == head_revision()
    with ws.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_workspace_made_before_migrations_is_stamped_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    engine = create_engine(f"sqlite:///{folder / DB_NAME}")
    Base.metadata.create_all(engine)  # how workspaces were made before migrations
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO person (name, is_demo) VALUES ('kept', 0)")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    ws = Workspace(folder)
    with ws.session() as session:
        assert ws.person(session).name == "kept"


def test_opening_a_current_workspace_changes_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    tables = set(inspect(ws.engine).get_table_names())
    again = Workspace(tmp_path / "ws")
    assert set(inspect(again.engine).get_table_names()) == tables
    assert "alembic_version" in tables


def test_head_revision_equals_alembic_script_directory() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from gutstride.store.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
