"""relations between items: near-duplicate fingerprints and coordinated-posting clusters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprints",
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sig", sa.LargeBinary(), nullable=False),
        sa.Column("root", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("platform", "item_id"),
    )
    op.create_table(
        "cluster_members",
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key", "item_id"),
    )
    op.create_index("ix_cluster_members_key_at", "cluster_members",
                    ["platform", "key", "at"], unique=False)
    op.create_index("ix_cluster_members_item", "cluster_members", ["platform", "item_id"],
                    unique=False)
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_hours", sa.Double(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clusters_platform", "clusters", ["platform", "last_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_clusters_platform", table_name="clusters")
    op.drop_table("clusters")
    op.drop_index("ix_cluster_members_item", table_name="cluster_members")
    op.drop_index("ix_cluster_members_key_at", table_name="cluster_members")
    op.drop_table("cluster_members")
    op.drop_table("fingerprints")
