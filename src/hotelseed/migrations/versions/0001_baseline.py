"""Baseline: the whole platform schema (five modules, constraints, the stays no-overlap guard).

A new database is built by metadata.create_all and stamped at head (Alembic cookbook, "Building an Up to
Date Database from Scratch"); this revision exists so that later revisions have a parent. When the models
change, a new revision carries the change and this file must keep describing the baseline as it was.

Revision ID: 0001
Revises:
"""

from alembic import op

from hotelseed.models import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
