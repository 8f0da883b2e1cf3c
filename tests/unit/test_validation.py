"""Input rules of both services: every violation reported, each naming its field."""

from __future__ import annotations

import pytest

from auth_service.domain import InvalidInput as AuthInvalidInput
from auth_service.validation import check_registration
from collection_service.domain import CigarFields
from collection_service.domain import InvalidInput as CollectionInvalidInput
from collection_service.validation import check_cigar, check_page


def fields_of(exc: pytest.ExceptionInfo) -> set[str]:
    return {v.field for v in exc.value.violations}


def test_a_valid_registration_returns_the_normalised_email() -> None:
    assert check_registration("alice_1", "Alice@Example.COM", "long enough") == "Alice@example.com"


@pytest.mark.parametrize(
    ("username", "email", "password", "bad"),
    [
        ("ab", "a@example.com", "long enough", {"username"}),
        ("a" * 33, "a@example.com", "long enough", {"username"}),
        ("with space", "a@example.com", "long enough", {"username"}),
        ("alice", "not-an-email", "long enough", {"email"}),
        ("alice", "a@example.com", "short", {"password"}),
        ("alice", "a@example.com", "x" * 129, {"password"}),
        ("", "", "", {"username", "email", "password"}),
    ],
)
def test_registration_violations_name_their_fields(username: str, email: str, password: str, bad: set[str]) -> None:
    with pytest.raises(AuthInvalidInput) as exc:
        check_registration(username, email, password)
    assert fields_of(exc) == bad


def cigar(**overrides: object) -> CigarFields:
    values = {"name": "Robusto", "brand": "Padrón", "origin": "", "flavor_notes": "", "rating": 3, **overrides}
    return CigarFields(**values)  # type: ignore[arg-type]


def test_a_valid_cigar_passes_unchanged_including_unicode() -> None:
    fields = cigar(name="Ñandú 日本 🚬", flavor_notes="x" * 2000, origin="o" * 100)
    assert check_cigar(fields) is fields


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"name": ""}, {"name"}),
        ({"brand": "   "}, {"brand"}),
        ({"name": "n" * 101}, {"name"}),
        ({"origin": "o" * 101}, {"origin"}),
        ({"flavor_notes": "f" * 2001}, {"flavor_notes"}),
        ({"rating": 0}, {"rating"}),
        ({"rating": 6}, {"rating"}),
        ({"name": "nul\x00byte"}, {"name"}),
        ({"name": "", "brand": "", "rating": -1}, {"name", "brand", "rating"}),
    ],
)
def test_cigar_violations_name_their_fields(overrides: dict, bad: set[str]) -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        check_cigar(cigar(**overrides))
    assert fields_of(exc) == bad


@pytest.mark.parametrize(("skip", "limit", "expected"), [(0, None, (0, 10)), (5, 1, (5, 1)), (0, 100, (0, 100))])
def test_paging_defaults_and_bounds(skip: int, limit: int | None, expected: tuple[int, int]) -> None:
    assert check_page(skip, limit) == expected


@pytest.mark.parametrize(
    ("skip", "limit", "bad"), [(-1, None, {"skip"}), (0, 0, {"limit"}), (-5, 101, {"skip", "limit"})]
)
def test_paging_out_of_range_is_invalid(skip: int, limit: int, bad: set[str]) -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        check_page(skip, limit)
    assert fields_of(exc) == bad
