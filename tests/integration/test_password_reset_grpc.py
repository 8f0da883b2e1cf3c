"""Password reset and verification resend through real gRPC servers on SQLite and PostgreSQL: mailed through the
outbox, single use, throttled, never telling who has an account."""

from __future__ import annotations

import asyncio
import re
import uuid

import grpc
import pytest
from cigar.auth.v1 import auth_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.conftest import Services, as_gateway, bearer
from tests.integration.test_auth_grpc import details
from tests.integration.test_sessions_grpc import PASSWORD, collection_status, login, refused_refresh

NEW = "a brand new passphrase"
_addresses = iter(range(1, 250))


def unique() -> str:
    return f"reset_{uuid.uuid4().hex[:8]}"


def new_address() -> tuple[tuple[str, str], ...]:
    """A client address of its own (as the gateway reports it): the per-address limit is per test."""
    return as_gateway(f"198.51.{uuid.uuid4().int % 250}.{next(_addresses)}")


RESET, VERIFY = "set a new password", "confirm your email address"


def sent(services: Services, email: str, kind: str) -> list[str]:
    return [body for to, body in services.mail.sent if to == email and kind in body]


async def mails_to(services: Services, email: str, count: int, kind: str = RESET) -> list[str]:
    """The bodies of the mails of a kind sent to `email`, once there are `count` of them (sent after the answer,
    within 5 seconds)."""
    for _ in range(100):
        bodies = sent(services, email, kind)
        if len(bodies) >= count:
            return bodies
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} mail(s) to {email} expected, got {len(bodies)}")


def token_in(body: str) -> str:
    return re.search(r"^\s*([A-Za-z0-9_-]{40,})\s*$", body, re.MULTILINE).group(1)  # type: ignore[union-attr]


async def request_reset(services: Services, email: str, address: tuple[tuple[str, str], ...]) -> None:
    await services.auth.RequestPasswordReset(auth_pb2.RequestPasswordResetRequest(email=email), metadata=address)


async def confirm(services: Services, token: str, password: str = NEW) -> None:
    await services.auth.ConfirmPasswordReset(auth_pb2.ConfirmPasswordResetRequest(token=token, new_password=password))


async def refused_confirm(services: Services, token: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await confirm(services, token)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return details(err.value)["ErrorInfo"].reason  # type: ignore[attr-defined,no-any-return]


def retry_delay(exc: grpc.aio.AioRpcError) -> int:
    status = rpc_status.from_call(exc)
    for any_ in status.details if status else []:
        if any_.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            any_.Unpack(info)
            return info.retry_delay.seconds
    raise AssertionError("no RetryInfo")


async def test_a_reset_sets_the_new_password_once_and_ends_every_session(services: Services) -> None:
    name = unique()
    await services.register(name)
    session = await login(services, name)
    await request_reset(services, f"{name.upper()}@EXAMPLE.COM", new_address())  # any letter case
    [body] = await mails_to(services, f"{name}@example.com", 1)
    token = token_in(body)
    await confirm(services, token)
    assert await refused_confirm(services, token) == "invalid_reset_token"  # single use
    assert await refused_refresh(services, session.refresh_token) == "invalid_grant"
    assert await collection_status(services, session.access_token) == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError):
        await login(services, name, PASSWORD)
    assert (await login(services, name, NEW)).access_token


async def test_an_unknown_address_is_answered_alike_and_mailed_nothing(services: Services) -> None:
    before = len(services.mail.sent)
    reply = await services.auth.RequestPasswordReset(
        auth_pb2.RequestPasswordResetRequest(email=f"{unique()}@example.com"), metadata=new_address()
    )
    assert reply == auth_pb2.RequestPasswordResetResponse()
    await asyncio.sleep(0.5)  # what a mail would take through the outbox
    assert len(services.mail.sent) == before


