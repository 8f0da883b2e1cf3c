"""cigar ids are never reused: AUTOINCREMENT on SQLite (PostgreSQL's sequence already never goes back)"""

from alembic import op

revision = "0004"
down_revision = "0003"

# Without AUTOINCREMENT, SQLite gives a new row max(id) + 1, so deleting the newest cigar frees its id and a
# stale link (/cigars/<id>) then shows another user's cigar. With it, SQLite keeps the highest id ever used in
# sqlite_sequence. SQLite cannot add it to a table in place: batch mode recreates the table, copying every row
# and index; copying the ids sets sqlite_sequence to the highest one left (an id deleted before this migration
# from the very top may still be handed out once: nothing recorded it).


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: a SERIAL column's sequence never hands out an id twice
    with op.batch_alter_table("cigars", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    _recreate(autoincrement=True)


def downgrade() -> None:
    _recreate(autoincrement=False)
