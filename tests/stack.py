"""Start the real processes of the Procfile against throw-away databases and a vhost of their own.

Used by the end-to-end tests (``tests/conftest.py``) and by ``bench/bench_gateway.py``. Each
Procfile line runs as ``/bin/sh -c <command>`` (as honcho runs it) in its own process group, with
ports, database URLs and the broker URL given through the environment; output goes to one log
file per process. ``stop()`` sends SIGTERM to every group, then SIGKILL to what is left.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
PROCFILE = REPO_ROOT / "Procfile"
SERVICES = ("gateway", "billing", "customers", "contacts", "reminders", "reporting")
UPSTREAMS = ("billing", "customers", "contacts", "reminders", "reporting")
ADMIN_USERNAME = "e2e-admin"
ADMIN_PASSWORD = "e2e-admin-password"
_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")  # the same rule as honcho's
#: ``env METRICS_PORT=${CUSTOMERS_WORKER_METRICS_PORT:-9421} python ...``: the variable naming a port.
_METRICS_PORT = re.compile(r"\bMETRICS_PORT=\$\{([A-Z][A-Z0-9_]*):-\d*\}")


def parse_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """``{process name: command}`` in file order."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PROCFILE_LINE.match(line)
        if match:
            processes[match.group(1)] = match.group(2).strip()
    return processes


def service_of(process: str) -> str:
    """The service a Procfile process belongs to (``customers-worker`` -> ``customers``)."""
    return "gateway" if process.startswith("gateway") else process.split("-", 1)[0]


def is_http(command: str) -> bool:
    return command.split()[0] == "gunicorn"


def metrics_port_variable(command: str) -> str | None:
    """The variable a relay's or worker's Procfile command takes its metrics port from, if any."""
    match = _METRICS_PORT.search(command)
    return match.group(1) if match else None


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still exists."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


#: Ports handed to the stack's processes come from below the kernel's ephemeral range (32768-60999
#: on Linux), where bind(0) and every outgoing connection (to PostgreSQL, RabbitMQ) take theirs: a port
#: found free here is not taken by a connection before its process binds it.
_PORTS = list(range(20000, 32000))
_PORTS_LOCK = threading.Lock()


def free_port() -> int:
    """A port nobody listens on now, each handed out once per test session."""
    with _PORTS_LOCK:
        while _PORTS:
            port = _PORTS.pop(random.randrange(len(_PORTS)))
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port left in 20000-31999")


def processes_for(services) -> list[str]:
    """Every Procfile process of the given services."""
    wanted = set(services)
    return [name for name in parse_procfile() if service_of(name) in wanted]


def importable_services() -> list[str]:
    """Services whose code is there to run (wsgi.py and worker.py exist), in SERVICES order."""
    found = []
    for service in SERVICES:
        base = REPO_ROOT / ("gateway" if service == "gateway" else f"services/{service}")
        if (base / "wsgi.py").exists() and (base / "worker.py").exists() and (base / "migrations").is_dir():
            found.append(service)
    return found


