"""human review: cases (review, reports, appeals) and lifted sanctions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=True),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=255), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reporter", sa.String(length=255), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_decision", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cases_queue", "cases", ["platform", "status", "queue", "priority"],
                    unique=False)
    op.create_index("ix_cases_item", "cases", ["platform", "item_id"], unique=False)
    op.create_table(
        "sanction_lifts",
        sa.Column("sanction_id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"]),
        sa.ForeignKeyConstraint(["sanction_id"], ["sanctions.id"]),
        sa.PrimaryKeyConstraint("sanction_id"),
    )


def downgrade() -> None:
    op.drop_table("sanction_lifts")
    op.drop_index("ix_cases_item", table_name="cases")
    op.drop_index("ix_cases_queue", table_name="cases")
    op.drop_table("cases")
