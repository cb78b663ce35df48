"""Signed, expiring bearer tokens (JWT HS256): issued by the gateway, verified by every service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jwt

from .errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "pharmacy-gateway"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    id: int
    username: str
    role: str
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(principal: Principal, secret: str, ttl_seconds: int, now: dt.datetime | None = None) -> str:
    """A token naming the user and role, valid for ``ttl_seconds``."""
    now = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(principal.id),
        "username": principal.username,
        "role": principal.role,
        "name": principal.name,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds),
        "iss": ISSUER,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> Principal:
    """The principal of a valid token; Unauthorized when it is missing, expired or tampered with."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "iss"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None
    if claims.get("role") not in ("admin", "staff"):
        raise Unauthorized("invalid token")
    return Principal(
        id=int(claims["sub"]), username=claims.get("username", ""), role=claims["role"], name=claims.get("name")
    )
