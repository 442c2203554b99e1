"""Schema migrations: a new workspace is migrated to the models' schema, and old workspaces are upgraded."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from gutstride.services.athletes import workspace_athlete
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
    first = ("person", "import_record", "activity", "log_entry", "microbiome_sample")  # the tables of revision 0001
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[t] for t in first])  # as before migrations
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO person (name, is_demo) VALUES ('kept', 0)")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    ws = Workspace(folder)
    with ws.session() as session:
        assert ws.athlete(session, workspace_athlete(ws)).name == "kept"


def test_opening_a_current_workspace_changes_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    tables = set(inspect(ws.engine).get_table_names())
    again = Workspace(tmp_path / "ws")
    assert set(inspect(again.engine).get_table_names()) == tables
    assert "alembic_version" in tables


def test_an_older_workspace_is_migrated_once_and_its_files_moved(tmp_path: Path) -> None:
    import subprocess
    import sys

    from alembic import command
    from sqlalchemy import text

    from gutstride.store.migrate import _config

    folder = tmp_path / "old"
    folder.mkdir()
    engine = create_engine(f"sqlite:///{folder / DB_NAME}")
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO person (id, name, is_demo) VALUES (1, 'me', 0)"))
        connection.execute(text(
            "INSERT INTO activity (id, person_id, sport, start_time, n_records, n_hr, format, source_path, "
            "source_sha256, source_index, sources, has_stream) VALUES (7, 1, 'running', '2026-01-01 07:00:00', 1, "
            "0, 'fit', 'a.fit', 'ab', 0, '[]', 1)"))
    engine.dispose()
    (folder / "streams").mkdir()
    (folder / "streams" / "7.parquet").write_bytes(b"stream of activity 7")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gutstride", "activities", "--workspace", str(folder), "--json"],
                              capture_output=True, text=True, timeout=120)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "migrated the workspace" in first.stderr and "0001" in first.stderr
    assert (folder / "athletes" / "1" / "streams" / "7.parquet").read_bytes() == b"stream of activity 7"
    assert not (folder / "streams").exists()
    second = run()
    assert second.returncode == 0 and second.stderr == ""
    assert second.stdout == first.stdout
    # the migrated foreign keys cascade: deleting the person deletes the activity
    ws = Workspace(folder)
    with ws.engine.begin() as connection:
        connection.execute(text("DELETE FROM person WHERE id = 1"))
        assert connection.execute(text("SELECT count(*) FROM activity")).scalar() == 0


def test_head_revision_equals_alembic_script_directory() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from gutstride.store.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
