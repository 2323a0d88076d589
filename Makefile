# Wales NRM — the two commands of the README, and the pieces they are made of.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NRM_DATABASE_URL ?= sqlite+aiosqlite:///./nrm.db
# `make run HOST=0.0.0.0 PORT=8080` serves elsewhere.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint typecheck imports pytest lock serve clean assets browser \
	i18n-extract i18n-update i18n-compile screenshots

## make run: create the virtualenv, install, migrate, load demo data, serve on SQLite.
run: $(STAMP)
	$(BIN)/nrm db upgrade
	$(BIN)/nrm seed demo
	$(BIN)/nrm serve --host $(HOST) --port $(PORT)

## make test: lint, type-check, import contracts and every test on SQLite and PostgreSQL.
test: $(STAMP) browser lint typecheck imports pytest

venv: $(STAMP)

## The decision letters' font (docs/letters.md): DejaVu Sans, which has every Welsh letter, from
## Debian's fonts-dejavu-core (NRM_LETTER_FONT_DIR points elsewhere).
LETTER_FONT ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

$(STAMP): requirements.lock pyproject.toml
	test -f $(LETTER_FONT) || (apt-get update -qq && apt-get install -y -qq fonts-dejavu-core)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3 setuptools==80.9.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The browser tests' tools: Debian's Chromium (no browser can be downloaded) and the locked
## npm packages (axe-core; govuk-frontend and sass for `make assets`).
CHROMIUM ?= /usr/bin/chromium
NODE_STAMP := node_modules/.installed

browser: $(NODE_STAMP)
	test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

## make assets: rebuild the web service's CSS and JavaScript from node_modules (committed).
assets: $(NODE_STAMP)
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
	  --silence-deprecation=import --load-path=node_modules \
	  app/web/assets/app.scss app/web/static/app.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js app/web/static/
	cp app/web/assets/init.js app/web/static/init.js

## The catalogues (docs/architecture.md, "The web layer"): extract the messages, merge them
## into the Welsh catalogue, compile it (the .mo is committed, so a plain install serves Welsh).
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
	  -o app/i18n/locale/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i app/i18n/locale/messages.pot -d app/i18n/locale -D messages \
	  --width 100 --no-fuzzy-matching --ignore-obsolete

i18n-compile: $(STAMP)
	$(BIN)/pybabel compile -d app/i18n/locale -D messages --statistics

## make screenshots: every page of the first responder's and the decision maker's journeys, as PNGs
## in out/screenshots (for review; not part of make test).
screenshots: $(STAMP) browser
	NRM_ENV=test $(BIN)/python -m tests.web.screenshots out/screenshots

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
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache nrm.db nrm.db-wal nrm.db-shm mail
