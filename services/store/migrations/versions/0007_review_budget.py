"""``segments.model_needs_review``: the model's own review flag, beside the one the store shows.

Since round 11 (issue 9) ``needs_review`` is the model's flag kept within the letter's review budget
(shared/review.py): at most a set share of a letter's segments, the least confident. The model's flag is
kept apart so the budget can be worked out again as a letter's segments arrive or are re-classified. Rows
written before this revision take their shown flag as the model's.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "segments",
        sa.Column("model_needs_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE segments SET model_needs_review = needs_review")


def downgrade() -> None:
    op.drop_column("segments", "model_needs_review")
