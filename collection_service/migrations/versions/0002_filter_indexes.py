"""composite (column, id) indexes for filtered, keyset-paged lists"""

from alembic import op

revision = "0002"
down_revision = "0001"

# A plain (owner_id) index finds the rows but not in id order: a page then needs every matching row
# sorted. (owner_id, id) serves both the equality and the ORDER BY id / id > after_id of keyset paging.
COLUMNS = ("owner_id", "brand", "origin")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_cigars_{column}_id", "cigars", [column, "id"])
        op.drop_index(f"ix_cigars_{column}", table_name="cigars")


def downgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_cigars_{column}", "cigars", [column])
        op.drop_index(f"ix_cigars_{column}_id", table_name="cigars")
