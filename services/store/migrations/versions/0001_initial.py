"""Initial schema: documents, segments, status_events.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=True),
        sa.Column("blob_uri", sa.Text(), nullable=True),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_stage", sa.String(32), nullable=True),
        sa.Column("error_code", sa.String(128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("date", sa.String(64), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("segment_count", sa.Integer(), nullable=True),
        sa.Column("classified_count", sa.Integer(), nullable=False),
        sa.Column("extracted_at", UTCDateTime(), nullable=True),
        sa.Column("last_classified_at", UTCDateTime(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_documents_status", "documents", ["status"])
    op.create_index("ix_documents_sender", "documents", ["sender"])

    op.create_table(
        "segments",
        sa.Column("segment_id", sa.String(80), primary_key=True),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("heading_path", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ocr", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("classified_at", UTCDateTime(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
    )
    op.create_index("ix_segments_document_id_seq", "segments", ["document_id", "seq"])
    op.create_index("ix_segments_label", "segments", ["label"])

    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ux_status_events_event_id", "status_events", ["event_id"], unique=True)
    op.create_index("ix_status_events_document_id", "status_events", ["document_id"])


def downgrade() -> None:
    op.drop_table("status_events")
    op.drop_table("segments")
    op.drop_table("documents")
