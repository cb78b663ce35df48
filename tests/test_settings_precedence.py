"""Settings precedence as `make run` applies it: the environment wins over `.env`, which wins over defaults.

The gateway and its relay are started exactly as `make run` starts every process (scripts/with_env.py,
then honcho with the Procfile's commands) with a `.env` naming one vhost and admin password and an
environment naming others; the processes must use the environment's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from shared.testing import Probe, eventually, session_key_files

from .stack import REPO_ROOT, free_port

pytestmark = pytest.mark.e2e


def _procfile_lines(*names: str) -> str:
    lines = (REPO_ROOT / "Procfile").read_text().splitlines()
    return "\n".join(line for line in lines if line.split(":", 1)[0] in names) + "\n"


def test_environment_wins_over_env_file_for_make_run_processes(tmp_path, amqp_url, amqp_server_url):
    port = free_port()
    env_file = tmp_path / ".env"
    private_key, public_key = session_key_files()
    env_file.write_text(
        # What .env says; the environment below says otherwise for AMQP_URL and ADMIN_PASSWORD.
        f"AMQP_URL={amqp_server_url.rsplit('/', 1)[0]}/no-such-vhost\n"
        "ADMIN_USERNAME=admin\n"
        "ADMIN_PASSWORD=password-from-env-file\n"
        f"JWT_PRIVATE_KEY_FILE={private_key}\n"
        f"JWT_PUBLIC_KEY_FILE={public_key}\n"
        f"GATEWAY_PORT={port}\n"
    )
    procfile = tmp_path / "Procfile"
    procfile.write_text(_procfile_lines("gateway", "gateway-relay"))
    environ = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "AMQP_URL",
            "ADMIN_PASSWORD",
            "ADMIN_USERNAME",
            "JWT_PRIVATE_KEY_FILE",
            "JWT_PUBLIC_KEY_FILE",
            "APP_ENV",
            "DATABASE_URL",
            "GATEWAY_DATABASE_URL",
        }
    }
    environ.update(
        ENV_FILE=str(env_file),
        VAR_DIR=str(tmp_path),
        AMQP_URL=amqp_url,
        ADMIN_PASSWORD="password-from-environment",
        WEB_CONCURRENCY="1",
        PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{environ.get('PATH', '')}",
    )
    with_env = [sys.executable, str(REPO_ROOT / "scripts" / "with_env.py")]
    subprocess.run(
        [*with_env, sys.executable, "-m", "shared.migrations", "gateway"],
        cwd=REPO_ROOT,
        env=environ,
        check=True,
        capture_output=True,
        timeout=120,
    )

    probe = Probe(amqp_url, ["staff.created"])  # in the environment's vhost, before anything is published
    log = open(tmp_path / "honcho.log", "wb")  # noqa: SIM115 - honcho writes to it until the test ends
    honcho = subprocess.Popen(
        [
            *with_env,
            os.path.join(os.path.dirname(sys.executable), "honcho"),
            "start",
            "--env",
            "/dev/null",
            "-f",
            str(procfile),
        ],
        cwd=REPO_ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:

        def gateway_up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=3).ok
            except requests.RequestException:
                return False

        eventually(gateway_up, timeout=60, interval=0.3, message="gateway started by make run's launcher")

        def login(password: str) -> int:
            return requests.post(
                f"{base}/auth/login", json={"username": "admin", "password": password}, timeout=5
            ).status_code

        assert login("password-from-environment") == 200
        assert login("password-from-env-file") == 401
        # The first admin's staff.created reached the environment's vhost through the relay.
        [(_props, event)] = probe.messages(1, timeout=30)
        assert event["type"] == "staff.created" and event["data"]["username"] == "admin"
    except BaseException:
        log.flush()
        print((tmp_path / "honcho.log").read_text(errors="replace")[-4000:])
        raise
    finally:
        probe.close()
        os.killpg(honcho.pid, 15)
        try:
            honcho.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, 9)
        log.close()
