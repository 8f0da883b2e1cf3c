"""What the OpenAPI document adds to the routes: request examples, the error schema, the security schemes.

What the gateway does per route (status, auth, form body, bare array, headers, ...) is not here: it is the
(cigar.rest.v1.route) option of each RPC in protos/, read by scripts/rest_routes.py.
"""

from __future__ import annotations

from typing import Any

from scripts.rest_routes import Rest

# Test policy, not the route: why tests/e2e/test_openapi_conformance.py must not send an operation's example live
# (it reads `x-no-live-example`). Keyed by full method name.
NO_LIVE_EXAMPLE: dict[str, str] = {
    "cigar.auth.v1.AuthService.ChangePassword": "it revokes the token the other examples use; "
    "tests/e2e/test_profile_rest.py changes a password of its own",
    "cigar.auth.v1.AuthService.LogoutAll": "it revokes the token the other examples use; "
    "tests/e2e/test_sessions.py logs out users of its own",
    "cigar.auth.v1.AuthService.ConfirmPasswordReset": "its token only exists in an email; tests/e2e/test_sessions.py "
    "reads one from a real SMTP server",
    "cigar.auth.v1.AuthService.DeleteMe": "it deletes the example user; tests/e2e/test_profile_rest.py deletes one "
    "of its own",
    "cigar.auth.v1.AuthService.VerifyEmail": "its token only exists in an email; tests/e2e/test_profile_rest.py "
    "reads one from the log",
}

# Request examples by message name: Swagger UI pre-fills "Try it out" with them and the conformance
# test (tests/e2e/test_openapi_conformance.py) sends each one through the gateway. A JSON body's example is
# an object; a raw (google.api.HttpBody) body's is its text.
EXAMPLES: dict[str, Any] = {
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
    "UpdateMeRequest": {"email": "testuser@example.org", "current_password": "testpassword"},
    "DeleteMeRequest": {"current_password": "testpassword"},
    "ChangePasswordRequest": {"current_password": "testpassword", "new_password": "a longer passphrase"},
    "VerifyEmailRequest": {"token": "<the token from the verification email>"},
    "RevokeRequest": {"token": "<a refresh token>", "token_type_hint": "refresh_token"},
    "RequestPasswordResetRequest": {"email": "testuser@example.com"},
    "ConfirmPasswordResetRequest": {"token": "<the token from the reset email>", "new_password": "a longer passphrase"},
    "ImportMyCigarsRequest": "name,brand,origin,flavor_notes,rating\r\n"
    'Hemingway Short Story,Arturo Fuente,Dominican Republic,"Cedar, leather",5\r\n',
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
        "error_description": {
            "type": "string",
            "description": "The same text as `detail`, under RFC 6749 section 5.2's name; present whenever "
            "`error` is.",
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
            "error_description": "invalid input: rating: must be from 1 to 5",
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
        "description": "Log in with a username and password (the `/token` password grant); the refresh "
        "token of the answer keeps the session (the refresh grant at the same endpoint).",
        "flows": {"password": {"tokenUrl": "/token", "refreshUrl": "/token", "scopes": {}}},
    },
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
