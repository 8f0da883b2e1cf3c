"""Input rules for cigars, patches, filters and pages; every violation is reported at once, naming its field."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ..domain import PATCHABLE, CigarFields, CigarFilter, CigarPatch, FieldViolation, InvalidInput, PageRequest

TEXT_LIMITS = {"name": 100, "brand": 100, "origin": 100, "flavor_notes": 2000}
REQUIRED_TEXT = ("name", "brand")
RATING_MIN, RATING_MAX = 1, 5
LIMIT_DEFAULT, LIMIT_MAX = 10, 100
FILTER_TEXT_LIMIT = 100


def _text_violation(name: str, value: str) -> FieldViolation | None:
    if name in REQUIRED_TEXT and not value.strip():
        return FieldViolation(name, "is required and must not be blank")
    if len(value) > TEXT_LIMITS[name]:
        return FieldViolation(name, f"must be at most {TEXT_LIMITS[name]} characters")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it rather than fail later
        return FieldViolation(name, "must not contain NUL characters")
    return None


def _field_violations(values: Mapping[str, str | int]) -> list[FieldViolation]:
    violations = []
    for name, value in values.items():
        if name == "rating":
            if not RATING_MIN <= int(value) <= RATING_MAX:
                violations.append(FieldViolation("rating", f"must be an integer from {RATING_MIN} to {RATING_MAX}"))
        elif (v := _text_violation(name, str(value))) is not None:
            violations.append(v)
    return violations


def _raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        raise InvalidInput(violations)


def cigar_violations(fields: CigarFields) -> list[FieldViolation]:
    """Every rule a new cigar breaks, each naming its field (empty when it may be stored)."""
    return _field_violations({name: getattr(fields, name) for name in PATCHABLE})


def check_cigar(fields: CigarFields) -> CigarFields:
    _raise_if(cigar_violations(fields))
    return fields


def build_patch(values: Mapping[str, str | int], present: Collection[str], mask: Sequence[str]) -> CigarPatch:
    """The change an UpdateCigar request asks for. No mask (REST): the present fields. A mask (gRPC,
    AIP-134): exactly the named fields, absent ones meaning their empty value; "*" names all."""
    if not mask:
        chosen = [name for name in PATCHABLE if name in present]
    elif list(mask) == ["*"]:
        chosen = list(PATCHABLE)
    else:
        unknown = [path for path in mask if path not in PATCHABLE]
        _raise_if(
            [FieldViolation("update_mask", f"unknown or read-only field {p!r}; allowed: {', '.join(PATCHABLE)}")
             for p in unknown]
        )  # fmt: skip
        chosen = [name for name in PATCHABLE if name in mask]
    return CigarPatch(**{name: values[name] for name in chosen})  # type: ignore[arg-type]


def check_patch(patch: CigarPatch) -> CigarPatch:
    _raise_if(_field_violations(patch.changes()))
    return patch


def check_filter(f: CigarFilter) -> CigarFilter:
    violations = []
    if f.owner_id < 0:
        violations.append(FieldViolation("owner_id", "must be a user id (1 or more)"))
    if f.min_rating and not RATING_MIN <= f.min_rating <= RATING_MAX:
        violations.append(FieldViolation("min_rating", f"must be from {RATING_MIN} to {RATING_MAX}"))
    for name in ("brand", "origin", "q"):
        value = getattr(f, name)
        if len(value) > FILTER_TEXT_LIMIT or "\x00" in value:
            violations.append(FieldViolation(name, f"must be at most {FILTER_TEXT_LIMIT} characters, without NUL"))
    _raise_if(violations)
    return f


def page_size(page: PageRequest) -> int:
    """skip >= 0; limit 1..100 (10 when absent); page_size 0 = default, above 100 = 100 (AIP-158)."""
    violations = []
    if page.skip < 0:
        violations.append(FieldViolation("skip", "must be 0 or more"))
    if page.limit is not None and not 1 <= page.limit <= LIMIT_MAX:
        violations.append(FieldViolation("limit", f"must be from 1 to {LIMIT_MAX}"))
    if page.page_size < 0:
        violations.append(FieldViolation("page_size", "must be 0 or more"))
    if page.limit is not None and page.page_size:
        violations.append(FieldViolation("page_size", "set page_size or limit, not both"))
    _raise_if(violations)
    if page.page_size:
        return min(page.page_size, LIMIT_MAX)
    return LIMIT_DEFAULT if page.limit is None else page.limit
