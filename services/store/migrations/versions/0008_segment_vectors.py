"""``segment_vectors``: the point grouping's sentence-encoder vector per groupable segment.

Round 15 (issue 13): the grouping compares segments with a multilingual sentence encoder
(services/store/points/encoder.py). Embedding costs about 20 ms a segment, so each vector is made once
and kept here; a regrouping reads them. A vector whose text hash or model no longer matches is made again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_vectors",
        sa.Column("segment_id", sa.String(length=80), primary_key=True),
        sa.Column("text_hash", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("segment_vectors")
