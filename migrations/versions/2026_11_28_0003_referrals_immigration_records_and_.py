"""referrals, immigration records and idempotency

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:10:34.926477
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'endpoint', 'key', name=op.f('uq_idempotency_records_user_id_endpoint_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('reference_counters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_counters')),
    sa.UniqueConstraint('series', 'year', name=op.f('uq_reference_counters_series_year'))
    )
    op.create_table('duty_to_notify_reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_by_id', sa.Uuid(), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=True),
    sa.Column('exploitation_types', sa.JSON(), nullable=False),
    sa.Column('exploitation_location', sa.String(length=32), nullable=False),
    sa.Column('local_authority', sa.String(length=9), nullable=False),
    sa.CheckConstraint("exploitation_location IN ('uk', 'overseas', 'uk_and_overseas', 'unknown')", name=op.f('ck_duty_to_notify_reports_location')),
    sa.CheckConstraint("gender IN ('female', 'male', 'other', 'unknown')", name=op.f('ck_duty_to_notify_reports_gender')),
    sa.ForeignKeyConstraint(['local_authority'], ['local_authorities.ons_code'], name=op.f('fk_duty_to_notify_reports_local_authority_local_authorities')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_duty_to_notify_reports_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_duty_to_notify_reports_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_to_notify_reports')),
    sa.UniqueConstraint('reference', name=op.f('uq_duty_to_notify_reports_reference'))
    )
    with op.batch_alter_table('duty_to_notify_reports', schema=None) as batch_op:
        batch_op.create_index('ix_duty_to_notify_reports_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_duty_to_notify_reports_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('referring_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_by_id', sa.Uuid(), nullable=False),
    sa.Column('routed_to_id', sa.Uuid(), nullable=False),
    sa.Column('assigned_to_id', sa.Uuid(), nullable=True),
    sa.Column('given_name', sa.String(length=200), nullable=True),
    sa.Column('family_name', sa.String(length=200), nullable=True),
    sa.Column('other_names', sa.JSON(), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('estimated_age', sa.Integer(), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('correspondence_language', sa.String(length=2), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=True),
    sa.Column('consent_recorded_on', sa.Date(), nullable=True),
    sa.Column('exploitation_location', sa.String(length=32), nullable=False),
    sa.Column('local_authority', sa.String(length=9), nullable=False),
    sa.Column('exploitation_began_on', sa.Date(), nullable=True),
    sa.Column('exploitation_ongoing', sa.Boolean(), nullable=True),
    sa.Column('exploited_as_child', sa.Boolean(), nullable=True),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('rg_due', sa.Date(), nullable=True),
    sa.Column('recovery_period_ends', sa.Date(), nullable=True),
    sa.Column('panel_review_due', sa.Date(), nullable=True),
    sa.Column('status_before_suspension', sa.String(length=32), nullable=True),
    sa.Column('suspended_on', sa.Date(), nullable=True),
    sa.CheckConstraint("correspondence_language IN ('en', 'cy')", name=op.f('ck_referrals_language')),
    sa.CheckConstraint("exploitation_location IN ('uk', 'overseas', 'uk_and_overseas', 'unknown')", name=op.f('ck_referrals_location')),
    sa.CheckConstraint("gender IN ('female', 'male', 'other', 'unknown')", name=op.f('ck_referrals_gender')),
    sa.CheckConstraint("status IN ('awaiting_rg', 'rg_negative', 'recovery_period', 'cg_positive', 'cg_negative', 'suspended', 'withdrawn')", name=op.f('ck_referrals_status')),
    sa.CheckConstraint("status_before_suspension IS NULL OR status_before_suspension IN ('awaiting_rg', 'rg_negative', 'recovery_period', 'cg_positive', 'cg_negative', 'suspended', 'withdrawn')", name=op.f('ck_referrals_status_before_suspension')),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_referrals_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['local_authority'], ['local_authorities.ons_code'], name=op.f('fk_referrals_local_authority_local_authorities')),
    sa.ForeignKeyConstraint(['referring_organisation_id'], ['organisations.id'], name=op.f('fk_referrals_referring_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['routed_to_id'], ['organisations.id'], name=op.f('fk_referrals_routed_to_id_organisations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_referrals_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('reference', name=op.f('uq_referrals_reference'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_local_authority'), ['local_authority'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_nationality'), ['nationality'], unique=False)
        batch_op.create_index('ix_referrals_referring_organisation_id_created_at', ['referring_organisation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_referrals_routed_to_id_status', ['routed_to_id', 'status'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('early_decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('guidance_version', sa.String(length=32), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('met', sa.Boolean(), nullable=True),
    sa.Column('effective_at', UTCDateTime(), nullable=True),
    sa.Column('review_by_id', sa.Uuid(), nullable=True),
    sa.Column('review_agree', sa.Boolean(), nullable=True),
    sa.Column('review_comments', sa.Text(), nullable=True),
    sa.Column('review_at', UTCDateTime(), nullable=True),
    sa.Column('review_due', sa.Date(), nullable=True),
    sa.CheckConstraint("outcome IN ('positive', 'negative')", name=op.f('ck_decisions_outcome')),
    sa.CheckConstraint("stage IN ('reasonable_grounds', 'conclusive_grounds')", name=op.f('ck_decisions_stage')),
    sa.CheckConstraint("status IN ('proposed', 'effective', 'rejected')", name=op.f('ck_decisions_status')),
    sa.CheckConstraint('working_days >= 0', name=op.f('ck_decisions_working_days')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_decisions_referral_id_referrals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_by_id'], ['users.id'], name=op.f('fk_decisions_review_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_decisions_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_referral_id_decided_at', ['referral_id', 'decided_at'], unique=False)
        batch_op.create_index('ix_decisions_stage_decided_on', ['stage', 'decided_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_unit_id'), ['unit_id'], unique=False)

    op.create_table('immigration_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('home_office_reference', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('british_or_irish_citizen', 'settled', 'pre_settled', 'visa_holder', 'visa_overstayer', 'asylum_seeker', 'refugee_or_protection', 'no_leave', 'unknown')", name=op.f('ck_immigration_records_status')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_immigration_records_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_immigration_records')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_immigration_records_referral_id'))
    )
    with op.batch_alter_table('immigration_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_immigration_records_home_office_reference'), ['home_office_reference'], unique=False)

    op.create_table('referral_exploitation_types',
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.CheckConstraint("type IN ('sexual', 'labour', 'domestic_servitude', 'criminal', 'organ_harvesting', 'unknown')", name=op.f('ck_referral_exploitation_types_type')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_exploitation_types_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('referral_id', 'type', name=op.f('pk_referral_exploitation_types'))
    )
    op.create_table('referral_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Uuid(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_referral_notes_by_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_notes_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_notes'))
    )
    with op.batch_alter_table('referral_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_notes_referral_id'), ['referral_id'], unique=False)

    op.create_table('reconsideration_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('decision_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decision_reasons', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'accepted', 'declined')", name=op.f('ck_reconsideration_requests_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_reconsideration_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_reconsideration_requests_decision_id_decisions')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_reconsideration_requests_referral_id_referrals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_reconsideration_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconsideration_requests'))
    )
    with op.batch_alter_table('reconsideration_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconsideration_requests_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reconsideration_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconsideration_requests_referral_id'))

    op.drop_table('reconsideration_requests')
    with op.batch_alter_table('referral_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_notes_referral_id'))

    op.drop_table('referral_notes')
    op.drop_table('referral_exploitation_types')
    with op.batch_alter_table('immigration_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_immigration_records_home_office_reference'))

    op.drop_table('immigration_records')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_unit_id'))
        batch_op.drop_index('ix_decisions_stage_decided_on')
        batch_op.drop_index('ix_decisions_referral_id_decided_at')

    op.drop_table('decisions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_routed_to_id_status')
        batch_op.drop_index('ix_referrals_referring_organisation_id_created_at')
        batch_op.drop_index(batch_op.f('ix_referrals_nationality'))
        batch_op.drop_index(batch_op.f('ix_referrals_local_authority'))
        batch_op.drop_index('ix_referrals_created_at')

    op.drop_table('referrals')
    with op.batch_alter_table('duty_to_notify_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_to_notify_reports_organisation_id'))
        batch_op.drop_index('ix_duty_to_notify_reports_created_at')

    op.drop_table('duty_to_notify_reports')
    op.drop_table('reference_counters')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
