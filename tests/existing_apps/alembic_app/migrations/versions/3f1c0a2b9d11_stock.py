"""stock, never below zero

Revision ID: 3f1c0a2b9d11
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "3f1c0a2b9d11"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(32), nullable=False, unique=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name="stock_never_below_zero"),
    )


def downgrade() -> None:
    op.drop_table("stock")
