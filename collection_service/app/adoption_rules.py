"""The monolith's cigars checked against our cigar rules, and what fixing each problem would store."""

from __future__ import annotations

from ..domain import CigarFields, CigarReview, MonolithCigar, Problem
from .rules import RATING_MAX, RATING_MIN, REQUIRED_TEXT, TEXT_LIMITS

PLACEHOLDERS = {"name": "(no name)", "brand": "(no brand)"}  # plainly not real, for the owner to correct


def _rating(value: object) -> tuple[int | None, list[Problem]]:
    if value is None or value == "":
        return None, [Problem("rating_missing", "has no rating", None)]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, [Problem("rating_not_a_number", f"rating {value!r} is not a number", None)]
    try:
        number = float(value)
    except ValueError:
        return None, [Problem("rating_not_a_number", f"rating {value!r} is not a number", None)]
    if not number.is_integer():
        return None, [Problem("rating_not_a_number", f"rating {value!r} is not a whole number", None)]
    rating = int(number)
    if RATING_MIN <= rating <= RATING_MAX:
        return rating, []
    clamped = min(max(rating, RATING_MIN), RATING_MAX)
    return clamped, [Problem("rating_out_of_range", f"rating {rating} is not {RATING_MIN} to {RATING_MAX}",
                             f"set to {clamped}")]  # fmt: skip


def _missing(name: str) -> Problem:
    return Problem(f"{name}_missing", f"has no {name}", f"set to {PLACEHOLDERS[name]!r}")


def _text(name: str, value: object) -> tuple[str, list[Problem]]:
    if name in REQUIRED_TEXT and (value is None or not str(value).replace("\x00", "").strip()):
        return PLACEHOLDERS[name], [_missing(name)]
    if value is None:
        return "", [Problem("text_null", f"{name} is NULL", "stored as empty text, as the API reads it back")]
    text, problems = str(value), []
    if "\x00" in text:
        text = text.replace("\x00", "")
        problems.append(Problem("nul_character", f"{name} holds NUL characters", "NUL characters removed"))
    limit = TEXT_LIMITS[name]
    if len(text) > limit:
        problems.append(Problem("text_too_long", f"{name} has {len(text)} characters, at most {limit} fit",
                                f"cut to the first {limit} characters"))  # fmt: skip
        text = text[:limit]
    return text, problems


def review_cigar(cigar: MonolithCigar) -> CigarReview:
    """The cigar's own problems (its owner is the importer's concern: the users are another service's)."""
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for name in ("name", "brand", "origin", "flavor_notes"):
        values[name], found = _text(name, getattr(cigar, name))
        problems += found
    rating, found = _rating(cigar.rating)
    problems += found
    fixed = None if rating is None else CigarFields(rating=rating, **values)
    return CigarReview(cigar, tuple(problems), fixed)
