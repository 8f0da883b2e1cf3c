"""AuthService over gRPC: protobuf in, one use case, protobuf out; errors go to errors.py."""

from __future__ import annotations

from cigar.auth.v1 import auth_pb2, auth_pb2_grpc

from service_kit.interceptors import ServicerContext
from service_kit.metadata import caller_token

from ..app.logout import Logout
from ..app.password_grant import PasswordGrant
from ..app.password_reset import PasswordReset
from ..app.profile import Profiles
from ..app.registration import Registration
from ..app.resend import VerificationResend
from ..app.sessions import Sessions
from ..app.verification import EmailVerification
from ..domain import Cigar, User
from .peer import ClientAddresses


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
        registration: Registration,
        grant: PasswordGrant,
        profiles: Profiles,
        verification: EmailVerification,
        jwks: list[dict[str, str]],
        addresses: ClientAddresses,
        sessions: Sessions,
        logout: Logout,
        metadata: auth_pb2.AuthorizationServerMetadata,
        reset: PasswordReset,
        resend: VerificationResend,
    ) -> None:
        self._registration = registration
        self._grant = grant
        self._profiles = profiles
        self._verification = verification
        self._addresses = addresses
        self._sessions = sessions
        self._logout = logout
        self._metadata = metadata
        self._reset = reset
        self._resend = resend
        self._jwks = auth_pb2.GetJwksResponse(keys=[auth_pb2.Jwk(**k) for k in jwks])

    async def CreateUser(self, request: auth_pb2.CreateUserRequest, context: ServicerContext) -> auth_pb2.User:
        user = await self._registration.register(request.username, request.email, request.password)
        return _user_pb(user, [])

    async def Token(self, request: auth_pb2.TokenRequest, context: ServicerContext) -> auth_pb2.TokenResponse:
        address = self._addresses.of(context)
        issued = await self._grant.issue_token(
            request.grant_type, request.username, request.password, address, request.refresh_token
        )
        return auth_pb2.TokenResponse(
            access_token=issued.access_token, token_type=issued.token_type, expires_in=issued.expires_in,
            refresh_token=issued.refresh_token,
        )  # fmt: skip

    async def Revoke(self, request: auth_pb2.RevokeRequest, context: ServicerContext) -> auth_pb2.RevokeResponse:
        await self._sessions.revoke(request.token)
        return auth_pb2.RevokeResponse()

    async def Logout(self, request: auth_pb2.LogoutRequest, context: ServicerContext) -> auth_pb2.LogoutResponse:
        await self._logout.logout(caller_token(context))
        return auth_pb2.LogoutResponse()

    async def LogoutAll(
        self, request: auth_pb2.LogoutAllRequest, context: ServicerContext
    ) -> auth_pb2.LogoutAllResponse:
        await self._logout.logout_all(caller_token(context))
        return auth_pb2.LogoutAllResponse()

    async def RequestPasswordReset(
        self, request: auth_pb2.RequestPasswordResetRequest, context: ServicerContext
    ) -> auth_pb2.RequestPasswordResetResponse:
        await self._reset.request(request.email, self._addresses.of(context))
        return auth_pb2.RequestPasswordResetResponse()

    async def ConfirmPasswordReset(
        self, request: auth_pb2.ConfirmPasswordResetRequest, context: ServicerContext
    ) -> auth_pb2.ConfirmPasswordResetResponse:
        await self._reset.confirm(request.token, request.new_password)
        return auth_pb2.ConfirmPasswordResetResponse()

    async def ResendVerification(
        self, request: auth_pb2.ResendVerificationRequest, context: ServicerContext
    ) -> auth_pb2.ResendVerificationResponse:
        await self._resend.resend(caller_token(context))
        return auth_pb2.ResendVerificationResponse()

    async def GetAuthorizationServerMetadata(
        self, request: auth_pb2.GetAuthorizationServerMetadataRequest, context: ServicerContext
    ) -> auth_pb2.AuthorizationServerMetadata:
        return self._metadata

    async def GetMe(self, request: auth_pb2.GetMeRequest, context: ServicerContext) -> auth_pb2.User:
        profile = await self._profiles.get_me(caller_token(context))
        return _user_pb(profile.user, profile.cigars)

    async def UpdateMe(self, request: auth_pb2.UpdateMeRequest, context: ServicerContext) -> auth_pb2.User:
        email = request.email if request.HasField("email") else None
        profile = await self._profiles.update_me(
            caller_token(context), email, request.current_password, self._addresses.of(context)
        )
        return _user_pb(profile.user, profile.cigars)

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: ServicerContext
    ) -> auth_pb2.ChangePasswordResponse:
        await self._profiles.change_password(
            caller_token(context), request.current_password, request.new_password, self._addresses.of(context)
        )
        return auth_pb2.ChangePasswordResponse()

    async def DeleteMe(self, request: auth_pb2.DeleteMeRequest, context: ServicerContext) -> auth_pb2.DeleteMeResponse:
        await self._profiles.delete_me(caller_token(context), request.current_password, self._addresses.of(context))
        return auth_pb2.DeleteMeResponse()

    async def VerifyEmail(self, request: auth_pb2.VerifyEmailRequest, context: ServicerContext) -> auth_pb2.User:
        user = await self._verification.verify(request.token)
        return _user_pb(user, [])

    async def GetJwks(self, request: auth_pb2.GetJwksRequest, context: ServicerContext) -> auth_pb2.GetJwksResponse:
        return self._jwks
