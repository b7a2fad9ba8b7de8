# Cartable — the two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := cartable.settings

.PHONY: demo test test-only lint bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## demo: set up everything on SQLite, seed a demo établissement, print logins, serve on 127.0.0.1:$(PORT)
# The demo's address follows PORT (letters, QR codes and e-mails print it) unless SITE_URL is set.
SITE_URL ?= http://127.0.0.1:$(PORT)
DEMO_ENV := DEMO=true SITE_URL=$(SITE_URL)

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py createcachetable
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/gunicorn cartable.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --timeout 120 --access-logfile -

## test: install test dependencies (Python packages, Debian's chromium) and run the whole suite
test: install-test
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-oidc-provider.sh
	$(MAKE) --no-print-directory test-only

test-only: lint
	$(BIN)/pytest -n 2 --dist loadfile -q

lint:
	$(BIN)/ruff check cartable bench
	$(BIN)/mypy cartable
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run > /dev/null

## bench: run every benchmark (bench/*.py); results in bench/results/, explained in bench/README.md
bench: install-test
	@set -e; for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) var
