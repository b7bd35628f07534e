# syntax=docker/dockerfile:1
# The crm image: `crm serve` by default; the same image runs `crm worker` and the other `crm` commands.
# Dependencies come from requirements.lock (scripts/lock.sh): exact versions, every file checked by its hash.

# --- build: a virtualenv with the locked dependencies and the project's wheel --------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/crm
WORKDIR /src
COPY requirements.lock ./
RUN /opt/crm/bin/pip install --require-hashes --no-deps --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
# The project itself (not in the lock: it is this source); its dependencies are already in place.
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/crm/bin/pip install --no-deps /wheels/crm-*.whl \
    && /opt/crm/bin/pip check

# --- runtime: the virtualenv, a non-root user, nothing else ------------------------------------------------
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/crm/bin:$PATH \
    CRM_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --user-group crm \
    && mkdir -p /data \
    && chown crm:crm /data \
    && chmod 0700 /data
COPY --from=build /opt/crm /opt/crm

USER 10001:10001
WORKDIR /home/crm
VOLUME ["/data"]
EXPOSE 8000
# Liveness of the API (no curl in the image: Python's own client). The worker's compose service replaces it
# with a check of its heartbeat file.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=3)"]
CMD ["crm", "serve", "--host", "0.0.0.0", "--port", "8000"]
