"""``point_exclusions``: quotes an analyst took out of a point.

Round 16 (issue 13): the grouping is a model's output, so an analyst can correct it. Each exclusion (a
``PointExcluded`` event on ``segments.corrected``, kept once by event id) keeps the segment, the point it
left, the segments it was taken away from, who and when; every regrouping applies them again
(services/store/points/grouping.py ``corrected``, which since 0010 also applies merges).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.models import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "point_exclusions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=80), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("apart_from", sa.JSON(), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_point_exclusions_segment_id", "point_exclusions", ["segment_id"])
    op.create_index("ux_point_exclusions_event_id", "point_exclusions", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_point_exclusions_event_id", table_name="point_exclusions")
    op.drop_index("ix_point_exclusions_segment_id", table_name="point_exclusions")
    op.drop_table("point_exclusions")