@dataclass
class Stack:
    """The running processes of some services, on the given databases and broker."""

    database_urls: dict[str, str]
    amqp_url: str
    log_dir: Path
    services: tuple[str, ...] = SERVICES
    extra_env: dict = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    ready_after: dict[str, float] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)
    #: ``{process: port}``: the metrics port of each relay and worker started (a free one each).
    metrics_ports: dict[str, int] = field(default_factory=dict)
    #: ``{process: n}``: run a process n times, as ``honcho -c`` does; the extra instances are
    #: ``<process>.2`` … ``<process>.n`` with the same command and environment (e.g. worker replicas).
    replicas: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.services = tuple(self.services)
        self.log_dir = Path(self.log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            self.ports.setdefault(service, free_port())
        self.commands = {name: cmd for name, cmd in parse_procfile().items() if service_of(name) in self.services}
        for name, count in self.replicas.items():
            if name in self.commands:
                self.commands.update({f"{name}.{i}": self.commands[name] for i in range(2, count + 1)})

    # -- environment ------------------------------------------------------------------------
    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def metrics_url(self, process: str) -> str:
        """Where a relay or worker of this stack (replicas included) serves its Prometheus metrics."""
        return f"http://127.0.0.1:{self.metrics_ports[process]}/metrics"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    def env(self, process: str | None = None) -> dict[str, str]:
        """The environment of a process; only the gateway's HTTP process holds the token-signing key."""
        from shared.testing import session_key_files

        private_key, public_key = session_key_files()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith("_DATABASE_URL") and k not in ("DATABASE_URL", "PORT", "JWT_PRIVATE_KEY_FILE")
        }
        bin_dir = str(Path(sys.executable).parent)
        env.update(
            {
                "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
                "PYTHONUNBUFFERED": "1",
                "AMQP_URL": self.amqp_url,
                # The test session's key pair (shared.testing signs its tokens with it); production
                # mode, so the processes check their keys as a deployment does.
                "JWT_PUBLIC_KEY_FILE": public_key,
                "APP_ENV": "production",
                "ADMIN_USERNAME": ADMIN_USERNAME,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "BIND_HOST": "127.0.0.1",
                "VAR_DIR": str(self.log_dir / "var"),
                "LOG_LEVEL": env.get("E2E_LOG_LEVEL", "INFO"),
                "WEB_CONCURRENCY": env.get("E2E_WEB_CONCURRENCY", "2"),
            }
        )
        for service in SERVICES:
            env[f"{service.upper()}_PORT"] = str(self.ports[service])
        for service in UPSTREAMS:
            env[f"{service.upper()}_URL"] = self.url(service)
        for service, url in self.database_urls.items():
            env[f"{service.upper()}_DATABASE_URL"] = url
        if process is not None and service_of(process) == "gateway" and is_http(self.commands.get(process, "")):
            env["JWT_PRIVATE_KEY_FILE"] = private_key
        variable = metrics_port_variable(self.commands.get(process, "")) if process is not None else None
        if variable:
            # A free port per process instance, so replicas and parallel stacks never collide.
            env[variable] = str(self.metrics_ports.setdefault(process, free_port()))
        env.update(self.extra_env)
        return env

    # -- lifecycle --------------------------------------------------------------------------
    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, names=None) -> Stack:
        """Start the named processes (default: every process of the stack's services)."""
        for name in names or self.commands:
            if name in self.procs and self.procs[name].poll() is None:
                continue
            log = open(self.log_path(name), "ab")  # noqa: SIM115 - owned by the child
            log.write(f"--- {time.strftime('%H:%M:%S')} start: {self.commands[name]}\n".encode())
            log.flush()
            # As honcho runs it (a shell expands the ${VAR:-default}s), with exec so the process is the
            # group leader and its exit status is the command's own.
            self.procs[name] = subprocess.Popen(
                ["/bin/sh", "-c", "exec " + self.commands[name]],
                cwd=REPO_ROOT,
                env=self.env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
        return self

    def signal(self, name: str, sig: int) -> None:
        """Send ``sig`` to the process group of one process (e.g. SIGKILL for fault tests)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)

    def kill(self, name: str, sig: int | None = None, timeout: float = 10.0) -> int | None:
        """Send ``sig`` to one process's group and wait until the group is gone (fault tests).

        ``sig`` defaults to SIGKILL. Returns the leader's exit status (negative signal number when
        killed by one); None if it is still there after ``timeout`` (e.g. a SIGTERM it ignores).
        """
        proc = self.procs[name]
        self.signal(name, signal.SIGKILL if sig is None else sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader so its group can disappear
            if not group_alive(proc.pid):
                break
            time.sleep(0.05)
        return proc.poll()

    def restart(self, name: str, timeout: float = 60.0) -> None:
        """Start one process again (SIGTERM, then SIGKILL, first if it still runs) and wait for it:
        ``/readyz`` for an HTTP process, a consumer on its queue for a worker."""
        proc = self.procs.get(name)
        if (
            proc is not None
            and (proc.poll() is None or group_alive(proc.pid))
            and (self.kill(name, signal.SIGTERM, timeout=15.0) is None or group_alive(proc.pid))
        ):
            self.kill(name, signal.SIGKILL)
        self.start([name])
        deadline = time.monotonic() + timeout
        if is_http(self.commands[name]):
            service = service_of(name)
            while True:
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited on restart\n{self.tails([name])}")
                with contextlib.suppress(requests.RequestException):
                    if requests.get(self.url(service) + "/readyz", timeout=2).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready within {timeout}s after a restart\n{self.tails([name])}")
                time.sleep(0.2)
        elif name.endswith("-worker"):
            wait_consumers(self.amqp_url, [service_of(name)], timeout=timeout, stack=self)

    def stop(self, names=None, timeout: float = 15.0) -> None:
        """SIGTERM the process groups, wait until they are gone, then SIGKILL whatever is left."""
        names = [name for name in (names or self.procs) if name in self.procs]
        for name in names:
            self.signal(name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(group_alive(self.procs[n].pid) for n in names) and time.monotonic() < deadline:
            for name in names:
                self.procs[name].poll()  # reap the leader so its group can disappear
            time.sleep(0.05)
        self.killed = sorted(n for n in names if group_alive(self.procs[n].pid))
        for name in self.killed:
            # The group may outlive its leader (gunicorn workers); kill it whole.
            self.signal(name, signal.SIGKILL)
        for name in names:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.procs[name].wait(timeout=5)
        gone_by = time.monotonic() + 5
        while any(group_alive(self.procs[n].pid) for n in names) and time.monotonic() < gone_by:
            time.sleep(0.05)

    def dead(self) -> dict[str, int]:
        """Processes that exited, with their return codes."""
        return {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}

    def http_processes(self) -> dict[str, str]:
        """``{process name: service}`` of the HTTP processes."""
        return {name: service_of(name) for name, cmd in self.commands.items() if is_http(cmd)}

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every HTTP process answers ``/readyz`` with 200; fail early if a process dies."""
        waiting = dict(self.http_processes())
        started = time.monotonic()
        deadline = started + timeout
        while waiting:
            dead = self.dead()
            if dead:
                raise RuntimeError(f"processes exited during start-up: {dead}\n{self.tails(list(dead))}")
            for name, service in list(waiting.items()):
                with contextlib.suppress(requests.RequestException):
                    if requests.get(self.url(service) + "/readyz", timeout=2).status_code == 200:
                        del waiting[name]
                        self.ready_after[name] = round(time.monotonic() - started, 2)
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready within {timeout}s: {sorted(waiting)}\n{self.tails(list(waiting))}")
            time.sleep(0.2)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_path(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def tails(self, names=None, lines: int = 40) -> str:
        return "\n".join(
            f"===== {name} (last {lines} lines of {self.log_path(name)}) =====\n{self.tail(name, lines)}"
            for name in (names or self.procs)
        )

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the broker, seen from outside (rabbitmqctl, or the management API when configured) ---------
def _vhost_of(amqp_url: str) -> str:
    import pika

    return pika.URLParameters(amqp_url).virtual_host


def _rabbitmqctl() -> str:
    return shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"


def queue_stats(amqp_url: str) -> dict[str, dict]:
    """``{queue: {"messages": n, "consumers": n}}`` of the URL's vhost."""
    management = os.environ.get("RABBITMQ_MANAGEMENT_URL")
    vhost = _vhost_of(amqp_url)
    if management:
        from urllib.parse import quote, urlsplit

        parts = urlsplit(amqp_url)
        response = requests.get(
            f"{management.rstrip('/')}/api/queues/{quote(vhost, safe='')}",
            auth=(parts.username or "guest", parts.password or "guest"),
            timeout=10,
        )
        response.raise_for_status()
        return {
            q["name"]: {"messages": q.get("messages", 0), "consumers": q.get("consumers", 0)} for q in response.json()
        }
    out = subprocess.run(
        [_rabbitmqctl(), "list_queues", "-q", "-p", vhost, "name", "messages", "consumers", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"rabbitmqctl list_queues failed: {out.stderr.strip()}")
    stats = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            stats[parts[0]] = {"messages": int(parts[1]), "consumers": int(parts[2])}
    return stats


def wait_consumers(amqp_url: str, consumers, timeout: float = 60.0, stack: Stack | None = None) -> None:
    """Wait until each consumer's queue ``<consumer>.events`` exists and has a consumer attached."""
    deadline = time.monotonic() + timeout
    missing = list(consumers)
    while missing:
        if stack is not None and stack.dead():
            raise RuntimeError(f"processes exited: {stack.dead()}\n{stack.tails(list(stack.dead()))}")
        stats = queue_stats(amqp_url)
        missing = [c for c in consumers if stats.get(f"{c}.events", {}).get("consumers", 0) < 1]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no consumer on the queues of {missing} within {timeout}s")
        time.sleep(0.5)


def broker_up(amqp_url: str) -> bool:
    import pika

    try:
        params = pika.URLParameters(amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 3
        pika.BlockingConnection(params).close()
        return True
    except Exception:
        return False


def restart_broker(amqp_url: str, down_seconds: float = 5.0, timeout: float = 120.0) -> None:
    """Stop and start the RabbitMQ application of the local node (affects every vhost!)."""
    ctl = _rabbitmqctl()
    subprocess.run([ctl, "stop_app"], check=True, capture_output=True, timeout=120)
    time.sleep(down_seconds)
    subprocess.run([ctl, "start_app"], check=True, capture_output=True, timeout=120)
    subprocess.run([ctl, "await_startup"], capture_output=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    while not broker_up(amqp_url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"RabbitMQ did not come back within {timeout}s")
        time.sleep(0.5)


# -- the stack without pytest (the benchmark) --------------------------------------------------
@contextlib.contextmanager
def standalone_stack(
    services=None,
    log_dir: Path | None = None,
    extra_env: dict | None = None,
    ready_timeout: float = 90.0,
    replicas: dict[str, int] | None = None,
):
    """Databases, a vhost and the processes of ``services`` (default: all that exist), torn down after;
    ``replicas`` as ``Stack``'s."""
    import tempfile
    import uuid

    from shared.testing import DEFAULT_AMQP, DEFAULT_PG, DatabaseFactory, VhostAdmin, _with_vhost

    services = tuple(services or importable_services())
    databases = DatabaseFactory(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    server = os.environ.get("TEST_AMQP_URL", DEFAULT_AMQP)
    vhosts = VhostAdmin(server)
    vhost = f"stack-{uuid.uuid4().hex[:10]}"
    vhosts.add(vhost)
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="stack-logs-"))
    stack = None
    try:
        urls = {service: databases.create(service, service=service) for service in services}
        stack = Stack(
            urls,
            _with_vhost(server, vhost),
            log_dir,
            services=services,
            extra_env=extra_env or {},
            replicas=dict(replicas or {}),
        )
        stack.start()
        stack.wait_ready(ready_timeout)
        yield stack
    finally:
        if stack is not None:
            stack.stop()
        databases.drop_all()
        vhosts.delete(vhost)
