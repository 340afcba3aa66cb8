# syntax=docker/dockerfile:1
# quipu: the platform and its four plugins, served by Granian as a non-root user.
#
#   docker build -t quipu .            (or: buildah bud -t quipu .)
#   docker run -p 8002:8002 -e API_KEY=... -e REDIS_URL=redis://redis:6379/0 quipu
#
# Reproducible: the workspace is installed from uv.lock (--locked fails if it is stale),
# uv itself is pinned, and the base image can be pinned by digest with
# --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:... . The final stage has
# the interpreter, the virtual environment and nothing else (no uv, no compilers, no sources).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
# UV_NATIVE_TLS: trust the system CA store (where proxies' CAs are installed), not only uv's own.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NATIVE_TLS=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
# Third-party dependencies first: this layer is reused until uv.lock changes.
COPY pyproject.toml uv.lock ./
COPY core/pyproject.toml core/README.md core/
COPY plugins/dte/pyproject.toml plugins/dte/README.md plugins/dte/
COPY plugins/payroll/pyproject.toml plugins/payroll/README.md plugins/payroll/
COPY plugins/previred/pyproject.toml plugins/previred/README.md plugins/previred/
COPY plugins/chat/pyproject.toml plugins/chat/README.md plugins/chat/
RUN /opt/uv/bin/uv sync --locked --no-default-groups --no-install-workspace --python python3
# Then the platform and the plugins, as wheels (--no-editable): /src is not needed at run time.
COPY core/src core/src
COPY plugins/dte/src plugins/dte/src
COPY plugins/payroll/src plugins/payroll/src
COPY plugins/previred/src plugins/previred/src
COPY plugins/chat/src plugins/chat/src
RUN /opt/uv/bin/uv sync --locked --no-default-groups --no-editable --python python3

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 quipu \
    && useradd --uid 10001 --gid quipu --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin quipu
COPY --from=build /app/.venv /app/.venv
COPY platform.toml /app/platform.toml
# HOST: listen on every interface of the container (platform.toml says 127.0.0.1 for `make run`).
# QUIPU_WORKERS: one Granian worker per container; scale with replicas (and CPU limits) instead.
ENV PATH=/app/.venv/bin:$PATH \
    QUIPU_CONFIG=/app/platform.toml \
    HOST=0.0.0.0 \
    PORT=8002 \
    QUIPU_WORKERS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8002
# /ready: 200 once start-up finished and until shut-down begins (no API key needed).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8002') + '/ready', timeout=2)"]
# Granian drains in-flight requests on SIGTERM before it exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["quipu"]
CMD ["serve"]
