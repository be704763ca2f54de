"""Drop ``segments.search_text``: segment search reads its own index (services/store/search.py, revision
0003), so the lower-cased text + heading copy was written on every segment and never read.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE (SQLite >= 3.35 drops columns in place): batch mode would rebuild the table and lose
    # the search index's delete trigger on it.
    op.drop_column("segments", "search_text")


def downgrade() -> None:
    op.add_column("segments", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
