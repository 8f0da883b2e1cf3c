"""Authorization server metadata (RFC 8414): what an OAuth2 client library needs to find the endpoints."""

from __future__ import annotations

from cigar.auth.v1 import auth_pb2


def authorization_server_metadata(public_url: str) -> auth_pb2.AuthorizationServerMetadata:
    """The endpoints as clients reach them through the gateway at `public_url`. A public client: no client
    authentication anywhere ("none"), and no authorization endpoint, so no response types."""
    base = public_url.rstrip("/")
    return auth_pb2.AuthorizationServerMetadata(
        issuer=base,
        token_endpoint=f"{base}/token",
        revocation_endpoint=f"{base}/revoke",
        jwks_uri=f"{base}/.well-known/jwks.json",
        grant_types_supported=["password", "refresh_token"],
        response_types_supported=[],
        token_endpoint_auth_methods_supported=["none"],
        revocation_endpoint_auth_methods_supported=["none"],
        scopes_supported=[],
    )
