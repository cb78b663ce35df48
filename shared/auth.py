"""Signed, expiring bearer tokens (JWT, EdDSA over Ed25519): issued by the gateway, verified by every service.

The gateway alone holds the private key (``JWT_PRIVATE_KEY_FILE``); every service holds only the
public key (``JWT_PUBLIC_KEY_FILE``), so a service can check a token but never mint one. Only
EdDSA is accepted: an HS256 token, whatever its secret (the public key's PEM text among them),
is refused. Each token carries the account's ``token_version`` (claim ``ver``); the gateway
compares it with the account's on every call, so a password or role change ends earlier tokens.

Keys are read once per file when a process starts; a missing or unreadable file, a key that is not
Ed25519, or the development pair made by ``scripts/dev_keys.py`` outside ``APP_ENV=development``
raise ConfigError naming the variable, so the process stops before serving anything.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .config import REPO_ROOT, ConfigError
from .errors import Unauthorized

ALGORITHM = "EdDSA"
ISSUER = "pharmacy-gateway"
PUBLIC_KEY_VARIABLE = "JWT_PUBLIC_KEY_FILE"
PRIVATE_KEY_VARIABLE = "JWT_PRIVATE_KEY_FILE"
#: Where ``make run`` (scripts/dev_keys.py) puts the development pair when no key is configured.
DEV_PRIVATE_KEY_PATH = REPO_ROOT / "var" / "jwt-dev-private.pem"
DEV_PUBLIC_KEY_PATH = REPO_ROOT / "var" / "jwt-dev-public.pem"
#: The first line of both development key files: a copy elsewhere is still known for what it is.
DEV_KEY_MARKER = "# pharmacy-tracking DEVELOPMENT key (scripts/dev_keys.py): refused unless APP_ENV=development"
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller; ``token_version`` is the account's when the token was issued."""

    id: int
    username: str
    role: str
    name: str | None = None
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(
    principal: Principal, private_key: Ed25519PrivateKey, ttl_seconds: int, now: dt.datetime | None = None
) -> str:
    """A token naming the user, role and token version, valid for ``ttl_seconds`` (the gateway's key only)."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("tokens are signed with the gateway's Ed25519 private key")
    now = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(principal.id),
        "username": principal.username,
        "role": principal.role,
        "name": principal.name,
        "ver": principal.token_version,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds),
        "iss": ISSUER,
    }
    return jwt.encode(claims, private_key, algorithm=ALGORITHM)


def verify_token(token: str, public_key: Ed25519PublicKey) -> Principal:
    """The principal of a valid token; Unauthorized when it is missing, expired or not signed by the gateway."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError("tokens are verified with the gateway's Ed25519 public key")
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "ver"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None
    version = claims["ver"]
    if claims.get("role") not in ("admin", "staff") or type(version) is not int:
        raise Unauthorized("invalid token")
    return Principal(
        id=int(claims["sub"]),
        username=claims.get("username", ""),
        role=claims["role"],
        name=claims.get("name"),
        token_version=version,
    )


# -- keys -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def load_public_key(path: str, *, development: bool, variable: str = PUBLIC_KEY_VARIABLE) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path``; ConfigError naming ``variable`` when unusable."""
    text = _read_pem(path, variable)
    try:
        key = serialization.load_pem_public_key(text)
    except ValueError:
        raise ConfigError(f"{variable}: {path} is not a PEM public key ({_HOW_TO_MAKE})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{variable}: {path} holds a {_kind(key)} key; tokens need an Ed25519 key ({_HOW_TO_MAKE})")
    _refuse_dev_key(key, text, path, variable, development)
    return key


@functools.lru_cache(maxsize=64)
def load_private_key(path: str, *, development: bool, variable: str = PRIVATE_KEY_VARIABLE) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``; ConfigError naming ``variable`` when unusable."""
    text = _read_pem(path, variable)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{variable}: {path} is not a PEM private key without a passphrase ({_HOW_TO_MAKE})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{variable}: {path} holds a {_kind(key)} key; tokens need an Ed25519 key ({_HOW_TO_MAKE})")
    _refuse_dev_key(key.public_key(), text, path, variable, development)
    return key


def is_development_key(public_key: Ed25519PublicKey, pem_text: bytes = b"") -> bool:
    """Whether a key is the development pair: its file carries the marker, or it is the pair under var/."""
    if DEV_KEY_MARKER.encode() in pem_text:
        return True
    try:
        dev_key = serialization.load_pem_public_key(DEV_PUBLIC_KEY_PATH.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(dev_key, Ed25519PublicKey) and dev_key.public_bytes(*_RAW) == public_key.public_bytes(*_RAW)


_HOW_TO_MAKE = "make a pair with `openssl genpkey -algorithm ed25519 -out private.pem` and `openssl pkey -in private.pem -pubout -out public.pem`"


def _read_pem(path: str, variable: str) -> bytes:
    if not path:
        raise ConfigError(f"missing required environment variable {variable} (see .env.example)")
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path} ({exc.strerror or exc})") from None


def _kind(key: object) -> str:
    return type(key).__name__.removeprefix("_").replace("PublicKey", "").replace("PrivateKey", "") or "non-Ed25519"


def _refuse_dev_key(key: Ed25519PublicKey, text: bytes, path: str, variable: str, development: bool) -> None:
    if not development and is_development_key(key, text):
        raise ConfigError(
            f"{variable}: {path} is the development key made by `make run`, refused outside APP_ENV=development; "
            f"give the gateway a key pair of its own ({_HOW_TO_MAKE})"
        )
