"""Input rules of both services: every violation reported, each naming its field."""

from __future__ import annotations

import pytest

from auth_service.app.rules import check_registration
from auth_service.domain import InvalidInput as AuthInvalidInput
from collection_service.app.rules import build_patch, check_cigar, check_filter, check_patch, page_size
from collection_service.domain import CigarFields, CigarFilter, CigarPatch, PageRequest
from collection_service.domain import InvalidInput as CollectionInvalidInput


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


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (PageRequest(), 10),
        (PageRequest(skip=5, limit=1), 1),
        (PageRequest(limit=100), 100),
        (PageRequest(page_size=7), 7),
        (PageRequest(page_size=1000), 100),  # AIP-158: coerced to the maximum, not refused
    ],
)
def test_page_size_defaults_and_bounds(page: PageRequest, expected: int) -> None:
    assert page_size(page) == expected


@pytest.mark.parametrize(
    ("page", "bad"),
    [
        (PageRequest(skip=-1), {"skip"}),
        (PageRequest(limit=0), {"limit"}),
        (PageRequest(skip=-5, limit=101), {"skip", "limit"}),
        (PageRequest(page_size=-1), {"page_size"}),
        (PageRequest(limit=5, page_size=5), {"page_size"}),
    ],
)
def test_paging_out_of_range_is_invalid(page: PageRequest, bad: set[str]) -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        page_size(page)
    assert fields_of(exc) == bad


@pytest.mark.parametrize(
    ("f", "bad"),
    [
        (CigarFilter(owner_id=-1), {"owner_id"}),
        (CigarFilter(min_rating=6), {"min_rating"}),
        (CigarFilter(brand="b" * 101, q="\x00"), {"brand", "q"}),
    ],
)
def test_bad_filters_name_their_fields(f: CigarFilter, bad: set[str]) -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        check_filter(f)
    assert fields_of(exc) == bad


VALUES = {"name": "N", "brand": "", "origin": "", "flavor_notes": "", "rating": 0}


def test_without_a_mask_exactly_the_present_fields_change() -> None:
    assert build_patch(VALUES, {"name", "origin"}, []) == CigarPatch(name="N", origin="")


def test_with_a_mask_exactly_the_masked_fields_change_even_if_absent() -> None:
    assert build_patch(VALUES, {"name"}, ["origin"]) == CigarPatch(origin="")


def test_a_wildcard_mask_replaces_every_field_and_absent_required_ones_are_invalid() -> None:
    patch = build_patch(VALUES, {"name"}, ["*"])
    with pytest.raises(CollectionInvalidInput) as exc:
        check_patch(patch)
    assert fields_of(exc) == {"brand", "rating"}


@pytest.mark.parametrize("path", ["owner_id", "id", "nope", "name.x"])
def test_a_mask_naming_a_read_only_or_unknown_field_is_invalid(path: str) -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        build_patch(VALUES, set(), ["name", path])
    assert fields_of(exc) == {"update_mask"}


def test_patched_values_follow_the_create_rules() -> None:
    with pytest.raises(CollectionInvalidInput) as exc:
        check_patch(CigarPatch(name=" ", origin="o" * 101, rating=9))
    assert fields_of(exc) == {"name", "origin", "rating"}
    assert check_patch(CigarPatch(origin="", flavor_notes="日本")).changes() == {"origin": "", "flavor_notes": "日本"}
