"""users: one account per mailbox, whatever the letter case (a unique index on lower(email))"""

import sqlalchemy as sa
from alembic import op

from service_kit.db.check import MigrationRefused

revision = "0006"
down_revision = "0005"

DUPLICATES = sa.text(
    "SELECT lower(email), min(id), count(*) FROM users GROUP BY lower(email) HAVING count(*) > 1 ORDER BY min(id)"
)


def upgrade() -> None:
    # Accounts registered before this revision may share a mailbox in another case. Which one keeps it is the
    # operator's call (ask the users), never this migration's: refuse, naming the accounts, and change nothing.
    groups = op.get_bind().execute(DUPLICATES).all()
    if groups:
        ids = op.get_bind().execute(
            sa.text("SELECT id FROM users WHERE lower(email) IN :emails ORDER BY id").bindparams(
                sa.bindparam("emails", expanding=True)
            ),
            {"emails": [email for email, _, _ in groups]},
        )
        raise MigrationRefused(
            f"{len(groups)} email address(es) belong to several accounts in different letter case "
            f"(user ids {', '.join(str(i) for (i,) in ids)}); change users.email of all but one account of each, "
            "then migrate again"
        )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_email_lower", table_name="users")
