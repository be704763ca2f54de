"""``point_merges``: points an analyst merged.

Issue 13: the counterpart of ``point_exclusions`` (0009). When the grouping splits one point into two, an
analyst merges them; each merge (a ``PointsMerged`` event on ``segments.corrected``, kept once by event id)
keeps the quotes that share a point from then on, the two point ids, who and when. Every regrouping applies
the merges and the exclusions in the order they were made (services/store/points/grouping.py ``corrected``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.models import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "point_merges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("merged_point_id", sa.String(length=64), nullable=False),
        sa.Column("segment_ids", sa.JSON(), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ux_point_merges_event_id", "point_merges", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_point_merges_event_id", table_name="point_merges")
    op.drop_table("point_merges")
