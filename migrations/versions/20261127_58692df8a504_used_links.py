"""Used invitation links, marked by a keyed hash instead of a write to the invitation.

Reviewed by hand: used_link holds only the marker (HMAC of the link under the secret key) and the
pulse; WITHOUT ROWID on SQLite. Existing answered invitations need no marker: their
`answered` flag already says so.

Revision ID: 58692df8a504
Revises: cc474aa73dae
Create Date: 2026-11-27 08:06:30.328306

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '58692df8a504'
down_revision = 'cc474aa73dae'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_link',
    sa.Column('marker', sa.String(length=64), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], name=op.f('fk_used_link_pulse_id_pulse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('marker', name=op.f('pk_used_link')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('used_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_link_pulse_id'), ['pulse_id'], unique=False)



def downgrade():
    with op.batch_alter_table('used_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_link_pulse_id'))

    op.drop_table('used_link')
