"""identity, audit and the test clock

Revision ID: 0001
Revises:
Create Date: 2026-11-28 16:45:57.681763
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.audit import triggers
from app.db import UTCDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_organisation', sa.String(length=64), nullable=True),
    sa.Column('actor_roles', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('track', sa.String(length=16), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('stream', sa.String(length=100), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('canonical', sa.Text(), nullable=False),
    sa.CheckConstraint("track IN ('victim', 'immigration', 'access', 'admin')", name=op.f('ck_audit_events_track')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_audit_events_position_positive')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('id', name=op.f('uq_audit_events_id')),
    sa.UniqueConstraint('stream', 'position', name=op.f('uq_audit_events_stream_position'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_seq', ['action', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_actor_id_seq', ['actor_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_actor_organisation_seq', ['actor_organisation', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_referral_id_seq', ['referral_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_track_seq', ['track', 'seq'], unique=False)

    op.create_table('audit_streams',
    sa.Column('stream', sa.String(length=100), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('stream', name=op.f('pk_audit_streams'))
    )
    op.create_table('local_authorities',
    sa.Column('ons_code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_cy', sa.String(length=200), nullable=False),
    sa.Column('police_force', sa.String(length=64), nullable=False),
    sa.Column('health_board', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('ons_code', name=op.f('pk_local_authorities'))
    )
    op.create_table('test_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_test_clock_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_clock'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_cy', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('local_authority', sa.String(length=9), nullable=True),
    sa.CheckConstraint("sector IN ('police', 'health', 'local_authority', 'charity', 'home_office', 'decision_unit')", name=op.f('ck_organisations_sector')),
    sa.ForeignKeyConstraint(['local_authority'], ['local_authorities.ons_code'], name=op.f('fk_organisations_local_authority_local_authorities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_organisations_code'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_local_authority'), ['local_authority'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.CheckConstraint("role IN ('first_responder', 'decision_maker', 'senior_decision_maker', 'panel_member', 'immigration_officer', 'auditor', 'admin')", name=op.f('ck_user_roles_role')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    triggers.create(op)


def downgrade() -> None:
    triggers.drop(op)
    op.drop_table('user_roles')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_local_authority'))

    op.drop_table('organisations')
    op.drop_table('test_clock')
    op.drop_table('local_authorities')
    op.drop_table('audit_streams')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_track_seq')
        batch_op.drop_index('ix_audit_events_referral_id_seq')
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_index('ix_audit_events_actor_organisation_seq')
        batch_op.drop_index('ix_audit_events_actor_id_seq')
        batch_op.drop_index('ix_audit_events_action_seq')

    op.drop_table('audit_events')
