"""Ed25519 signing keys: load and create PEM files, and publish the public half as a JWK."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service_kit.tokens import ALGORITHM


class KeyFileError(Exception):
    """The key file named by the settings is missing, unreadable or not an Ed25519 private key."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        return public_jwk(self.public_key)


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    x = _b64url(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    # RFC 7638: the thumbprint hashes the required members in lexicographic order, no spaces.
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM}


def load_signing_key(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read private key file {path}: {exc.strerror}") from exc
    if b"-----BEGIN" not in data:
        # An empty file or a placeholder left from a template (compose secret, Kubernetes Secret).
        raise KeyFileError(
            f"{path} holds no PEM key (empty or a placeholder); create one with `python -m auth_service genkey PATH`"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, expected an Ed25519 private key")
    return SigningKey(private_key=key, kid=public_jwk(key.public_key())["kid"])


def key_file_exposure(mode: int, owned_by_me: bool, group_is_mine: bool) -> str | None:
    """Who besides us may read a private key file of this mode: refused (KeyFileError) if any other user may,
    a warning if its group may when that is not how we read it, None if only we can.
    A Kubernetes Secret volume is 0440, owned by root, in the group of the pod's fsGroup: there the group bit
    is what lets us read the key at all, so it is no warning (the group is the pod's own)."""
    mode = stat.S_IMODE(mode)
    if mode & 0o007:
        raise KeyFileError(f"mode {mode:04o} lets other users read or change the private key: chmod 600 it")
    if mode & 0o070 and (owned_by_me or not group_is_mine):
        return f"mode {mode:04o} lets the file's group read the private key: chmod 600 it unless that group needs it"
    return None


def check_key_file_mode(path: Path) -> str | None:
    """key_file_exposure for the file at `path` (a warning, or None; KeyFileError if others may read it)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise KeyFileError(f"cannot read private key file {path}: {exc.strerror}") from exc
    mine = info.st_gid == os.getegid() or info.st_gid in os.getgroups()
    try:
        warning = key_file_exposure(info.st_mode, info.st_uid == os.geteuid(), mine)
    except KeyFileError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    return f"{path}: {warning}" if warning else None


def create_key_file(path: Path) -> SigningKey:
    """Write a new Ed25519 private key readable by the owner only (0600), in a directory it creates 0700;
    never overwrites."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return SigningKey(private_key=key, kid=public_jwk(key.public_key())["kid"])
