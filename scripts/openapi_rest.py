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
    "description": "Every error answer, whoever gives it (a service, the transcoder, the gateway itself): FastAPI's "
    "`detail`, RFC 6749's `error`, and, from a service, the google.rpc.Status `code` and typed `details`. It "
    "carries the CORS headers too, so browser code can read it. A path served with other methods answers 405 "
    "with `Allow`; a body over 64 KiB 413; an unknown path 404.",
    "required": ["error", "error_description", "detail"],
    "properties": {
        "error": {
            "type": "string",
            "description": "Machine-readable reason: google.rpc.ErrorInfo.reason from a service (e.g. `invalid_grant`, "
            "`invalid_token`, `username_taken`, `invalid_request`), else one word for the status (`not_found`, "
            "`method_not_allowed`, `payload_too_large`, `unavailable`, ...).",
        },
        "error_description": {
            "type": "string",
            "description": "The same text as `detail`, under RFC 6749 section 5.2's name, which OAuth2 libraries "
            "and Swagger UI show.",
        },
        "detail": {"type": "string", "description": "Human-readable message, in words."},
        "code": {"type": "integer", "description": "The gRPC status code (google.rpc.Code)."},
        "details": {
            "type": "array",
            "description": "google.rpc error details, told apart by `@type`.",
            "items": {
                "oneOf": [
                    {"$ref": "#/components/schemas/ErrorInfo"},
                    {"$ref": "#/components/schemas/BadRequest"},
                    {"$ref": "#/components/schemas/RetryInfo"},
                ]
            },
        },
    },
}

DETAIL_SCHEMAS: dict[str, Any] = {
    "ErrorInfo": {
        "type": "object",
        "description": "google.rpc.ErrorInfo: why, in one word (`reason`, also the error's `error`), and where.",
        "required": ["@type", "reason"],
        "properties": {
            "@type": {"const": "type.googleapis.com/google.rpc.ErrorInfo"},
            "reason": {"type": "string"},
            "domain": {"type": "string", "description": "The service's domain, e.g. `collection.cigar`."},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "BadRequest": {
        "type": "object",
        "description": "google.rpc.BadRequest: each field of the request that is wrong, and what it must be.",
        "required": ["@type", "field_violations"],
        "properties": {
            "@type": {"const": "type.googleapis.com/google.rpc.BadRequest"},
            "field_violations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "properties": {
                        "field": {"type": "string", "description": "The field's name, e.g. `rating`."},
                        "description": {"type": "string", "description": "What it must be, in words."},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    },
    "RetryInfo": {
        "type": "object",
        "description": "google.rpc.RetryInfo: when to try again (also in the `Retry-After` header).",
        "required": ["@type", "retry_delay"],
        "properties": {
            "@type": {"const": "type.googleapis.com/google.rpc.RetryInfo"},
            "retry_delay": {"type": "string", "description": "A duration, e.g. `60s`."},
        },
    },
}


def _info(reason: str, domain: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": domain, "metadata": {}}


# One example per status, as a client gets it (the e2e tests validate every error they provoke against the schema).
ERROR_EXAMPLES: dict[int, dict[str, Any]] = {
    400: {"error": "invalid_request", "code": 3, "detail": "rating: must be an integer from 1 to 5", "details": [
        _info("invalid_request", "collection.cigar"),
        {"@type": "type.googleapis.com/google.rpc.BadRequest", "field_violations": [
            {"field": "rating", "description": "must be an integer from 1 to 5"}]}]},
    401: {"error": "invalid_token", "code": 16, "detail": "the access token has expired",
          "details": [_info("invalid_token", "collection.cigar")]},
    403: {"error": "not_owner", "code": 7, "detail": "cigar 7 belongs to another user",
          "details": [_info("not_owner", "collection.cigar")]},
    404: {"error": "not_found", "code": 5, "detail": "cigar 7 not found",
          "details": [_info("not_found", "collection.cigar")]},
    409: {"error": "username_taken", "code": 6, "detail": "username already registered",
          "details": [_info("username_taken", "auth.cigar")]},
    413: {"error": "payload_too_large", "detail": "Payload Too Large"},
    429: {"error": "too_many_attempts", "code": 8, "detail": "too many failed logins; try again in 60 seconds",
          "details": [_info("too_many_attempts", "auth.cigar"),
                      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retry_delay": "60s"}]},
    503: {"error": "unavailable", "code": 14,
          "detail": "the collection service (cigars) is unavailable; try again in a few seconds"},
}  # fmt: skip
# error_description repeats detail in every error answer (RFC 6749's name for it)
ERROR_EXAMPLES = {
    status: {"error": e["error"], "error_description": e["detail"], **e} for status, e in ERROR_EXAMPLES.items()
}

ERROR_DESCRIPTIONS = {
    400: "Invalid input (the fields are named in `details`), malformed JSON, or on `/token` `invalid_grant` / "
    "`unsupported_grant_type`.",
    401: "Missing, malformed, expired or forged bearer token.",
    403: "The resource belongs to someone else.",
    404: "No such resource.",
    409: "Already exists (e.g. `username_taken`, `email_taken`).",
    429: "Too many failed logins for this account or from this address (`too_many_attempts`), or too many "
    "requests from this address: wait `Retry-After` seconds.",
    413: "The request body is over 64 KiB.",
    503: "A service the gateway needs is down: `detail` names it, in words.",
}


def error_statuses(rest: Rest, has_input: bool, has_path_params: bool, has_body: bool = False) -> list[int]:
    """400 for any input, 413 with a body, 401 with auth, 404 with path parameters, 503 always, plus the
    method's own."""
    statuses = {503, *rest.errors}
    if has_input:
        statuses.add(400)
    if has_body:
        statuses.add(413)
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
    if status in ERROR_EXAMPLES:
        response["content"]["application/json"]["example"] = ERROR_EXAMPLES[status]
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
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
