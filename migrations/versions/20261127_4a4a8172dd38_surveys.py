"""Question sets, pulses, invitations, anonymous responses and tallies.

Reviewed by hand: response, answer and comment are WITHOUT ROWID on SQLite (keyed by random ids,
so storage order does not reveal answering order); no column of response, answer or comment
refers to a person or an invitation; timestamps are UTC without a zone (pulse.db.UTCDateTime).

Revision ID: 4a4a8172dd38
Revises: 7909ee0abc8e
Create Date: 2026-11-27 07:11:55.199206

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a4a8172dd38'
down_revision = '7909ee0abc8e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pulse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('set_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=True),
    sa.Column('closes_at', sa.DateTime(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(), nullable=True),
    sa.Column('min_group', sa.Integer(), nullable=False),
    sa.Column('min_comment_group', sa.Integer(), nullable=False),
    sa.Column('release', sa.Enum('after_close', 'steps', name='release_mode', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.CheckConstraint('closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at', name=op.f('ck_pulse_closes_after_opening')),
    sa.CheckConstraint('min_comment_group >= min_group', name=op.f('ck_pulse_comment_group_at_least_k')),
    sa.CheckConstraint('min_group >= 3', name=op.f('ck_pulse_min_group_at_least_3')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse'))
    )
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pulse_opens_at'), ['opens_at'], unique=False)

    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('scale', sa.String(length=20), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('construct', sa.String(length=200), nullable=False),
    sa.Column('modelled_on', sa.String(length=300), nullable=False),
    sa.Column('licence_note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question')),
    sa.UniqueConstraint('key', name=op.f('uq_question_key'))
    )
    op.create_table('question_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_set')),
    sa.UniqueConstraint('name', name=op.f('uq_question_set_name'))
    )
    op.create_table('pulse_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=80), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('scale', sa.String(length=20), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('reverse', sa.Boolean(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_pulse_question_pulse_id_pulse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse_question')),
    sa.UniqueConstraint('pulse_id', 'position', name=op.f('uq_pulse_question_pulse_id_position'))
    )
    with op.batch_alter_table('pulse_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_question_pulse_id'), ['pulse_id'], unique=False)

    op.create_table('pulse_team',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_pulse_team_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_pulse_team_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', name=op.f('pk_pulse_team'))
    )
    op.create_table('question_set_item',
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=80), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['question_set.id'], name=op.f('fk_question_set_item_set_id_question_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'position', name=op.f('pk_question_set_item'))
    )
    op.create_table('response',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_response_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_response_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_pulse_id'), ['pulse_id'], unique=False)

    op.create_table('tally_dimension',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('at_risk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_tally_dimension_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_tally_dimension_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', 'dimension', name=op.f('pk_tally_dimension'))
    )
    op.create_table('tally_response',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_tally_response_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_tally_response_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', name=op.f('pk_tally_response'))
    )
    op.create_table('answer',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['pulse_question.id'], name=op.f('fk_answer_question_id_pulse_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_answer_response_id_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name=op.f('pk_answer')),
    sqlite_with_rowid=False
    )
    op.create_table('comment',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['pulse_question.id'], name=op.f('fk_comment_question_id_pulse_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_comment_response_id_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_response_id'), ['response_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('delivery', sa.Enum('pending', 'sent', 'failed', name='delivery', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('delivery_error', sa.String(length=300), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_invitation_person_id_person')),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_invitation_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_invitation_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('pulse_id', 'person_id', name=op.f('uq_invitation_pulse_id_person_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_person_id'), ['person_id'], unique=False)

    op.create_table('tally_value',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_tally_value_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['pulse_question.id'], name=op.f('fk_tally_value_question_id_pulse_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_tally_value_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', 'question_id', 'value', name=op.f('pk_tally_value'))
    )


def downgrade():
    op.drop_table('tally_value')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_person_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_response_id'))

    op.drop_table('comment')
    op.drop_table('answer')
    op.drop_table('tally_response')
    op.drop_table('tally_dimension')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_pulse_id'))

    op.drop_table('response')
    op.drop_table('question_set_item')
    op.drop_table('pulse_team')
    with op.batch_alter_table('pulse_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_question_pulse_id'))

    op.drop_table('pulse_question')
    op.drop_table('question_set')
    op.drop_table('question')
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_opens_at'))
        batch_op.drop_index(batch_op.f('ix_pulse_closes_at'))

    op.drop_table('pulse')
