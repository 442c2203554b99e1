"""Initial schema: person, import_record, activity, log_entry, microbiome_sample

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 03:32:53.638668
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('mass_kg', sa.Float(), nullable=True),
    sa.Column('height_m', sa.Float(), nullable=True),
    sa.Column('resting_hr', sa.Float(), nullable=True),
    sa.Column('hrmax', sa.Float(), nullable=True),
    sa.Column('lthr', sa.Float(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('sport', sa.String(length=40), nullable=False),
    sa.Column('sub_sport', sa.String(length=40), nullable=True),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('local_offset_s', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('moving_time_s', sa.Float(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('avg_hr', sa.Float(), nullable=True),
    sa.Column('max_hr', sa.Float(), nullable=True),
    sa.Column('ascent_m', sa.Float(), nullable=True),
    sa.Column('avg_temp_c', sa.Float(), nullable=True),
    sa.Column('device', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('perceived_exertion', sa.Float(), nullable=True),
    sa.Column('gear', sa.String(length=200), nullable=True),
    sa.Column('n_records', sa.Integer(), nullable=False),
    sa.Column('n_hr', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_index', sa.Integer(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('has_stream', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'source_sha256', 'source_index')
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_start_time'), ['start_time'], unique=False)

    op.create_table('import_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('n_items', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('import_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_record_sha256'), ['sha256'], unique=False)

    op.create_table('log_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('activity_ref', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'day', 'activity_ref')
    )
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_entry_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_entry_person_id'), ['person_id'], unique=False)

    op.create_table('microbiome_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.String(length=200), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('value_kind', sa.String(length=20), nullable=False),
    sa.Column('n_features', sa.Integer(), nullable=False),
    sa.Column('depth', sa.Float(), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'sample_id', 'source_sha256')
    )
    with op.batch_alter_table('microbiome_sample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_microbiome_sample_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('microbiome_sample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_microbiome_sample_person_id'))

    op.drop_table('microbiome_sample')
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_entry_person_id'))
        batch_op.drop_index(batch_op.f('ix_log_entry_day'))

    op.drop_table('log_entry')
    with op.batch_alter_table('import_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_record_sha256'))

    op.drop_table('import_record')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_start_time'))
        batch_op.drop_index(batch_op.f('ix_activity_person_id'))

    op.drop_table('activity')
    op.drop_table('person')
