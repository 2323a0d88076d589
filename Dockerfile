# Wales NRM service image: the same lock file and commands as the Makefile.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/nrm
COPY requirements.lock pyproject.toml README.md alembic.ini ./
RUN pip install --no-cache-dir -r requirements.lock
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps -e . \
    && useradd --system --home /srv/nrm nrm
USER nrm
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "nrm db upgrade && nrm serve --host 0.0.0.0 --port 8000 --workers ${NRM_WORKERS:-2}"]
