"""Brute-force defence over gRPC with the counters in a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from cigar.auth.v1 import auth_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.conftest import Services, as_gateway, code_of


def unique(prefix: str = "thr") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def address() -> str:
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def attempt(
    services: Services, name: str, password: str, client: str, metadata: tuple[tuple[str, str], ...] | None = None
) -> grpc.StatusCode:
    """One login, as the gateway passes it on for a REST client at `client` (or with the metadata given)."""
    return await code_of(
        services.auth.Token(
            auth_pb2.TokenRequest(grant_type="password", username=name, password=password),
            metadata=as_gateway(client) if metadata is None else metadata,
        )
    )


async def test_repeated_failures_from_one_address_are_refused_with_retry_info(services: Services) -> None:
    name, attacker = unique(), address()
    await services.register(name)
    codes = [await attempt(services, name, "wrong password", attacker) for _ in range(5)]
    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * 5
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.Token(
            auth_pb2.TokenRequest(username=name, password="correct horse battery"),
            metadata=as_gateway(attacker),
        )
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(err.value)
    retry = error_details_pb2.RetryInfo()
    assert status is not None and any(d.Unpack(retry) for d in status.details if d.Is(retry.DESCRIPTOR))
    assert 0 < retry.retry_delay.seconds <= 60
    # the owner, from another address, is not affected
    assert await attempt(services, name, "correct horse battery", address()) == grpc.StatusCode.OK


async def test_a_success_resets_the_count_of_failures(services: Services) -> None:
    name, owner = unique(), address()
    await services.register(name)
    for _ in range(3):
        assert await attempt(services, name, "wrong password", owner) == grpc.StatusCode.INVALID_ARGUMENT
    assert await attempt(services, name, "correct horse battery", owner) == grpc.StatusCode.OK
    for _ in range(3):
        assert await attempt(services, name, "wrong password", owner) == grpc.StatusCode.INVALID_ARGUMENT
    assert await attempt(services, name, "correct horse battery", owner) == grpc.StatusCode.OK


async def test_concurrent_failures_on_fresh_counters_are_all_counted_answers_never_internal(
    services: Services,
) -> None:
    name, attacker = unique(), address()
    await services.register(name)
    codes = await asyncio.gather(*(attempt(services, name, f"wrong {i}", attacker) for i in range(4)))
    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * 4
    assert await attempt(services, name, "wrong again", attacker) == grpc.StatusCode.INVALID_ARGUMENT
    assert await attempt(services, name, "correct horse battery", attacker) == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_burst_of_concurrent_guesses_gets_no_more_answers_than_the_policy_allows(services: Services) -> None:
    """Each attempt is claimed in the database before its password is checked: 40 guesses sent at once cost
    40 attempts, so once the pair's lock (5 failures) is reached the rest are refused unchecked."""
    name, attacker = unique(), address()
    await services.register(name)
    codes = await asyncio.gather(*(attempt(services, name, f"wrong {i}", attacker) for i in range(40)))
    assert codes.count(grpc.StatusCode.INVALID_ARGUMENT) == 5
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 35


async def test_concurrent_logins_with_the_right_password_are_never_refused(services: Services) -> None:
    """A script or a service with a pool of workers logs in to one account from one address at once: claimed
    attempts must not add up to a lock (or a delay) against the owner who gets every one of them right."""
    name, owner = unique(), address()
    await services.register(name)
    codes = await asyncio.gather(*(attempt(services, name, "correct horse battery", owner) for _ in range(16)))
    assert codes == [grpc.StatusCode.OK] * 16


async def test_the_right_password_inside_a_burst_of_guesses_gets_no_token_while_the_lock_holds(
    services: Services,
) -> None:
    name, attacker = unique(), address()
    await services.register(name)
    guesses = [attempt(services, name, f"wrong {i}", attacker) for i in range(39)]

    async def right_one_last() -> grpc.StatusCode:
        await asyncio.sleep(0.05)  # queued behind the guesses
        return await attempt(services, name, "correct horse battery", attacker)

    *_, right = await asyncio.gather(*guesses, right_one_last())
    assert right == grpc.StatusCode.RESOURCE_EXHAUSTED
    # the owner, from the address they log in from, is not locked out by the burst
    assert await attempt(services, name, "correct horse battery", address()) == grpc.StatusCode.OK


async def test_successful_logins_do_not_add_up_against_their_address(services: Services) -> None:
    """A claimed attempt that succeeds is taken back from the address's count: an office behind one address
    logging in all day never reaches the address lock (100 failures)."""
    name, office = unique(), address()
    await services.register(name)
    for _ in range(3):
        assert await attempt(services, name, "wrong password", office) == grpc.StatusCode.INVALID_ARGUMENT
        assert await attempt(services, name, "correct horse battery", office) == grpc.StatusCode.OK
    others = [unique() for _ in range(4)]
    for other in others:
        await services.register(other)
    for other in others * 30:
        assert await attempt(services, other, "correct horse battery", office) == grpc.StatusCode.OK


@pytest.mark.parametrize(
    "claim",
    [
        lambda address: (("x-cigar-client-address", address),),  # no secret
        lambda address: (("x-cigar-client-address", address), ("x-cigar-gateway-secret", "guessed" * 8)),
        lambda address: (("x-forwarded-for", address),),  # what any caller could send before
    ],
    ids=["address-without-secret", "wrong-secret", "x-forwarded-for"],
)
async def test_a_caller_that_is_not_the_gateway_cannot_choose_the_address_the_throttle_counts(
    services: Services, claim
) -> None:  # type: ignore[no-untyped-def]
    """An attacker inside the network claims the owner's address for its failures: they land on its own
    address instead, so the owner, logging in from the claimed address, is not locked out."""
    name, owner = unique(), address()
    await services.register(name)
    for _ in range(5):
        assert await attempt(services, name, "wrong password", owner, claim(owner)) == grpc.StatusCode.INVALID_ARGUMENT
    assert await attempt(services, name, "correct horse battery", owner) == grpc.StatusCode.OK
