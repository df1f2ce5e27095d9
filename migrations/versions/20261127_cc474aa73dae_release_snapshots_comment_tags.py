"""Step-wise release snapshots of tallies, and comment tags.

Reviewed by hand: release_* mirror the tally tables (a copy taken when a team's responses reach
the next multiple of k); comment_tag records the staff member who tagged, nothing about the
respondent.

Revision ID: cc474aa73dae
Revises: 4a4a8172dd38
Create Date: 2026-11-27 07:26:43.133780

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cc474aa73dae'
down_revision = '4a4a8172dd38'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('release_dimension',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('at_risk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_release_dimension_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_release_dimension_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', 'dimension', name=op.f('pk_release_dimension'))
    )
    op.create_table('release_response',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_release_response_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_release_response_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', name=op.f('pk_release_response'))
    )
    op.create_table('release_value',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_release_value_pulse_id_pulse'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['pulse_question.id'], name=op.f('fk_release_value_question_id_pulse_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_release_value_team_id_team')),
    sa.PrimaryKeyConstraint('pulse_id', 'team_id', 'question_id', 'value', name=op.f('pk_release_value'))
    )
    op.create_table('comment_tag',
    sa.Column('comment_id', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('tagged_by_id', sa.Integer(), nullable=True),
    sa.Column('tagged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_tag_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tagged_by_id'], ['person.id'], name=op.f('fk_comment_tag_tagged_by_id_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_comment_tag'))
    )


def downgrade():
    op.drop_table('comment_tag')
    op.drop_table('release_value')
    op.drop_table('release_response')
    op.drop_table('release_dimension')
