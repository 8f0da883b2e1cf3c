"""Opaque AIP-158 page tokens: the last id served (keyset) bound to the filters it was served under."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import fields

from ..domain import CigarFilter, FieldViolation, InvalidInput


def _bad() -> InvalidInput:
    return InvalidInput([FieldViolation("page_token", "is not a token this service issued for these filters")])


MAX_TOKEN_LENGTH = 256
_FILTER_FIELDS = tuple(field.name for field in fields(CigarFilter))


def _fingerprint(f: CigarFilter) -> str:
    # AIP-158: a token is only valid with the request that produced it; changing a filter mid-way
    # would silently skip or repeat cigars, so it is refused instead. (The values in field order, as
    # dataclasses.astuple gave them, without its deep copy: a quarter of a list call's own Python time.)
    values = [getattr(f, name) for name in _FILTER_FIELDS]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:16]


def encode(after_id: int, f: CigarFilter) -> str:
    raw = json.dumps({"after": after_id, "f": _fingerprint(f)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, f: CigarFilter) -> int:
    """The id after which the next page starts; 0 for no token. InvalidInput for anything else."""
    if not token:
        return 0
    # The tokens this service writes are ~50 characters. A longer one is forged: refused before it is decoded,
    # so no one makes the JSON parser recurse (deeply nested arrays raised RecursionError) or work for long.
    if len(token) > MAX_TOKEN_LENGTH:
        raise _bad()
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, fingerprint = data["after"], data["f"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        raise _bad() from None
    # ids are int32 (the proto and the column): a forged larger one must not reach the database.
    if (
        not isinstance(after, int)
        or isinstance(after, bool)
        or not 0 <= after < 2**31
        or fingerprint != _fingerprint(f)
    ):
        raise _bad()
    return after
