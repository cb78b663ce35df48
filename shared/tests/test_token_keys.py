"""Tokens are signed by the gateway's Ed25519 key; services hold only the public key; bad keys stop a process.

A token made any other way (HS256 with any secret, the public key's PEM text used as an HMAC
secret, ``alg: none``, another Ed25519 key) is refused by a service; a service's settings have
no private key, and its public key cannot sign. A missing or unreadable key file, a key that is
not Ed25519, or the development pair outside ``APP_ENV=development`` raise ConfigError naming
the variable when the settings are loaded or the app is built.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.settings import GatewaySettings
from services.billing.app import create_app as create_billing
from shared.auth import DEV_KEY_MARKER, Principal, issue_token, load_public_key
from shared.config import ENV_VARIABLE, REPO_ROOT, ConfigError, Settings, load_settings
from shared.testing import TEST_PUBLIC_KEY, key_environ, make_settings, session_key_files, token_for, write_key_pair
from shared.web import create_service_app

NOWHERE_AMQP = "amqp://guest:guest@127.0.0.1:1/%2F"
#: Any route but the public ones needs a token; an unknown one answers 404 only to a valid token.
PROBE = "/api/v1/no-such-route"
#: The HS256 secret the test suite shared with every service before tokens were EdDSA.
FORMER_SHARED_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims() -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {"sub": "1", "username": "root", "role": "admin", "ver": 0, "iat": now, "exp": now + 600}


def hs256_token(secret: bytes, claims: dict | None = None) -> str:
    """An HS256 JWT made by hand (PyJWT itself refuses a PEM key as an HMAC secret)."""
    claims = {**_claims(), "iss": "pharmacy-gateway", **(claims or {})}
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned_token() -> str:
    claims = {**_claims(), "iss": "pharmacy-gateway"}
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."


@pytest.fixture
def service():
    """A service app as every service builds it, holding only the test session's public key."""
    settings = make_settings("toy", "sqlite://", NOWHERE_AMQP)
    app, _api = create_service_app("toy", settings, title="Toy", check_broker=False)
    return app.test_client()


