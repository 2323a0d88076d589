# Wales NRM service image, in two stages:
# * builder: builds the project's wheel (app and its migrations) from the source;
# * runtime: installs that wheel and only the runtime dependencies it declares, at the exact
#   versions of requirements.lock (used as constraints, so its development tools are skipped),
#   and runs as a non-root user whose data folder holds the default SQLite database; Debian's
#   fonts-dejavu-core gives the decision letters their font.
# docker-compose.yml runs it against PostgreSQL with separate migration and service roles.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN pip install setuptools==80.9.0
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY migrations ./migrations
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NRM_DATABASE_URL=sqlite+aiosqlite:////var/lib/nrm/nrm.db
# DejaVu Sans is embedded in every decision letter (docs/letters.md): it has every Welsh letter.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/nrm --create-home nrm
COPY requirements.lock /tmp/requirements.lock
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --constraint /tmp/requirements.lock /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/requirements.lock
USER nrm
WORKDIR /var/lib/nrm
VOLUME ["/var/lib/nrm"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
# Migrate (idempotent), then serve with NRM_WORKERS processes (default 1). docker-compose.yml
# replaces this with a one-shot `migrate` service and an `app` service that only serves.
CMD ["sh", "-c", "nrm db upgrade && exec nrm serve --host 0.0.0.0 --port 8000"]
