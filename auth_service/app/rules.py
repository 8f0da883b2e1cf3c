"""Registration rules; every violation is reported at once, each naming its field."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email

from ..domain import FieldViolation, InvalidInput

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
# Any password given to be checked (a login, the current password): a hard cap well above every password
# that can be set (PASSWORD_MAX; the seed's bcrypt ones included), equal to what passlib accepts at all.
# Past it the answer is a field violation, before any hashing, throttle bookkeeping or database work.
PASSWORD_CHECK_MAX = 4096
EMAIL_MAX = 320


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (the comparison ignores case)."""
    text = resources.files("auth_service").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#"))


def password_violations(password: str, field: str = "password") -> list[FieldViolation]:
    """Length limits, then the common-password list (OWASP ASVS V6: block breached or common passwords)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return [FieldViolation(field, f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")]
    if password.casefold() in common_passwords():
        return [FieldViolation(field, "is too common; choose a password that is not on lists of common passwords")]
    return []


def given_password_violations(password: str, field: str = "password") -> list[FieldViolation]:
    """A password given to be checked against a stored hash: present, and not longer than any could be."""
    if not password:
        return [FieldViolation(field, "is required")]
    if len(password) > PASSWORD_CHECK_MAX:
        return [FieldViolation(field, f"must be at most {PASSWORD_CHECK_MAX} characters")]
    return []


def normalise_email(email: str) -> str:
    """Syntax check only (no DNS), domain lower-cased; raises ValueError with a readable reason."""
    if len(email) > EMAIL_MAX:
        raise ValueError(f"must be at most {EMAIL_MAX} characters")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def check_registration(username: str, email: str, password: str) -> str:
    """Returns the normalised email, or raises InvalidInput listing every violation."""
    violations: list[FieldViolation] = []
    if not USERNAME.fullmatch(username):
        violations.append(FieldViolation("username", "must be 3 to 32 characters of letters, digits, '_', '.', '-'"))
    normalised = ""
    try:
        normalised = normalise_email(email)
    except ValueError as exc:
        violations.append(FieldViolation("email", f"not a valid email address: {exc}"))
    violations.extend(password_violations(password))
    if violations:
        raise InvalidInput(violations)
    return normalised
