"""Run a command with a token-signing key pair, making the development pair when none is configured.

``python scripts/dev_keys.py CMD ARGS...`` (``make run`` and ``make migrate`` call it through
scripts/with_env.py, so ``.env`` counts): when neither ``JWT_PRIVATE_KEY_FILE`` nor
``JWT_PUBLIC_KEY_FILE`` is set, it creates an Ed25519 pair under ``var/``
(``var/jwt-dev-private.pem``, ``var/jwt-dev-public.pem``, git-ignored) unless it exists, points
both variables at it and execs ``CMD``. A configured key is left alone. The development files
start with a marker line, so every process refuses them unless ``APP_ENV=development`` (which
``make run`` sets): they never sign a production token by accident. Without a command it only
makes the pair.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import (
    DEV_KEY_MARKER,
    DEV_PRIVATE_KEY_PATH,
    DEV_PUBLIC_KEY_PATH,
    PRIVATE_KEY_VARIABLE,
    PUBLIC_KEY_VARIABLE,
)


def ensure_dev_keys(private_path: Path = DEV_PRIVATE_KEY_PATH, public_path: Path = DEV_PUBLIC_KEY_PATH) -> bool:
    """Create the development pair at the two paths unless both exist; True when it was created."""
    if private_path.exists() and public_path.exists():
        return False
    key = Ed25519PrivateKey.generate()
    marker = (DEV_KEY_MARKER + "\n").encode()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by the owner only, from the moment it exists.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(marker + private_pem)
    public_path.write_bytes(marker + public_pem)
    return True


def with_dev_keys(environ: dict[str, str]) -> dict[str, str]:
    """``environ``, with the development pair (made if needed) when no key variable is set."""
    if environ.get(PRIVATE_KEY_VARIABLE) or environ.get(PUBLIC_KEY_VARIABLE):
        return environ
    if ensure_dev_keys():
        print(f"created the development token keys {DEV_PRIVATE_KEY_PATH} and {DEV_PUBLIC_KEY_PATH}", file=sys.stderr)
    return {**environ, PRIVATE_KEY_VARIABLE: str(DEV_PRIVATE_KEY_PATH), PUBLIC_KEY_VARIABLE: str(DEV_PUBLIC_KEY_PATH)}


def main(argv: list[str]) -> None:
    environ = with_dev_keys(dict(os.environ))
    if argv:
        os.execvpe(argv[0], argv, environ)


if __name__ == "__main__":
    main(sys.argv[1:])
