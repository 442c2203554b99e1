"""Sign-in and sign-up attempts in the database, so that the rate limit holds across server processes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sign_in_attempt_key_sha256', 'sign_in_attempt', ['key_sha256'])
    op.create_index('ix_sign_in_attempt_at', 'sign_in_attempt', ['at'])


def downgrade() -> None:
    op.drop_table('sign_in_attempt')
