"""Pilots (arms, pulses), outcome metrics, follow-up actions, notification claims.

Reviewed by hand: new tables only, plus two columns. person.no_reminders gets a server default
(false) so existing rows fill in; pulse_question.audience_team_id is nullable (None asks
everyone). The three action-status enums have distinct names so their CHECK constraints do too.
Nothing here refers to a respondent: sent_mail keys name staff and pulses only.

Revision ID: 85873bd169fd
Revises: 58692df8a504
Create Date: 2026-11-27 09:08:32.428999

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '85873bd169fd'
down_revision = '58692df8a504'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_mail',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sent_mail'))
    )
    op.create_table('outcome_metric',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_outcome_metric_period_in_order')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_outcome_metric_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_metric')),
    sa.UniqueConstraint('team_id', 'metric', 'period_start', name=op.f('uq_outcome_metric_team_id_metric_period_start'))
    )
    with op.batch_alter_table('outcome_metric', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_metric_team_id'), ['team_id'], unique=False)

    op.create_table('action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('pulse_id', sa.Integer(), nullable=True),
    sa.Column('dimension', sa.String(length=40), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'dropped', name='action_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('drop_reason', sa.String(length=500), nullable=True),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('due_soon_reminded_for', sa.Date(), nullable=True),
    sa.Column('overdue_reminded_for', sa.Date(), nullable=True),
    sa.CheckConstraint("status != 'dropped' OR drop_reason IS NOT NULL", name=op.f('ck_action_dropped_has_reason')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_action_created_by_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_action_owner_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_action_pulse_id_pulse'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_action_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action'))
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_pulse_id'), ['pulse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_team_id'), ['team_id'], unique=False)

    op.create_table('pilot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('hypothesis', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=60), nullable=False),
    sa.Column('set_ref', sa.String(length=60), nullable=False),
    sa.Column('cadence_weeks', sa.Integer(), nullable=False),
    sa.Column('baseline_pulses', sa.Integer(), nullable=False),
    sa.Column('open_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('baseline_pulses >= 1', name=op.f('ck_pilot_at_least_one_baseline')),
    sa.CheckConstraint('cadence_weeks IN (1, 2, 4)', name=op.f('ck_pilot_known_cadence')),
    sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_pilot_ends_after_start')),
    sa.CheckConstraint('open_days >= 1', name=op.f('ck_pilot_open_at_least_a_day')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_pilot_created_by_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot')),
    sa.UniqueConstraint('name', name=op.f('uq_pilot_name'))
    )
    op.create_table('action_question',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['action.id'], name=op.f('fk_action_question_action_id_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['pulse_question.id'], name=op.f('fk_action_question_question_id_pulse_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_action_question'))
    )
    with op.batch_alter_table('action_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_question_action_id'), ['action_id'], unique=False)

    op.create_table('action_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status_from', sa.Enum('planned', 'in_progress', 'done', 'dropped', name='action_status_from', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('status_to', sa.Enum('planned', 'in_progress', 'done', 'dropped', name='action_status_to', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['action.id'], name=op.f('fk_action_update_action_id_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_action_update_author_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_update'))
    )
    with op.batch_alter_table('action_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_update_action_id'), ['action_id'], unique=False)

    op.create_table('pilot_pulse',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('baseline', 'during', 'final', name='pilot_phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_pilot_pulse_pilot_id_pilot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_pilot_pulse_pulse_id_pulse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pulse_id', name=op.f('pk_pilot_pulse'))
    )
    with op.batch_alter_table('pilot_pulse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_pulse_pilot_id'), ['pilot_id'], unique=False)

    op.create_table('pilot_team',
    sa.Column('pilot_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('arm', sa.Enum('pilot', 'comparison', name='pilot_arm', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], name=op.f('fk_pilot_team_pilot_id_pilot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_pilot_team_team_id_team')),
    sa.PrimaryKeyConstraint('pilot_id', 'team_id', name=op.f('pk_pilot_team'))
    )
    with op.batch_alter_table('pilot_team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_team_team_id'), ['team_id'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_reminders', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('pulse_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience_team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pulse_question_audience_team_id_team'), 'team', ['audience_team_id'], ['id'])



def downgrade():
    with op.batch_alter_table('pulse_question', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pulse_question_audience_team_id_team'), type_='foreignkey')
        batch_op.drop_column('audience_team_id')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('no_reminders')

    with op.batch_alter_table('pilot_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_team_team_id'))

    op.drop_table('pilot_team')
    with op.batch_alter_table('pilot_pulse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_pulse_pilot_id'))

    op.drop_table('pilot_pulse')
    with op.batch_alter_table('action_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_update_action_id'))

    op.drop_table('action_update')
    with op.batch_alter_table('action_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_question_action_id'))

    op.drop_table('action_question')
    op.drop_table('pilot')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_team_id'))
        batch_op.drop_index(batch_op.f('ix_action_pulse_id'))
        batch_op.drop_index(batch_op.f('ix_action_owner_id'))

    op.drop_table('action')
    with op.batch_alter_table('outcome_metric', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_metric_team_id'))

    op.drop_table('outcome_metric')
    op.drop_table('sent_mail')
