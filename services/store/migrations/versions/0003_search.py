"""Norwegian full-text search: the index tables (FTS5 on SQLite, tsvector + GIN on PostgreSQL), filled
for the segments already stored. See services/store/search.py.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from services.store import search

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    search.create_schema(conn)
    search.rebuild(conn)


def downgrade() -> None:
    search.drop_schema(op.get_bind())
