"""The key ring beside AUTH_PRIVATE_KEY_FILE: the signing key, a prepared next key, and retired public keys.

For a key file `keys/auth_ed25519.pem` the directory holds:
  auth_ed25519.pem                                  current private key: signs new tokens
  auth_ed25519.next.pem                             optional next private key: published, not yet signing
  auth_ed25519.retired-20261126T120000Z.pub.pem     public half of a retired key: still verifies its
                                                    tokens until they have all expired
Every key of the ring is published in the JWKS and accepted by the verifier (docs/security.md, key rotation).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .keys import KeyFileError, SigningKey, create_key_file, load_signing_key, public_jwk

log = logging.getLogger(__name__)
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class KeyRing:
    current: SigningKey
    published: dict[str, Ed25519PublicKey]  # kid -> public key, current first

    def jwks(self) -> list[dict[str, str]]:
        return [public_jwk(key) for key in self.published.values()]


def next_key_file(private_key_file: Path) -> Path:
    return private_key_file.with_name(f"{private_key_file.stem}.next.pem")


def _retired_files(private_key_file: Path) -> list[tuple[datetime, Path]]:
    found = []
    for path in private_key_file.parent.glob(f"{private_key_file.stem}.retired-*.pub.pem"):
        stamp = path.name.removeprefix(f"{private_key_file.stem}.retired-").removesuffix(".pub.pem")
        try:
            found.append((datetime.strptime(stamp, STAMP).replace(tzinfo=UTC), path))
        except ValueError:
            log.warning("ignoring %s: no retirement time in its name", path.name)
    return sorted(found, reverse=True)


def _load_public(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return key


def load_key_ring(private_key_file: Path, now: datetime, keep_retired: timedelta) -> KeyRing:
    """The current key, the next one if prepared, and the retired ones younger than `keep_retired`
    (older ones can only have signed tokens that have expired, so they are no longer trusted)."""
    current = load_signing_key(private_key_file)
    published: dict[str, Ed25519PublicKey] = {current.kid: current.public_key}
    if next_key_file(private_key_file).exists():
        upcoming = load_signing_key(next_key_file(private_key_file))
        published[upcoming.kid] = upcoming.public_key
    for retired_at, path in _retired_files(private_key_file):
        if now - retired_at < keep_retired:
            key = _load_public(path)
            published.setdefault(public_jwk(key)["kid"], key)
    return KeyRing(current, published)


def prepare_next_key(private_key_file: Path) -> SigningKey:
    """Step 1 of a rotation with several replicas: publish the next key everywhere before it signs."""
    path = next_key_file(private_key_file)
    return load_signing_key(path) if path.exists() else create_key_file(path)


def rotate(private_key_file: Path, now: datetime, keep_retired: timedelta) -> SigningKey:
    """Retire the current key (its public half stays published) and make the next one current."""
    current = load_signing_key(private_key_file)
    retired = private_key_file.with_name(f"{private_key_file.stem}.retired-{now.strftime(STAMP)}.pub.pem")
    public_pem = current.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    retired.write_bytes(public_pem)
    upcoming = prepare_next_key(private_key_file)
    # rename is atomic: a replica that restarts meanwhile reads either the old key or the new one
    os.replace(next_key_file(private_key_file), private_key_file)
    for retired_at, path in _retired_files(private_key_file):
        if now - retired_at >= keep_retired:
            path.unlink()
            log.info("removed %s: every token it signed has expired", path.name)
    return upcoming
