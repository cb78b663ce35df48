"""What tests and benchmarks count on the wire: TCP connections to an HTTP upstream, round trips to
PostgreSQL.

``KeepAliveServer`` serves a WSGI app on a free local port over HTTP/1.1 keep-alive (werkzeug's
development server closes every connection, gunicorn cannot run in-process) and counts the
connections it accepts: whether a client reuses its connections shows.

``RoundTripCounter`` is a TCP relay in front of PostgreSQL. Statement events (SQLAlchemy's
``before_cursor_execute``) do not see everything a request waits for: the ``BEGIN`` psycopg sends
before a transaction's first statement, ``COMMIT``, the ``pool_pre_ping`` of each pool checkout.
The relay sees them all. Point an engine at ``RoundTripCounter(url).url`` instead of ``url``;
every time a client sends something after it last heard from the server (or for the first time),
that is one round trip: the client waits for an answer before it goes on. Bytes a client sends
back to back without waiting (a pipeline) are one round trip, as they are on the network. A new
connection's own exchanges (startup, authentication) count too, and ``connections`` tells how
many were opened: warm the pool before counting.
"""

from __future__ import annotations

import itertools
import selectors
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from sqlalchemy.engine import make_url
from werkzeug.serving import DechunkedInput
from werkzeug.wsgi import LimitedStream

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
NO_BODY = {204, 304}


class KeepAliveServer:
    """``app`` served over HTTP/1.1 keep-alive by a thread per connection on a free local port.

    Answers without a Content-Length go chunked; whatever the app left unread of a request body is
    read before the next request on the connection. Enough for tests and benchmarks, not production.
    """

    def __init__(self, app: WSGIApp) -> None:
        self._lock = threading.Lock()
        self._connections = 0
        self.server = _Server(("127.0.0.1", 0), _KeepAliveHandler)
        self.server.daemon_threads = True
        self.server.app = app  # type: ignore[attr-defined]
        self.server.accepted = self._accepted  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="keep-alive-server", daemon=True)
        self.thread.start()

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    def _accepted(self) -> None:
        with self._lock:
            self._connections += 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error here
            super().handle_error(request, client_address)


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are written apart: no 40 ms delayed-ACK stall

    def setup(self) -> None:
        super().setup()
        self.server.accepted()  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if self.parse_request():
            self._run_wsgi()
            self.wfile.flush()

    def _run_wsgi(self) -> None:
        path, _, query = self.path.partition("?")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        body: Any = (
            DechunkedInput(self.rfile)  # type: ignore[arg-type]
            if chunked
            else LimitedStream(self.rfile, int(self.headers.get("Content-Length") or 0))  # type: ignore[arg-type]
        )
        host, port = self.connection.getsockname()[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.input_terminated": chunked,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            started[:] = [status, headers]
            return lambda data: None  # the legacy write() is not supported

        result = self.server.app(environ, start_response)  # type: ignore[attr-defined]
        try:
            chunks = iter(result)
            first = next(chunks, b"")
            status, headers = started
            code = int(status.split(" ", 1)[0])
            bodyless = self.command == "HEAD" or code in NO_BODY
            framed = bodyless or any(name.lower() == "content-length" for name, _value in headers)
            self.send_response_only(code, status.split(" ", 1)[1] if " " in status else None)
            for name, value in headers:
                self.send_header(name, value)
            if not framed:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for data in itertools.chain((first,), chunks) if not bodyless else ():
                if data and framed:
                    self.wfile.write(data)
                elif data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if not framed:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
            while body.read(65536):  # what the app left unread of the request body
                pass


class RoundTripCounter:
    """A relay on a free local port in front of the PostgreSQL server of ``database_url``."""

    def __init__(self, database_url: str) -> None:
        target = make_url(database_url)
        self._target = (target.host or "127.0.0.1", target.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        #: ``database_url`` through the relay.
        self.url = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._round_trips = 0
        self._connections = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="pg-round-trips", daemon=True).start()

    @property
    def round_trips(self) -> int:
        """Round trips through the relay so far (every connection)."""
        with self._lock:
            return self._round_trips

    @property
    def connections(self) -> int:
        """Connections opened through the relay so far."""
        with self._lock:
            return self._connections

    def close(self) -> None:
        """Stop accepting and cut every relayed connection."""
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:  # closed
                return
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += 1
                self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        client_spoke_last = False
        try:
            while True:
                for key, _events in selector.select():
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client and not client_spoke_last:
                        with self._lock:
                            self._round_trips += 1
                    client_spoke_last = source is client
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            server.close()
