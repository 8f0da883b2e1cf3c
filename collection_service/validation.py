"""Input rules for cigars and pages; every violation is reported at once, each naming its field."""

from __future__ import annotations

from .domain import CigarFields, FieldViolation, InvalidInput

TEXT_LIMITS = {"name": 100, "brand": 100, "origin": 100, "flavor_notes": 2000}
REQUIRED_TEXT = ("name", "brand")
RATING_MIN, RATING_MAX = 1, 5
LIMIT_DEFAULT, LIMIT_MAX = 10, 100


def check_cigar(fields: CigarFields) -> CigarFields:
    violations = []
    for name, limit in TEXT_LIMITS.items():
        value = getattr(fields, name)
        if name in REQUIRED_TEXT and not value.strip():
            violations.append(FieldViolation(name, "is required and must not be blank"))
        elif len(value) > limit:
            violations.append(FieldViolation(name, f"must be at most {limit} characters"))
        elif "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it rather than fail later
            violations.append(FieldViolation(name, "must not contain NUL characters"))
    if not RATING_MIN <= fields.rating <= RATING_MAX:
        violations.append(FieldViolation("rating", f"must be an integer from {RATING_MIN} to {RATING_MAX}"))
    if violations:
        raise InvalidInput(violations)
    return fields


def check_page(skip: int, limit: int | None) -> tuple[int, int]:
    """skip >= 0; limit 1..100, 10 when absent. Returns (skip, limit)."""
    violations = []
    if skip < 0:
        violations.append(FieldViolation("skip", "must be 0 or more"))
    if limit is not None and not 1 <= limit <= LIMIT_MAX:
        violations.append(FieldViolation("limit", f"must be from 1 to {LIMIT_MAX}"))
    if violations:
        raise InvalidInput(violations)
    return skip, LIMIT_DEFAULT if limit is None else limit
