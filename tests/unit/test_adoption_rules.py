"""The monolith's rows against our rules: what is a problem, what fixing stores, what cannot be fixed."""

from __future__ import annotations

import bcrypt

from auth_service.app.adoption_rules import placeholder_email, review_users
from auth_service.domain import MonolithUser
from collection_service.app.adoption_rules import review_cigar
from collection_service.domain import CigarFields, MonolithCigar

HASH = bcrypt.hashpw(b"pw-secret", bcrypt.gensalt(rounds=4)).decode()


def user(
    user_id: int, username: str | None = None, email: str | None = None, hashed: str | None = HASH
) -> MonolithUser:
    name = f"user{user_id}" if username is None else username
    return MonolithUser(user_id, name or None, email if email is not None else f"user{user_id}@example.com", hashed)


def reviewed(*users: MonolithUser, merge: bool = False, verified: bool = False) -> dict[int, object]:
    return {r.source.id: r for r in review_users(users, email_verified=verified, merge_emails=merge)}


def kinds(review: object) -> list[str]:
    return [p.kind for p in review.problems]  # type: ignore[attr-defined]


def test_a_clean_user_is_stored_as_it_is_with_its_id_and_bcrypt_hash() -> None:
    [review] = reviewed(user(7, "Ana.Maria-1", "Ana@Example.COM")).values()
    assert kinds(review) == []
    assert (review.fixed.id, review.fixed.username, review.fixed.hashed_password) == (7, "Ana.Maria-1", HASH)
    assert review.fixed.email == "Ana@example.com"  # the domain lower-cased, as registration stores it
    assert review.fixed.email_verified is False


def test_invalid_and_missing_usernames_are_renamed_into_our_alphabet() -> None:
    found = reviewed(user(10, "josé garcía"), user(11, "ab"), user(12, ""), user(13, "x" * 40))
    assert [kinds(found[i]) for i in (10, 11, 12, 13)] == [
        ["username_invalid"],
        ["username_invalid"],
        ["username_missing"],
        ["username_invalid"],
    ]
    assert [found[i].fixed.username for i in (10, 11, 12, 13)] == ["jose_garcia", "user_11", "user_12", "x" * 24]


def test_the_lowest_id_keeps_a_name_that_differs_only_in_case_and_a_fix_never_takes_a_valid_name() -> None:
    found = reviewed(user(5, "Alice"), user(9, "alice"), user(12, "alice_9"), user(14, "alice 9"))
    assert kinds(found[5]) == [] and found[5].fixed.username == "Alice"
    assert kinds(found[9]) == ["username_duplicate"] and found[9].fixed.username == "alice_9_2"
    assert found[12].fixed.username == "alice_9"  # valid as it is: the fix of user 9 went around it
    assert found[14].fixed.username == "alice_9_14"


def test_a_user_who_cannot_be_imported_does_not_keep_a_name_from_one_who_can() -> None:
    found = reviewed(user(1, "bob", hashed=None), user(2, "Bob"))
    assert kinds(found[2]) == [] and found[2].fixed.username == "Bob"
    assert kinds(found[1]) == ["password_hash_invalid", "username_duplicate"] and found[1].fixed is None


def test_invalid_missing_and_case_duplicate_emails_get_an_undeliverable_placeholder_never_verified() -> None:
    found = reviewed(
        user(3, email="not-an-email"), user(4, email=""), user(5, email="carol@example.com"),
        user(6, email="Carol@example.com"), verified=True,
    )  # fmt: skip
    assert [kinds(found[i]) for i in (3, 4, 5, 6)] == [["email_invalid"], ["email_missing"], [], ["email_duplicate"]]
    assert [found[i].fixed.email for i in (3, 4, 6)] == [
        placeholder_email(3),
        placeholder_email(4),
        placeholder_email(6),
    ]
    assert [found[i].fixed.email_verified for i in (3, 4, 5, 6)] == [False, False, True, False]


def test_with_consent_a_case_duplicate_email_merges_into_the_user_who_keeps_it() -> None:
    found = reviewed(user(5, email="carol@example.com"), user(6, email="CAROL@example.com"), merge=True)
    assert found[6].merge_into == 5 and found[6].fixed is None and kinds(found[6]) == []
    assert found[5].merge_into is None


def test_a_missing_or_non_bcrypt_hash_cannot_be_fixed_and_is_never_shown() -> None:
    found = reviewed(user(1, hashed=None), user(2, hashed="hunter2-in-clear"))
    for review in found.values():
        assert kinds(review) == ["password_hash_invalid"] and review.fixed is None
        assert review.problems[0].fix is None
    assert "hunter2" not in found[2].problems[0].detail


def cigar(**changes: object) -> MonolithCigar:
    fields: dict[str, object] = {"id": 1, "name": "Robusto", "brand": "Padrón", "origin": "Nicaragua",
                                 "flavor_notes": "cocoa", "rating": 4, "owner_id": 2}  # fmt: skip
    return MonolithCigar(**(fields | changes))  # type: ignore[arg-type]


def test_a_clean_cigar_is_stored_as_it_is() -> None:
    review = review_cigar(cigar(name="Ñandú 日本 🚬"))
    assert review.problems == () and review.fixed == CigarFields("Ñandú 日本 🚬", "Padrón", "Nicaragua", "cocoa", 4)


def test_missing_text_gets_a_placeholder_or_empty_text_and_long_text_is_cut() -> None:
    review = review_cigar(cigar(name="  ", brand=None, origin=None, flavor_notes="é" * 2500))
    assert [p.kind for p in review.problems] == ["name_missing", "brand_missing", "text_null", "text_too_long"]
    assert review.fixed == CigarFields("(no name)", "(no brand)", "", "é" * 2000, 4)


def test_nul_characters_are_removed() -> None:
    review = review_cigar(cigar(name="Cohiba\x00Siglo"))
    assert [p.kind for p in review.problems] == ["nul_character"] and review.fixed.name == "CohibaSiglo"  # type: ignore[union-attr]


def test_ratings_outside_one_to_five_are_clamped_and_missing_or_non_numbers_cannot_be_fixed() -> None:
    assert [review_cigar(cigar(rating=r)).fixed.rating for r in (0, -3, 7, "5", 3.0)] == [1, 1, 5, 5, 3]  # type: ignore[union-attr]
    for rating, kind in ((None, "rating_missing"), ("good", "rating_not_a_number"), (4.5, "rating_not_a_number")):
        review = review_cigar(cigar(rating=rating))
        assert review.fixed is None and [p.kind for p in review.problems] == [kind]
