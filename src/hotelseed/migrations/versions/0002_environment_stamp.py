"""Environment stamp table (issue 3): which environment a database belongs to.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "hotelseed_environment" in sa.inspect(op.get_bind()).get_table_names():
        return  # created by the baseline's create_all on a database built after this revision existed
    op.create_table(
        "hotelseed_environment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("environment", sa.Text, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_hotelseed_environment_single_row"),
    )


def downgrade() -> None:
    op.drop_table("hotelseed_environment")
