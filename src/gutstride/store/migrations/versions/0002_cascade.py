"""Foreign keys to person cascade on delete, so that erasing an athlete removes every row of theirs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = ("import_record", "activity", "log_entry", "microbiome_sample")
#: Names for the foreign keys 0001 left unnamed (SQLite reflects them without a name).
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _old_name(table: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"{table}_person_id_fkey"
    return f"fk_{table}_person_id_person"


def _replace(ondelete: str | None) -> None:
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(_old_name(table), type_="foreignkey")
            batch_op.create_foreign_key(_old_name(table), "person", ["person_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _replace("CASCADE")


def downgrade() -> None:
    _replace(None)
