"""Reproducible installs: every process installs the exact, hash-checked versions of requirements/.

`make run`, `make test` and CI install requirements/dev.txt; the image installs requirements/runtime.txt,
which must hold no process manager and no test tool. Both must satisfy pyproject.toml's ranges (a
stale lock after a range change fails here) and the virtualenv running this suite must be the lock.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .stack import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _locked(name: str) -> dict[str, str]:
    text = (REPO_ROOT / "requirements" / name).read_text()
    pins = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    assert pins, f"requirements/{name} pins nothing"
    # Every pin carries hashes, so `pip install --require-hashes` accepts the file.
    assert text.count("==") <= text.count("--hash=sha256:"), f"requirements/{name} has pins without hashes"
    return pins


def _requirements(*extras: str) -> list[Requirement]:
    listed = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        listed += PYPROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


def _check_satisfied(pins: dict[str, str], requirements: list[Requirement]) -> None:
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in the lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"locked {name}=={pins[name]} does not satisfy {requirement}: run `make lock`"
        )


def test_runtime_lock_satisfies_the_runtime_ranges_and_holds_no_tools():
    pins = _locked("runtime.txt")
    _check_satisfied(pins, _requirements())
    tools = {canonicalize_name(r.name) for r in _requirements("run", "test", "dev")}
    runtime = {canonicalize_name(r.name) for r in _requirements()}
    assert not (tools - runtime) & set(pins), "the image's lock must not install honcho or test tools"


def test_dev_lock_satisfies_every_range_and_agrees_with_the_runtime_lock():
    dev = _locked("dev.txt")
    _check_satisfied(dev, _requirements("run", "test", "dev"))
    runtime = _locked("runtime.txt")
    differing = {
        name: (version, dev.get(name)) for name, version in runtime.items() if name in dev and dev[name] != version
    }
    assert not differing, f"the image and the tests would run different versions: {differing}"


def test_this_environment_is_the_lock():
    # Platform-only pins (pywin32, colorama on Windows) are not installed here.
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    mismatched = {
        name: (version, installed[name])
        for name, version in _locked("dev.txt").items()
        if name in installed and installed[name] != version
    }
    assert not mismatched, f"installed versions differ from requirements/dev.txt: {mismatched}"


def test_every_install_path_uses_the_lock():
    makefile = (REPO_ROOT / "Makefile").read_text()
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r $(LOCK)" in makefile and "LOCK := requirements/dev.txt" in makefile
    assert "--require-hashes -r requirements/runtime.txt" in dockerfile
    for command in re.findall(r"pip install [^\n]*", makefile + dockerfile):
        assert "--require-hashes" in command or "--no-deps" in command, (
            f"{command!r} resolves dependencies outside the lock"
        )
