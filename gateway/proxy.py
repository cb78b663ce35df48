"""Forwarding ``/api/v1/...`` to the service that owns the path, streaming both ways.

Each thread keeps its own connection pools (nothing HTTP is shared across threads, and gunicorn's
thread or process workers each get their own): a ``urllib3.PoolManager`` for forwarding, the hot
path (urllib3 directly costs half the CPU of ``requests`` per call), and a ``requests.Session`` for
the fan-out calls (dead letters, OpenAPI documents). A forwarded answer is streamed back; once its
body has been read to the end, its keep-alive connection goes back to the thread's pool and the
next call reuses it (no new TCP connection). A body left unread (the client went away
mid-download) closes its connection instead, so no half-read answer is ever reused.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote, urlsplit

import requests
import urllib3
from flask import Flask, Response, g, request
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as UpstreamTimeout

from shared.web import current_settings, problem

from .settings import ROUTES, GatewaySettings

log = logging.getLogger(__name__)

FORWARDED_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Accept",
    "Accept-Language",
    "If-None-Match",
    "If-Modified-Since",
)
# Hop-by-hop headers (RFC 9110 7.6.1) stay on their own connection; Server and Date are the gateway's own.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "server",
    "date",
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CHUNK = 64 * 1024
UPLOAD_TYPES = ("multipart/form-data", "application/octet-stream")
#: Characters a forwarded query string keeps as they are: any other byte (a raw non-ASCII one, a
#: space, a "#" that would cut the query short) is percent-encoded; an existing %XX escape stays.
QUERY_SAFE = "!$%&'()*+,/:;=?@[]~"
#: An upstream's gunicorn closes a keep-alive connection idle for ``keepalive`` seconds (5,
#: gunicorn.conf.py). A thread whose connections have been idle longer than this opens new ones
#: instead of racing that close (a request sent as the upstream closes would be a 502).
MAX_IDLE_SECONDS = 4.0

_local = threading.local()
# Fan-out calls (dead letters, OpenAPI) run here; threads start on first use, never at import.
_fan_out_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="gateway-fan-out")


def fan_out(function, items) -> list:
    """``function`` applied to each item concurrently (each pool thread has its own HTTP session)."""
    return list(_fan_out_pool.map(function, items))


def get_from_each(services, path: str, params=None, headers=None) -> list[tuple[str, dict | None, str | None]]:
    """``GET path`` from each service concurrently: ``(service, JSON body or None, why not)``.

    A service that is down, slow (the docs timeout) or answers other than 200 with JSON is
    reported with the reason instead of failing the whole answer.
    """
    cfg = config()

    def fetch(service: str):
        try:
            answer = http_session().get(
                f"{cfg.upstreams[service]}{path}",
                params=params,
                headers=headers,
                timeout=(cfg.upstream_connect_timeout, cfg.upstream_docs_timeout),
            )
        except requests.RequestException as exc:
            return service, None, f"unreachable ({type(exc).__name__})"
        if answer.status_code != 200:
            return service, None, f"answered {answer.status_code}"
        try:
            return service, answer.json(), None
        except ValueError:
            return service, None, "answered something that is not JSON"

    return fan_out(fetch, list(services))


def http_session() -> requests.Session:
    """This thread's HTTP session to the upstream services."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # an HTTP_PROXY meant for the internet must not catch service calls
        _local.session = session
    return session


def upstream_pools() -> urllib3.PoolManager:
    """This thread's connection pools to the upstream services (one keep-alive connection each)."""
    manager = getattr(_local, "pools", None)
    if manager is None:
        # One connection per upstream is enough for one thread; retries=False: a request body is
        # streamed from the client once, so nothing is ever sent twice.
        manager = urllib3.PoolManager(num_pools=16, maxsize=1, block=False, retries=False, blocksize=CHUNK)
        _local.pools = manager
    elif time.monotonic() - _local.idle_since > MAX_IDLE_SECONDS:
        manager.clear()  # closes the connections the upstreams may be closing now
    _local.idle_since = time.monotonic()
    return manager


def config() -> GatewaySettings:
    """The gateway's settings (upstream URLs and timeouts)."""
    return current_settings(GatewaySettings)


def owner_of(path: str) -> str | None:
    """The service owning ``/api/v1/<path>`` (longest matching prefix), or None."""
    best = None
    for prefix, service in ROUTES.items():
        if (path == prefix or path.startswith(prefix + "/")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, service)
    return best[1] if best else None


class BodyTooLarge(Exception):
    pass


class _LimitedBody:
    """The client's body as a file for the upstream call: read in chunks, stopped past ``limit`` bytes."""

    def __init__(self, stream, limit: int, length: int | None):
        self.stream, self.limit, self.length, self.read_bytes = stream, limit, length, 0

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.stream.read(size if size and size > 0 else CHUNK)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise BodyTooLarge()
        return chunk

    def __iter__(self):
        while chunk := self.read(CHUNK):
            yield chunk


def body_limit() -> int:
    settings = config()
    return settings.max_upload_bytes if request.mimetype in UPLOAD_TYPES else settings.max_json_bytes


def too_large(limit: int):
    return problem(413, "Payload too large", f"the request body is limited to {limit} bytes here")


