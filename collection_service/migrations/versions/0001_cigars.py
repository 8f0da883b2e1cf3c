"""cigars table"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "cigars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("flavor_notes", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cigars")),
    )
    op.create_index(op.f("ix_cigars_owner_id"), "cigars", ["owner_id"])
    op.create_index(op.f("ix_cigars_brand"), "cigars", ["brand"])
    op.create_index(op.f("ix_cigars_origin"), "cigars", ["origin"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cigars_origin"), table_name="cigars")
    op.drop_index(op.f("ix_cigars_brand"), table_name="cigars")
    op.drop_index(op.f("ix_cigars_owner_id"), table_name="cigars")
    op.drop_table("cigars")
