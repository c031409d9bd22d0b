"""Shard bookkeeping table (issue 5): loads split into shards across machines.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "hotelseed_shards" in sa.inspect(op.get_bind()).get_table_names():
        return  # created by the baseline's create_all on a database built after this revision existed
    op.create_table(
        "hotelseed_shards",
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("shard_index", sa.Integer, nullable=False),
        sa.Column("shard_count", sa.Integer, nullable=False),
        sa.Column("deferred", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.Column("rows", sa.BigInteger),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("run_id", "shard_index", name="pk_hotelseed_shards"),
    )


def downgrade() -> None:
    op.drop_table("hotelseed_shards")