def request_body():
    """What to send upstream: None, or a bounded stream of the client's body (a file when it has a
    Content-Length, which ``forward`` sends along; chunks when it came chunked)."""
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        return None
    stream = request.environ["wsgi.input"] if chunked else request.stream
    if length:
        return _LimitedBody(stream, body_limit(), length)
    return _LimitedBody(stream, body_limit(), None).__iter__()


def upstream_headers() -> dict:
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers["X-Request-ID"] = g.request_id
    # The body goes through unchanged, so ask for what the client accepts (or plain bytes).
    headers["Accept-Encoding"] = request.headers.get("Accept-Encoding", "identity")
    forwarded_for = request.headers.get("X-Forwarded-For")
    client = request.remote_addr or ""
    headers["X-Forwarded-For"] = f"{forwarded_for}, {client}" if forwarded_for else client
    headers["X-Forwarded-Proto"] = request.scheme
    return headers


def forward(service: str, path: str | None = None, method: str | None = None, body=...):
    """Send the current request to ``service`` (same path unless ``path``) and stream its answer back."""
    cfg = config()
    base = cfg.upstreams.get(service)
    if not base:
        return problem(502, "Bad gateway", f"no address is configured for the {service} service")
    length = request.content_length
    limit = body_limit()
    if length and length > limit:
        return too_large(limit)
    # Re-encode the decoded path exactly once (a phone's "+" stays, a space becomes %20).
    url = base + quote(path or request.path, safe="/:@!$&'()*+,;=~")
    if request.query_string:
        url += "?" + quote(request.query_string, safe=QUERY_SAFE)
    headers = upstream_headers()
    if body is ...:
        body = request_body()
        if isinstance(body, _LimitedBody):
            headers["Content-Length"] = str(body.length)  # otherwise urllib3 sends a file chunked
    try:
        upstream = upstream_pools().urlopen(
            method or request.method,
            url,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
            decode_content=False,
            timeout=urllib3.Timeout(connect=cfg.upstream_connect_timeout, read=cfg.upstream_read_timeout),
        )
    except BodyTooLarge:
        return too_large(limit)
    except NewConnectionError as exc:  # (a ConnectTimeoutError by urllib3's hierarchy, but refused)
        return unavailable(service, url, exc)
    except UpstreamTimeout:
        log.warning("upstream timed out", extra={"service": service, "url": url})
        return problem(504, "Gateway timeout", f"the {service} service did not answer in time")
    except HTTPError as exc:
        return unavailable(service, url, exc)
    return relay_response(upstream)


def unavailable(service: str, url: str, exc: Exception) -> Response:
    log.warning("upstream unavailable", extra={"service": service, "url": url, "error": type(exc).__name__})
    return problem(502, "Bad gateway", f"the {service} service is unavailable")


def relay_response(upstream: urllib3.BaseHTTPResponse) -> Response:
    """The upstream answer as a streamed Flask response (status, headers and bytes unchanged).

    The connection goes back to this thread's pool once the body has been read to its end; when it
    was not (the client went away, the WSGI server never read it), the connection is closed instead.
    """
    headers = [(k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP]
    read_to_end = False

    def body():
        nonlocal read_to_end
        yield from upstream.stream(CHUNK, decode_content=False)
        read_to_end = True

    def finish() -> None:
        if not read_to_end:
            upstream.close()  # unread bytes would be taken for the next answer on this connection
        upstream.release_conn()  # (a closed connection is reopened when next taken from the pool)
        _local.idle_since = time.monotonic()

    response = Response(body(), status=upstream.status, headers=headers, direct_passthrough=True)
    response.call_on_close(finish)
    return response


def _segments(path: str, *, encoded: bool) -> list[str]:
    segments = path.split("/")
    return [unquote(segment) for segment in segments] if encoded else segments


def has_path_tricks() -> bool:
    """Whether the path has a ``.``/``..`` segment or a slash or backslash inside a segment, as sent
    (``%2e%2e``, ``%2f``, ``%5c``) or decoded. The upstream call would resolve such a path to another
    route (or another service's), so it is refused instead of being forwarded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw_path = raw.split("?", 1)[0] if raw.startswith("/") else urlsplit(raw).path
    for path, encoded in ((request.path, False), (raw_path, True)):
        for segment in _segments(path, encoded=encoded):
            if segment in (".", "..") or "/" in segment or "\\" in segment:
                return True
    return False


def proxy_view(path: str = ""):
    if has_path_tricks():
        return problem(404, "Not found", "paths with dot segments or encoded separators are not served")
    full = request.path.removeprefix("/api/v1")
    service = owner_of(full)
    if service is None:  # pragma: no cover - only owned prefixes are routed here
        return problem(404, "Not found", "no service owns this path")
    return forward(service)


def register_routes(app: Flask) -> None:
    """One URL rule per owned prefix (and everything under it), so unknown paths stay 404."""
    for prefix in ROUTES:
        app.add_url_rule(
            f"/api/v1{prefix}",
            endpoint=f"proxy{prefix.replace('/', '.')}",
            view_func=proxy_view,
            methods=METHODS,
            provide_automatic_options=False,
        )
        app.add_url_rule(
            f"/api/v1{prefix}/<path:path>",
            endpoint=f"proxy{prefix.replace('/', '.')}.sub",
            view_func=proxy_view,
            methods=METHODS,
            provide_automatic_options=False,
        )
