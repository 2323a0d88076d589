# Wales NRM — the two commands of the README, and the pieces they are made of.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NRM_DATABASE_URL ?= sqlite+aiosqlite:///./nrm.db
# `make run HOST=0.0.0.0 PORT=8080` serves elsewhere.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint typecheck imports pytest lock serve clean

## make run: create the virtualenv, install, migrate, load demo data, serve on SQLite.
run: $(STAMP)
	$(BIN)/nrm db upgrade
	$(BIN)/nrm seed demo
	$(BIN)/nrm serve --host $(HOST) --port $(PORT)

## make test: lint, type-check, import contracts and every test on SQLite and PostgreSQL.
test: $(STAMP) lint typecheck imports pytest

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3 setuptools==80.9.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	NRM_ENV=test $(BIN)/pytest -n 2 --dist loadgroup -q

## make lock: re-pin every dependency after changing pyproject.toml. One lock holds the runtime
## and the development tools; the Docker image uses it as constraints on the wheel's own
## dependencies, so it installs the runtime ones only, at these versions.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e '.[dev]'
	(echo '# Exact versions that `make` installs. Regenerate with `make lock` after changing pyproject.toml.'; \
	 .lockvenv/bin/pip freeze --exclude-editable | grep -v '^wales-nrm') > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache nrm.db nrm.db-wal nrm.db-shm
