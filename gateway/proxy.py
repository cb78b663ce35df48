"""Forwarding ``/api/v1/...`` to the service that owns the path, streaming both ways.

Each thread keeps its own ``requests.Session`` (connection pool): sessions are not shared
across threads, and gunicorn's thread or process workers each get their own.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote, urlsplit

import requests
from flask import Flask, Response, g, request

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
    """The client's body as a file for ``requests``: read in chunks, stopped past ``limit`` bytes."""

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


class _SizedBody(_LimitedBody):
    def __len__(self) -> int:  # requests then sends Content-Length instead of chunked encoding
        return self.length or 0  # only built for a request with a Content-Length


def body_limit() -> int:
    settings = config()
    return settings.max_upload_bytes if request.mimetype in UPLOAD_TYPES else settings.max_json_bytes


def too_large(limit: int):
    return problem(413, "Payload too large", f"the request body is limited to {limit} bytes here")


def request_body():
    """What to send upstream: None, or a bounded stream of the client's body."""
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        return None
    stream = request.environ["wsgi.input"] if chunked else request.stream
    if length:
        return _SizedBody(stream, body_limit(), length)
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
    try:
        upstream = http_session().request(
            method or request.method,
            url,
            params=request.query_string.decode("latin-1") or None,
            data=request_body() if body is ... else body,
            headers=upstream_headers(),
            stream=True,
            allow_redirects=False,
            timeout=(cfg.upstream_connect_timeout, cfg.upstream_read_timeout),
        )
    except BodyTooLarge:
        return too_large(limit)
    except requests.Timeout:
        log.warning("upstream timed out", extra={"service": service, "url": url})
        return problem(504, "Gateway timeout", f"the {service} service did not answer in time")
    except requests.RequestException as exc:
        if isinstance(getattr(exc, "__context__", None), BodyTooLarge):
            return too_large(limit)
        log.warning("upstream unavailable", extra={"service": service, "url": url, "error": type(exc).__name__})
        return problem(502, "Bad gateway", f"the {service} service is unavailable")
    return relay_response(upstream)


def relay_response(upstream: requests.Response) -> Response:
    """The upstream answer as a streamed Flask response (status, headers and bytes unchanged)."""
    headers = [(k, v) for k, v in upstream.raw.headers.items() if k.lower() not in HOP_BY_HOP]
    body = upstream.raw.stream(CHUNK, decode_content=False)
    response = Response(body, status=upstream.status_code, headers=headers, direct_passthrough=True)
    response.call_on_close(upstream.close)
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
