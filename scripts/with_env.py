"""Run a command with the settings of ``.env`` beneath the process environment.

``python scripts/with_env.py CMD ARGS...`` execs ``CMD`` with ``.env``'s values (python-dotenv's
parser) filling in only what the environment does not set: a variable given on the command line
(``AMQP_URL=... make run``) wins over ``.env``, which wins over the built-in defaults - the order
of Docker Compose, python-dotenv and every 12-factor tool. ``make run`` starts honcho through this
with an empty env file, because honcho itself would let ``.env`` override the environment.
``ENV_FILE`` names another file (default ``.env`` in the current directory); a missing file is
no error (the defaults apply).
"""

from __future__ import annotations

import os
import sys

from dotenv import dotenv_values


def merged_environ(path: str, environ: dict[str, str]) -> dict[str, str]:
    """``environ`` over the values of the env file at ``path``."""
    file_values = dotenv_values(path) if os.path.exists(path) else {}
    merged = {name: value for name, value in file_values.items() if value is not None}
    merged.update(environ)
    return merged


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: with_env.py COMMAND [ARGS...]")
    environ = merged_environ(os.environ.get("ENV_FILE", ".env"), dict(os.environ))
    os.execvpe(argv[0], argv, environ)


if __name__ == "__main__":
    main(sys.argv[1:])
