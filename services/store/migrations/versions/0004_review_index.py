"""The review queue's index: uncorrected segments by ``needs_review`` and confidence, so the queue reads its
candidates in order instead of sorting every segment (tens of thousands with 1,000 letters).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_segments_review", "segments", ["corrected", "needs_review", "confidence", "segment_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_segments_review", table_name="segments")
