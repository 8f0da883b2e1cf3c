"""imported_users table: the ledger of users imported from the FastAPI monolith"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "imported_users",
        sa.Column("monolith_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.PrimaryKeyConstraint("monolith_id", name=op.f("pk_imported_users")),
    )


def downgrade() -> None:
    op.drop_table("imported_users")
