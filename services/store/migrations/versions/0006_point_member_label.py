"""``point_members.label``: the label a member had when it was grouped.

Since round 7 (issue 13) a point may hold members of different content labels (a measure one sender words as
a challenge), so the point's own label no longer says what each member's label was; a correction is found
by comparing the member's label now with the one stored here. Rows written before this revision have NULL
and are compared with their point's label, as before.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("point_members", sa.Column("label", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("point_members", "label")
