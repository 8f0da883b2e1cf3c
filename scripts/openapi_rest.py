"""What the gateway does beyond the protos' http rules: the one table of per-method REST overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rest:
    """How gateway/rest_compat.lua and the services change one method's REST face."""

    status: int = 200  # success status (rest_compat.lua answers 201 on creates)
    auth: bool = False  # needs `Authorization: Bearer <token>`
    form: bool = False  # the body is application/x-www-form-urlencoded (turned into JSON by rest_compat.lua)
    bare_array: str | None = None  # the response is this repeated field, unwrapped to a bare JSON array
    trailing_slash: bool = False  # the contract documents the path with a trailing slash (both forms work)
    errors: tuple[int, ...] = ()  # error statuses besides the automatic ones (see error_statuses)
    headers: dict[str, str] = field(default_factory=dict)  # fixed response headers: name -> description
    # why tests/e2e/test_openapi_conformance.py must not send this example live (empty: it does send it)
    no_live_example: str = ""


# Keyed by full method name. A method that is missing here gets the defaults: 200, public, JSON.
OVERRIDES: dict[str, Rest] = {
    "cigar.auth.v1.AuthService.CreateUser": Rest(status=201, trailing_slash=True, errors=(409,)),
    "cigar.auth.v1.AuthService.Token": Rest(
        form=True,
        headers={"Cache-Control": "Always `no-store` (RFC 6749 section 5.1)."},
        errors=(429,),
    ),
    "cigar.auth.v1.AuthService.GetMe": Rest(auth=True, trailing_slash=True),
    # issue 3: profile management and email verification (README "Profiles", "Email verification")
    "cigar.auth.v1.AuthService.UpdateMe": Rest(auth=True, trailing_slash=True, errors=(409,)),
    "cigar.auth.v1.AuthService.ChangePassword": Rest(status=204, auth=True),
    "cigar.auth.v1.AuthService.DeleteMe": Rest(
        status=204,
        auth=True,
        trailing_slash=True,
        no_live_example="it deletes the example user; tests/e2e/test_profile_rest.py deletes one of its own",
    ),
    "cigar.auth.v1.AuthService.VerifyEmail": Rest(
        no_live_example="its token only exists in an email; tests/e2e/test_profile_rest.py reads one from the log",
    ),
    "cigar.collection.v1.CollectionService.ListCigars": Rest(bare_array="cigars", trailing_slash=True),
    "cigar.collection.v1.CollectionService.CreateCigar": Rest(status=201, auth=True, trailing_slash=True),
    "cigar.collection.v1.CollectionService.UpdateCigar": Rest(auth=True, errors=(403,)),
    "cigar.collection.v1.CollectionService.DeleteCigar": Rest(status=204, auth=True, errors=(403,)),
}

# Request examples by message name: Swagger UI pre-fills "Try it out" with them and the conformance
# test (tests/e2e/test_openapi_conformance.py) sends each one through the gateway.
EXAMPLES: dict[str, dict[str, Any]] = {
    "CreateUserRequest": {"username": "testuser", "email": "testuser@example.com", "password": "testpassword"},
    "TokenRequest": {
        "grant_type": "password",
        "username": "testuser",
        "password": "testpassword",
        "scope": "",
        "client_id": "",
        "client_secret": "",
    },
    "CreateCigarRequest": {
        "name": "New Cigar",
        "brand": "New Brand",
        "origin": "Dominican Republic",
        "flavor_notes": "Smooth and creamy",
        "rating": 4,
    },
    "CigarChanges": {"rating": 5, "flavor_notes": "Cedar, leather"},
    "UpdateMeRequest": {"email": "testuser@example.org"},
    "ChangePasswordRequest": {"current_password": "testpassword", "new_password": "a longer passphrase"},
    "VerifyEmailRequest": {"token": "<the token from the verification email>"},
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: FastAPI's `detail`, RFC 6749's `error`, and the google.rpc.Status.",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "Human-readable message."},
        "error": {
            "type": "string",
            "description": "Machine-readable reason (google.rpc.ErrorInfo.reason), e.g. `invalid_grant`, "
            "`invalid_token`, `username_taken`, `invalid_request`.",
        },
        "code": {"type": "integer", "description": "The gRPC status code."},
        "details": {
            "type": "array",
            "description": "google.rpc details: ErrorInfo, BadRequest with `field_violations` naming the fields.",
            "items": {"type": "object", "properties": {"@type": {"type": "string"}}, "required": ["@type"]},
        },
    },
    "examples": [
        {
            "error": "invalid_request",
            "code": 3,
            "detail": "invalid input: rating: must be from 1 to 5",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.BadRequest", "field_violations": [
                    {"field": "rating", "description": "must be from 1 to 5"}]},
            ],
        }
    ],
}  # fmt: skip

ERROR_DESCRIPTIONS = {
    400: "Invalid input (the fields are named in `details`), malformed JSON, or on `/token` `invalid_grant` / "
    "`unsupported_grant_type`.",
    401: "Missing, malformed, expired or forged bearer token.",
    403: "The resource belongs to someone else.",
    404: "No such resource.",
    409: "Already exists (e.g. `username_taken`, `email_taken`).",
    429: "Too many failed logins for this account or from this address (`too_many_attempts`), or too many "
    "requests from this address: wait `Retry-After` seconds.",
    503: "A backend service is down.",
}


def error_statuses(rest: Rest, has_input: bool, has_path_params: bool) -> list[int]:
    """400 for any input, 401 with auth, 404 with path parameters, 503 always, plus the method's own."""
    statuses = {503, *rest.errors}
    if has_input:
        statuses.add(400)
    if rest.auth:
        statuses.add(401)
    if has_path_params:
        statuses.add(404)
    return sorted(statuses)


def error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, "Error."),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": '`Bearer`, or `Bearer error="invalid_token"` when a token was sent (RFC 6750).',
                "schema": {"type": "string"},
            }
        }
    return response


SECURITY_SCHEMES: dict[str, Any] = {
    "OAuth2PasswordBearer": {
        "type": "oauth2",
        "description": "Log in with a username and password (the `/token` password grant).",
        "flows": {"password": {"tokenUrl": "/token", "scopes": {}}},
    },
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