def status_with(client, token: str) -> int:
    return client.get(PROBE, headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_service_accepts_the_gateway_signed_token(service):
    assert status_with(service, token_for("admin")) == 404  # past the token check
    assert service.get(PROBE).status_code == 401


@pytest.mark.parametrize(
    "secret",
    [FORMER_SHARED_SECRET.encode(), b"s" * 64, b""],
    ids=["the-former-shared-secret", "a-long-secret", "an-empty-secret"],
)
def test_a_service_refuses_an_hs256_token_whatever_its_secret(service, secret):
    assert status_with(service, hs256_token(secret)) == 401


def test_a_service_refuses_a_token_made_with_the_public_key_material(service):
    public_pem = Path(session_key_files()[1]).read_bytes()
    raw = TEST_PUBLIC_KEY.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for secret in (public_pem, public_pem.strip(), raw):
        assert status_with(service, hs256_token(secret)) == 401
    assert status_with(service, unsigned_token()) == 401


def test_a_service_refuses_a_token_signed_by_another_ed25519_key(service):
    assert status_with(service, token_for("admin", key=Ed25519PrivateKey.generate())) == 401


def test_a_service_holds_no_private_key_and_its_public_key_cannot_sign():
    variables = {spec.metadata.get(ENV_VARIABLE) for spec in fields(Settings)}
    assert "JWT_PUBLIC_KEY_FILE" in variables
    assert not {v for v in variables if v and ("PRIVATE" in v or "SECRET" in v)}, variables
    settings = make_settings("billing", "sqlite://", NOWHERE_AMQP)
    public_key = load_public_key(settings.jwt_public_key_file, development=False)
    with pytest.raises(TypeError):
        issue_token(Principal(1, "root", "admin"), public_key, 600)  # type: ignore[arg-type]


# -- bad keys stop the process ----------------------------------------------------------------
def _pem_private(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def dev_keys(tmp_path):
    """The development pair as ``make run`` makes it (scripts/dev_keys.py), in a directory of the test's own."""
    spec = importlib.util.spec_from_file_location("dev_keys", REPO_ROOT / "scripts" / "dev_keys.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    private, public = tmp_path / "jwt-dev-private.pem", tmp_path / "jwt-dev-public.pem"
    assert module.ensure_dev_keys(private, public) is True
    assert module.ensure_dev_keys(private, public) is False  # made once, then kept
    return module, private, public


def test_make_run_makes_a_marked_owner_only_development_pair(dev_keys):
    module, private, public = dev_keys
    assert private.read_text().startswith(DEV_KEY_MARKER) and public.read_text().startswith(DEV_KEY_MARKER)
    assert private.stat().st_mode & 0o077 == 0
    configured = {"JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt-private.pem", "PATH": "/bin"}
    assert module.with_dev_keys(configured) == configured  # a configured key is left alone


def test_the_development_pair_is_refused_outside_development(dev_keys):
    _module, private, public = dev_keys
    environ = {"JWT_PRIVATE_KEY_FILE": str(private), "JWT_PUBLIC_KEY_FILE": str(public)}
    with pytest.raises(ConfigError, match=r"JWT_PRIVATE_KEY_FILE: .* development key"):
        load_settings("gateway", environ=environ, cls=GatewaySettings)
    with pytest.raises(ConfigError, match=r"JWT_PUBLIC_KEY_FILE: .* development key"):
        create_billing(make_settings("billing", "sqlite://", NOWHERE_AMQP, jwt_public_key_file=str(public)))
    # A copy elsewhere is still the development key.
    copy = private.parent / "copied.pem"
    copy.write_bytes(public.read_bytes())
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY_FILE"):
        load_public_key(str(copy), development=False)
    # Explicit development mode accepts them.
    dev = load_settings("gateway", environ={**environ, "APP_ENV": "development"}, cls=GatewaySettings)
    assert dev.development and dev.signing_key().public_key() == load_public_key(str(public), development=True)


def test_make_run_processes_start_on_the_development_pair_only_in_development(dev_keys):
    """The process itself stops, naming the variable (the gunicorn entry of a service)."""
    _module, _private, public = dev_keys
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "APP_ENV"))},
        "JWT_PUBLIC_KEY_FILE": str(public),
        "BILLING_DATABASE_URL": "sqlite://",
    }
    command = [sys.executable, "-c", "import services.billing.wsgi; print('started')"]
    refused = subprocess.run(command, env=environ, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "JWT_PUBLIC_KEY_FILE" in refused.stderr and "started" not in refused.stdout
    started = subprocess.run(
        command, env={**environ, "APP_ENV": "development"}, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0 and "started" in started.stdout, started.stderr[-2000:]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "cannot read"),
        ("directory", "cannot read"),
        ("garbage", "not a PEM"),
        ("rsa", "tokens need an Ed25519 key"),
        ("ec", "tokens need an Ed25519 key"),
    ],
)
@pytest.mark.parametrize("variable", ["JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY_FILE"])
def test_an_unusable_key_stops_the_gateway_naming_the_variable(tmp_path, kind, message, variable):
    path = {
        "missing": lambda: str(tmp_path / "absent.pem"),
        "directory": lambda: str(tmp_path),
        "garbage": lambda: _write(tmp_path / "garbage.pem", b"-----BEGIN KEY-----\nnot a key\n-----END KEY-----\n"),
        "rsa": lambda: _write(
            tmp_path / "rsa.pem",
            (_pem_public if variable == "JWT_PUBLIC_KEY_FILE" else _pem_private)(
                rsa.generate_private_key(public_exponent=65537, key_size=1024)
            ),
        ),
        "ec": lambda: _write(
            tmp_path / "ec.pem",
            (_pem_public if variable == "JWT_PUBLIC_KEY_FILE" else _pem_private)(
                ec.generate_private_key(ec.SECP256R1())
            ),
        ),
    }[kind]()
    environ = {**key_environ(gateway=True), variable: path}
    for app_env in ("production", "development"):  # development relaxes nothing but the development pair
        with pytest.raises(ConfigError, match=f"{variable}: .*{message}"):
            load_settings("gateway", environ={**environ, "APP_ENV": app_env}, cls=GatewaySettings)


def test_missing_key_variables_and_a_mismatched_pair_are_named(tmp_path):
    private, public = session_key_files()
    with pytest.raises(ConfigError, match="JWT_PRIVATE_KEY_FILE"):
        load_settings("gateway", environ={"JWT_PUBLIC_KEY_FILE": public}, cls=GatewaySettings)
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY_FILE"):
        load_settings("billing", environ={})
    _other_private, other_public = write_key_pair(Ed25519PrivateKey.generate(), tmp_path, prefix="other")
    with pytest.raises(ConfigError, match="JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE are not one key pair"):
        load_settings(
            "gateway",
            environ={"JWT_PRIVATE_KEY_FILE": private, "JWT_PUBLIC_KEY_FILE": str(other_public)},
            cls=GatewaySettings,
        )
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings("billing", environ={"JWT_PUBLIC_KEY_FILE": public, "APP_ENV": "dev"})
