"""How the common library is layered: workers carry no Flask, the HTTP modules import in any order."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import REPO_ROOT
from shared.runtime import Runtime
from shared.testing import make_settings
from shared.web import create_service_app, current_settings

WORKERS = ["gateway.worker"] + [
    f"services.{name}.worker" for name in ("billing", "customers", "contacts", "reminders", "reporting")
]


def _fresh_interpreter(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("worker", WORKERS)
def test_a_worker_process_imports_no_flask(worker):
    # shared.process imports what service_main runs (runtime, relay, consumer) at module level.
    assert _fresh_interpreter(f"import sys, {worker}, shared.process; print('flask' in sys.modules)") == "False"


@pytest.mark.parametrize(
    "first",
    ["shared.dead_letters_api", "shared.web", "shared.web.http", "shared.web.app"],
)
def test_the_http_modules_import_in_any_order(first):
    assert _fresh_interpreter(f"import {first}, shared.web, shared.dead_letters_api; print('ok')") == "ok"


def test_shared_web_does_not_import_the_dead_letter_routes():
    # The dead-letter routes build on shared.web; the other way round would be an import cycle.
    for path in Path(REPO_ROOT, "shared", "web").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert "dead_letters_api" not in (node.module or ""), path


def test_an_app_takes_a_runtime_under_other_settings_without_changing_it():
    settings = make_settings("toy", "sqlite://", "amqp://guest:guest@127.0.0.1:1/%2F")
    runtime = Runtime.build(settings)
    tighter = settings.with_overrides(max_json_bytes=10)
    app, _api = create_service_app("toy", tighter, title="Toy", runtime_obj=runtime, check_broker=False)
    with app.app_context():
        assert current_settings() is tighter
    assert runtime.settings is settings  # the runtime other apps and workers share is untouched
    assert app.test_client().post("/healthz", json={"x": "y" * 20}).status_code == 413
    runtime.engine.dispose()
