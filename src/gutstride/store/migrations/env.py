"""Alembic environment for the workspace database: runs on the connection gutstride passes in.

Used through :func:`gutstride.store.migrate.upgrade`; SQLite needs batch mode to alter tables.
"""

from __future__ import annotations

from alembic import context

from gutstride.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
