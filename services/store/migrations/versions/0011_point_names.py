"""``point_names``: names analysts give points.

Issue 13: a point is named by one of its sentences (services/store/points/grouping.py); an analyst who
reports on it may want to say it in their own words. Each name (a ``PointNamed`` event on
``segments.corrected``, kept once by event id) keeps the point id, the name (empty: back to the model's
summary), who and when. The newest name of a point id is shown for as long as the point lives.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "point_names",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_point_names_point_id", "point_names", ["point_id"])
    op.create_index("ux_point_names_event_id", "point_names", ["event_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_point_names_event_id", table_name="point_names")
    op.drop_index("ix_point_names_point_id", table_name="point_names")
    op.drop_table("point_names")
