"""What a servicer reads from a call's metadata: a header's value, the bearer token."""

from __future__ import annotations

from .interceptors import ServicerContext
from .tokens import bearer_token


def metadata_value(context: ServicerContext, key: str) -> str | None:
    for k, v in context.invocation_metadata() or ():
        if k == key:
            return v if isinstance(v, str) else v.decode()
    return None


def caller_token(context: ServicerContext) -> str:
    """The call's `authorization: Bearer <token>`; TokenRejected ("not authenticated") without one."""
    return bearer_token(metadata_value(context, "authorization"))
