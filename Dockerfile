# One image for every Python process (gateway, APIs, relays, workers, migrations); the
# command chooses the process, exactly as a Procfile line does.

# The web UI is built in a Node stage (the exact packages of web/package-lock.json); only its
# static files (web/dist) go into the final image, where the gateway serves them.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BIND_HOST=0.0.0.0 \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first (cached while only the code changes): the runtime lock, hash-checked (no
# honcho, no test tools), then the code itself, editable, so each service's migrations/ and static
# files stay where shared.migrations looks for them.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml gunicorn.conf.py Procfile ./
COPY shared/ shared/
COPY gateway/ gateway/
COPY services/ services/
COPY --from=web /web/dist web/dist
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /app/var && chown app /app/var

USER app
EXPOSE 8000 8001 8002 8003 8004 8005
# Overridden per process by docker-compose.yml.
CMD ["sh", "-c", "gunicorn -c gunicorn.conf.py -b ${BIND_HOST:-127.0.0.1}:${GATEWAY_PORT:-8000} gateway.wsgi:app"]
