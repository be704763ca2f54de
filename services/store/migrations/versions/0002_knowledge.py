"""Analyst knowledge: corrections, themes, sender kinds, points.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Documents: sender kind, extraction's own values beside the final ones, corrected fields.
    op.add_column(
        "documents", sa.Column("sender_kind", sa.String(32), nullable=False, server_default="ukjent")
    )
    op.add_column("documents", sa.Column("model_sender", sa.Text(), nullable=True))
    op.add_column("documents", sa.Column("model_sender_kind", sa.String(32), nullable=True))
    op.add_column("documents", sa.Column("model_date", sa.String(64), nullable=True))
    op.add_column("documents", sa.Column("model_title", sa.Text(), nullable=True))
    op.add_column("documents", sa.Column("corrected_fields", sa.JSON(), nullable=True))
    op.create_index("ix_documents_sender_kind", "documents", ["sender_kind"])
    op.execute(
        "UPDATE documents SET model_sender = sender, model_date = date, model_title = title, "
        "model_sender_kind = sender_kind"
    )

    # Segments: final themes, the model's values, review facts, correction marks.
    op.add_column("segments", sa.Column("themes", sa.JSON(), nullable=True))
    op.add_column("segments", sa.Column("model_label", sa.String(16), nullable=True))
    op.add_column("segments", sa.Column("model_themes", sa.JSON(), nullable=True))
    op.add_column(
        "segments", sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("segments", sa.Column("confidence", sa.Float(), nullable=True))
    op.add_column("segments", sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("segments", sa.Column("corrected_by", sa.String(200), nullable=True))
    op.add_column("segments", sa.Column("corrected_at", UTCDateTime(), nullable=True))
    op.create_index("ix_segments_corrected", "segments", ["corrected"])
    op.execute("UPDATE segments SET model_label = label")

    op.create_table(
        "segment_themes",
        sa.Column("segment_id", sa.String(80), primary_key=True),
        sa.Column("theme_id", sa.String(64), primary_key=True),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
    )
    op.create_index("ix_segment_themes_theme_id", "segment_themes", ["theme_id"])
    op.create_index("ix_segment_themes_document_id", "segment_themes", ["document_id"])

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.String(80), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("label", sa.String(16), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=True),
        sa.Column("reverted", sa.JSON(), nullable=False),
        sa.Column("model_label", sa.String(16), nullable=True),
        sa.Column("model_themes", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ux_corrections_event_id", "corrections", ["event_id"], unique=True)
    op.create_index("ix_corrections_segment_id", "corrections", ["segment_id"])
    op.create_index("ix_corrections_document_id", "corrections", ["document_id"])

    op.create_table(
        "document_corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ux_document_corrections_event_id", "document_corrections", ["event_id"], unique=True)
    op.create_index("ix_document_corrections_document_id", "document_corrections", ["document_id"])

    op.create_table(
        "points",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("sender_count", sa.Integer(), nullable=False),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_points_label", "points", ["label"])
    op.create_table(
        "point_members",
        sa.Column("point_id", sa.String(64), primary_key=True),
        sa.Column("segment_id", sa.String(80), primary_key=True),
    )
    op.create_index("ix_point_members_segment_id", "point_members", ["segment_id"])


def downgrade() -> None:
    for table in ("point_members", "points", "document_corrections", "corrections", "segment_themes"):
        op.drop_table(table)
    with op.batch_alter_table("segments") as batch:
        batch.drop_index("ix_segments_corrected")
        for name in (
            "themes",
            "model_label",
            "model_themes",
            "needs_review",
            "confidence",
            "corrected",
            "corrected_by",
            "corrected_at",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_sender_kind")
        for name in (
            "sender_kind",
            "model_sender",
            "model_sender_kind",
            "model_date",
            "model_title",
            "corrected_fields",
        ):
            batch.drop_column(name)
