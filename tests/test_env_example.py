"""`.env.example` lists every variable the code reads (ARCHITECTURE.md: "lists every variable")."""

from __future__ import annotations

import re

from .stack import REPO_ROOT

# Read by the test helpers only, never by a running process.
TEST_ONLY = {
    "TEST_DATABASE_URL",
    "TEST_AMQP_URL",
    "RABBITMQ_MANAGEMENT_URL",
    "E2E_SERVICES",
    "E2E_LOG_LEVEL",
    "E2E_WEB_CONCURRENCY",
    "HONCHO_PROCESS_NAME",
    "PORT",
}
READS = re.compile(
    # ``request.environ`` is the WSGI request's, not the process environment.
    r"""(?:\benv\(\s*|\bsetting\(\s*|(?<!request\.)environ\.get\(\s*|(?<!request\.)environ\[\s*|getenv\(\s*|"""
    r"""_int\(\s*environ,\s*|_float\(\s*environ,\s*)["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read_by_the_code() -> dict[str, str]:
    found = {}
    for base in ("shared", "gateway", "services"):
        for path in (REPO_ROOT / base).rglob("*.py"):
            rel = path.relative_to(REPO_ROOT)
            if "tests" in rel.parts or rel.name in ("testing.py", "conftest.py"):
                continue
            for name in READS.findall(path.read_text(errors="replace")):
                found.setdefault(name, str(rel))
    for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (REPO_ROOT / "Procfile").read_text()):
        found.setdefault(name, "Procfile")
    for name in re.findall(r"environ\.get\(\"([A-Z][A-Z0-9_]*)", (REPO_ROOT / "gunicorn.conf.py").read_text()):
        found.setdefault(name, "gunicorn.conf.py")
    return found


def documented() -> set[str]:
    names = set()
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_env_example_lists_every_variable_the_code_reads():
    missing = {
        name: where
        for name, where in variables_read_by_the_code().items()
        if name not in documented() and name not in TEST_ONLY
    }
    assert not missing, f"add these to .env.example (with a comment): {missing}"


def test_every_service_database_url_is_documented():
    from shared.migrations import SERVICES

    for service in SERVICES:
        assert f"{service.upper()}_DATABASE_URL" in documented()
    assert {
        "DATABASE_URL",
        "VAR_DIR",
        "JWT_PRIVATE_KEY_FILE",
        "JWT_PUBLIC_KEY_FILE",
        "APP_ENV",
        "AMQP_URL",
        "ADMIN_USERNAME",
        "ADMIN_PASSWORD",
    } <= documented()


def test_no_signing_key_or_secret_is_given_a_value():
    """The key pair is the user's (or `make run`'s development pair): the example sets none."""
    text = (REPO_ROOT / ".env.example").read_text()
    assert "JWT_SECRET" not in text
    for variable in ("JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEY_FILE", "APP_ENV"):
        assert not re.search(rf"^{variable}=", text, re.MULTILINE), f"{variable} must stay commented"


def test_every_documented_variable_has_a_comment_above_it():
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            assert i > 0 and lines[i - 1].startswith("#"), f"no comment above {line!r}"
