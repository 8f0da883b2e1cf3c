"""The monolith's users checked against our registration rules, and what fixing each problem would store.

Names and addresses go first to the users who can be imported at all (a usable password hash), lowest id
first; a fix never takes a valid name or address from someone else."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from ..domain import AdoptedUser, MonolithUser, Problem, UserReview
from .rules import USERNAME, normalise_email

# What passlib's bcrypt (the monolith's CryptContext) writes: $2b$<cost>$<22 salt + 31 hash chars>
BCRYPT = re.compile(r"\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}")
PLACEHOLDER_DOMAIN = "imported.invalid"  # RFC 2606: can never be delivered to, so it proves nothing
NAME_MAX = 32


def placeholder_email(user_id: int) -> str:
    return f"user-{user_id}@{PLACEHOLDER_DOMAIN}"


def usable_hash(user: MonolithUser) -> bool:
    return bool(user.hashed_password and BCRYPT.fullmatch(user.hashed_password))


def _email(user: MonolithUser) -> str | None:
    if not user.email or not user.email.strip():
        return None
    try:
        return normalise_email(user.email)
    except ValueError:
        return None


def _claims(users: Iterable[MonolithUser], key: dict[int, str | None]) -> dict[str, int]:
    """value -> the user who keeps it: importable users first, then the lowest id."""
    owners: dict[str, int] = {}
    for user in sorted(users, key=lambda u: (not usable_hash(u), u.id)):
        if (value := key[user.id]) is not None:
            owners.setdefault(value, user.id)
    return owners


def _name_base(raw: str | None, user_id: int) -> str:
    """Accents dropped, other characters outside [A-Za-z0-9_.-] become '_'; too short: user_<id>."""
    ascii_text = unicodedata.normalize("NFKD", raw or "").encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("_.-")[:24]
    return base if len(base) >= 3 else f"user_{user_id}"


def _free_name(base: str, user_id: int, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate.casefold() in taken:
        suffix = f"_{user_id}" if n == 1 else f"_{user_id}_{n}"
        candidate, n = base[: NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(candidate.casefold())
    return candidate


def _username_problem(user: MonolithUser, names: dict[str, int]) -> tuple[str, str] | None:
    if not user.username:
        return "username_missing", "has no username"
    if not USERNAME.fullmatch(user.username):
        return "username_invalid", f"{user.username!r} is not 3 to 32 of letters, digits, '_', '.', '-'"
    keeper = names[user.username.casefold()]
    if keeper != user.id:
        return "username_duplicate", f"{user.username!r} is user {keeper}'s username but for letter case"
    return None


def _email_problem(user: MonolithUser, email: str | None, keeper: int | None) -> tuple[str, str] | None:
    if not user.email or not user.email.strip():
        return "email_missing", "has no email"
    if email is None:
        return "email_invalid", f"{user.email!r} is not a valid email address"
    if keeper != user.id:
        return "email_duplicate", f"{user.email!r} is user {keeper}'s email but for letter case"
    return None


def review_users(users: Sequence[MonolithUser], *, email_verified: bool, merge_emails: bool) -> list[UserReview]:
    """Every user with its problems and its fixed form. With merge_emails, a user whose email differs only in
    case from another's is merged into the one who keeps the address (their cigars go to that account)."""
    emails = {u.id: _email(u) for u in users}
    email_keepers = _claims(users, {i: e.lower() if e else None for i, e in emails.items()})
    valid_names = {u.id: u.username.casefold() if u.username and USERNAME.fullmatch(u.username) else None
                   for u in users}  # fmt: skip
    names = _claims(users, valid_names)
    taken = set(names)
    reviews = []
    for user in sorted(users, key=lambda u: u.id):
        email = emails[user.id]
        keeper = email_keepers.get(email.lower()) if email else None
        if merge_emails and keeper is not None and keeper != user.id:
            reviews.append(UserReview(user, (), None, merge_into=keeper))
            continue
        problems = []
        if not usable_hash(user):  # the value is never shown: it may be a password stored in clear
            what = "is not a bcrypt hash" if user.hashed_password else "is missing"
            problems.append(Problem("password_hash_invalid", f"the password hash {what}", None))
        username = user.username or ""
        if found := _username_problem(user, names):
            username = _free_name(_name_base(user.username, user.id), user.id, taken)
            problems.append(Problem(*found, f"renamed {username!r}"))
        if found := _email_problem(user, email, keeper):
            email = placeholder_email(user.id)
            problems.append(Problem(*found, f"given the undeliverable {email!r}; they can change it once logged in"))
        fixed = None
        if usable_hash(user):
            assert user.hashed_password is not None and email is not None  # noqa: S101 (narrowing for mypy)
            verified = email_verified and not email.endswith("@" + PLACEHOLDER_DOMAIN)
            fixed = AdoptedUser(user.id, username, email, user.hashed_password, verified)
        reviews.append(UserReview(user, tuple(problems), fixed))
    return reviews
