"""Password hashing: argon2id at OWASP parameters, bcrypt still verifies, unknown users cost a verify."""

from __future__ import annotations

import bcrypt

from auth_service.adapters.passwords import ARGON2_MEMORY_KIB, ARGON2_TIME_COST, PasslibHasher


async def test_hashes_are_argon2id_at_owasp_parameters() -> None:
    hasher = PasslibHasher(workers=1)
    hashed = await hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    params = dict(p.split("=") for p in hashed.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert (int(params["m"]), int(params["t"])) == (ARGON2_MEMORY_KIB, ARGON2_TIME_COST)
    hasher.close()


async def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    hasher = PasslibHasher(workers=1)
    hashed = await hasher.hash("correct horse battery")
    assert await hasher.verify("correct horse battery", hashed)
    assert not await hasher.verify("correct horse battery!", hashed)
    hasher.close()


async def test_bcrypt_hashes_from_the_seed_database_still_verify() -> None:
    hasher = PasslibHasher(workers=1)
    legacy = bcrypt.hashpw(b"testpassword", bcrypt.gensalt(rounds=4)).decode()
    assert await hasher.verify("testpassword", legacy)
    assert not await hasher.verify("wrong", legacy)
    hasher.close()


async def test_an_unknown_user_never_verifies_even_with_the_dummy_password() -> None:
    hasher = PasslibHasher(workers=1)
    assert not await hasher.verify("not-a-real-password", None)
    hasher.close()


async def test_a_password_longer_than_passlib_accepts_is_simply_wrong_never_an_error() -> None:
    # The use cases refuse it first (a field violation); this is the adapter's own guarantee for any caller.
    hasher = PasslibHasher(workers=1)
    hashed = await hasher.hash("correct horse battery")
    assert await hasher.verify_and_update("x" * 5000, hashed) == (False, None)
    assert await hasher.verify_and_update("x" * 5000, None) == (False, None)
    hasher.close()