async def test_an_account_gets_a_few_reset_mails_per_window_then_none_silently(services: Services) -> None:
    name = unique()
    await services.register(name)
    email = f"{name}@example.com"
    for _ in range(3):
        await request_reset(services, email, new_address())
    await mails_to(services, email, 3)
    await request_reset(services, email, new_address())  # answered as always ...
    await asyncio.sleep(0.5)
    assert len(sent(services, email, RESET)) == 3  # ... but not mailed


async def test_a_client_address_that_asks_too_often_is_told_when_to_come_back(services: Services) -> None:
    address = new_address()
    for _ in range(10):
        await request_reset(services, f"{unique()}@example.com", address)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await request_reset(services, f"{unique()}@example.com", address)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert 0 < retry_delay(err.value) <= 3600


async def test_a_reset_token_is_void_after_a_password_change_and_bad_input_names_the_field(
    services: Services,
) -> None:
    name = unique()
    await services.register(name)
    await request_reset(services, f"{name}@example.com", new_address())
    [body] = await mails_to(services, f"{name}@example.com", 1)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await confirm(services, token_in(body), "short")
    assert {v.field for v in details(err.value)["BadRequest"].field_violations} == {"new_password"}  # type: ignore[attr-defined]
    session = await login(services, name)
    await services.auth.ChangePassword(
        auth_pb2.ChangePasswordRequest(current_password=PASSWORD, new_password="another new passphrase"),
        metadata=bearer(session.access_token),
    )
    assert await refused_confirm(services, token_in(body)) == "invalid_reset_token"
    assert await refused_confirm(services, "x" * 43) == "invalid_reset_token"


async def test_a_verification_resend_mails_a_working_token_and_is_throttled(services: Services) -> None:
    name = unique()
    await services.register(name)
    email = f"{name}@example.com"
    await mails_to(services, email, 1, VERIFY)  # the registration's
    token = (await login(services, name)).access_token
    for _ in range(3):
        await services.auth.ResendVerification(auth_pb2.ResendVerificationRequest(), metadata=bearer(token))
    bodies = await mails_to(services, email, 4, VERIFY)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.ResendVerification(auth_pb2.ResendVerificationRequest(), metadata=bearer(token))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    user = await services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=token_in(bodies[-1])))
    assert user.email_verified
    with pytest.raises(grpc.aio.AioRpcError) as err:  # the resend's token is single-use like any
        await services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=token_in(bodies[-1])))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_verified_user_is_told_there_is_nothing_to_resend(services: Services) -> None:
    name = unique()
    await services.register(name)
    email_token = await services.verification_token(f"{name}@example.com")
    await services.auth.VerifyEmail(auth_pb2.VerifyEmailRequest(token=email_token))
    token = (await login(services, name)).access_token
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await services.auth.ResendVerification(auth_pb2.ResendVerificationRequest(), metadata=bearer(token))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)["ErrorInfo"].reason == "email_already_verified"  # type: ignore[attr-defined]


async def test_a_reset_token_is_void_after_an_email_change_and_a_reset_verifies_the_address(
    services: Services,
) -> None:
    name = unique()
    await services.register(name)
    await request_reset(services, f"{name}@example.com", new_address())
    [old_mailbox] = await mails_to(services, f"{name}@example.com", 1)
    session = await login(services, name)
    await services.auth.UpdateMe(
        auth_pb2.UpdateMeRequest(email=f"{name}@new.example.com", current_password=PASSWORD),
        metadata=bearer(session.access_token),
    )
    # whoever still reads the former address cannot take the account back
    assert await refused_confirm(services, token_in(old_mailbox)) == "invalid_reset_token"
    await request_reset(services, f"{name}@new.example.com", new_address())
    [new_mailbox] = await mails_to(services, f"{name}@new.example.com", 1)
    await confirm(services, token_in(new_mailbox))
    fresh = await login(services, name, NEW)
    me = await services.auth.GetMe(auth_pb2.GetMeRequest(), metadata=bearer(fresh.access_token))
    assert me.email == f"{name}@new.example.com" and me.email_verified  # the reset mail proved the address
