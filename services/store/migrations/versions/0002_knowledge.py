"""Analyst knowledge: corrections, themes, sender kinds, points.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the corrections/themes work; until then this revision changes nothing."""


def downgrade() -> None:
    """Nothing to undo yet."""
