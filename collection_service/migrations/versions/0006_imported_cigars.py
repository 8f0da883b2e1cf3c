"""imported_cigars table: the ledger of cigars imported from the FastAPI monolith"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "imported_cigars",
        sa.Column("cigar_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.PrimaryKeyConstraint("cigar_id", name=op.f("pk_imported_cigars")),
    )


def downgrade() -> None:
    op.drop_table("imported_cigars")
