"""AuthService over gRPC: protobuf in, service call, protobuf out; errors go to errors.py."""

from __future__ import annotations

import grpc
from cigar.auth.v1 import auth_pb2, auth_pb2_grpc

from .domain import Cigar, User
from .login import TokenService
from .peer import Network, client_address
from .profile import ProfileService
from .services import AuthService
from .verification import EmailVerifier


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for k, v in context.invocation_metadata() or ():
        if k == key:
            return v if isinstance(v, str) else v.decode()
    return None


def _user_pb(user: User, cigars: list[Cigar]) -> auth_pb2.User:
    message = auth_pb2.User(id=user.id, username=user.username, email=user.email, email_verified=user.email_verified)
    add = message.cigars.add  # built in place: a Cigar message passed in would be copied into the list
    for c in cigars:
        add(id=c.id, name=c.name, brand=c.brand, origin=c.origin, flavor_notes=c.flavor_notes, rating=c.rating,
            owner_id=c.owner_id)  # fmt: skip
    return message


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        service: AuthService,
        tokens: TokenService,
        profiles: ProfileService,
        verifier: EmailVerifier,
        jwks: list[dict[str, str]],
        trusted_proxies: list[Network],
    ) -> None:
        self._service = service
        self._profiles = profiles
        self._verifier = verifier
        self._tokens = tokens
        self._trusted_proxies = trusted_proxies
        self._jwks = auth_pb2.GetJwksResponse(keys=[auth_pb2.Jwk(**k) for k in jwks])

    async def CreateUser(self, request: auth_pb2.CreateUserRequest, context: grpc.aio.ServicerContext) -> auth_pb2.User:
        user = await self._service.register_user(request.username, request.email, request.password)
        return _user_pb(user, [])

    async def Token(self, request: auth_pb2.TokenRequest, context: grpc.aio.ServicerContext) -> auth_pb2.TokenResponse:
        address = client_address(context.peer(), _metadata(context, "x-forwarded-for"), self._trusted_proxies)
        issued = await self._tokens.issue_token(request.grant_type, request.username, request.password, address)
        return auth_pb2.TokenResponse(
            access_token=issued.access_token, token_type=issued.token_type, expires_in=issued.expires_in
        )

    async def GetMe(self, request: auth_pb2.GetMeRequest, context: grpc.aio.ServicerContext) -> auth_pb2.User:
        profile = await self._service.get_profile(_metadata(context, "authorization"))
        return _user_pb(profile.user, profile.cigars)

    async def UpdateMe(self, request: auth_pb2.UpdateMeRequest, context: grpc.aio.ServicerContext) -> auth_pb2.User:
        email = request.email if request.HasField("email") else None
        user = await self._profiles.update_me(_metadata(context, "authorization"), email)
        profile = await self._service.get_profile(_metadata(context, "authorization"))
        return _user_pb(user, profile.cigars)

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        await self._profiles.change_password(
            _metadata(context, "authorization"), request.current_password, request.new_password
        )
        return auth_pb2.ChangePasswordResponse()

    async def DeleteMe(
        self, request: auth_pb2.DeleteMeRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.DeleteMeResponse:
        await self._profiles.delete_me(_metadata(context, "authorization"))
        return auth_pb2.DeleteMeResponse()

    async def VerifyEmail(
        self, request: auth_pb2.VerifyEmailRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.User:
        user = await self._verifier.verify(request.token)
        return _user_pb(user, [])

    async def GetJwks(
        self, request: auth_pb2.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetJwksResponse:
        return self._jwks
